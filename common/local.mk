# SPDX-License-Identifier: ISC
noinst_LIBRARIES += libcommon.a
libcommon_a_SOURCES = \
	common/attrs.h \
	common/buf.c common/buf.h \
	common/errbuf.c common/errbuf.h \
	common/log.c common/log.h \
	common/fileutil.c common/fileutil.h \
	common/http.c common/http.h \
	common/strutil.c common/strutil.h \
	common/xalloc.c common/xalloc.h

# The Microsoft Graph client, shared by the Entra ID source (directory/)
# and the Graph mail transport (mail/), over common/http.c: jansson, OpenSSL.
libcommon_a_SOURCES += \
	common/graph.h common/graph_internal.h \
	common/graph_token.c common/graph_call.c
