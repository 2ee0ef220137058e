# SPDX-License-Identifier: ISC
noinst_LIBRARIES += libconf.a
libconf_a_SOURCES = conf/placeholder.c
