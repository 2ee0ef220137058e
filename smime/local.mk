# SPDX-License-Identifier: ISC
noinst_LIBRARIES += libsmime.a
libsmime_a_SOURCES = smime/placeholder.c
