# SPDX-License-Identifier: ISC
noinst_LIBRARIES += libdirectory.a
libdirectory_a_SOURCES = directory/placeholder.c
