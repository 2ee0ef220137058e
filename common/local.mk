# SPDX-License-Identifier: ISC
noinst_LIBRARIES += libcommon.a
libcommon_a_SOURCES = \
	common/actor.c common/actor.h \
	common/attrs.h \
	common/buf.c common/buf.h \
	common/dn.c common/dn.h \
	common/errbuf.c common/errbuf.h \
	common/log.c common/log.h \
	common/fileutil.c common/fileutil.h \
	common/mailaddr.c common/mailaddr.h \
	common/strutil.c common/strutil.h \
	common/xalloc.c common/xalloc.h
