# SPDX-License-Identifier: ISC
noinst_LIBRARIES += libmail.a
libmail_a_SOURCES = mail/placeholder.c
