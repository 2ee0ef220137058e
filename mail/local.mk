# SPDX-License-Identifier: ISC
noinst_LIBRARIES += libmail.a
libmail_a_SOURCES = \
	mail/encode.h \
	mail/rfc2047.c \
	mail/address.c \
	mail/mime.c mail/mime.h \
	mail/template.c mail/template.h \
	mail/smtp.c mail/transport.h \
	mail/nodelay.c mail/nodelay.h \
	mail/transport.c mail/transport_impl.h mail/graph_mail.c \
	mail/backoff.c

# Tests link only what mail/ needs, so that they do not depend on rooms
# that are still being built.
mail_test_libs = libmail.a libnet.a libcommon.a $(ESMTP_LIBS) $(CURL_LIBS) $(JANSSON_LIBS) \
	$(OPENSSL_LIBS) $(PTHREAD_LIBS)

check_PROGRAMS += tests/unit/test_mail_template
tests_unit_test_mail_template_SOURCES = tests/unit/test_mail_template.c tests/unit/check.h
tests_unit_test_mail_template_LDADD = $(mail_test_libs)
TESTS += tests/unit/test_mail_template

check_PROGRAMS += tests/unit/test_mail_mime
tests_unit_test_mail_mime_SOURCES = tests/unit/test_mail_mime.c tests/unit/check.h
tests_unit_test_mail_mime_LDADD = $(mail_test_libs)
TESTS += tests/unit/test_mail_mime

check_PROGRAMS += tests/tools/mail-send
tests_tools_mail_send_SOURCES = tests/tools/mail-send.c
tests_tools_mail_send_LDADD = $(mail_test_libs)

TESTS += tests/integration/mail_smtp.sh
EXTRA_DIST += tests/integration/mail_smtp.sh tests/tools/smtp-sink.py tests/tools/smtp-lib.sh
