# SPDX-License-Identifier: ISC
# signer/: smimesync-signer, the separate program that alone holds the CA
# keys and the master key, enforces its own policy and keeps the signing
# log. smimesync talks to it through smime/signer.h (the wire format is
# smime/signer_proto.h); it is installed in $(pkglibexecdir), out of PATH.
noinst_LIBRARIES += libsigner.a
libsigner_a_SOURCES = \
	signer/policy.h signer/policy.c \
	signer/signlog.h signer/signlog.c \
	signer/state.h signer/state.c \
	signer/sctx.h signer/sctx_internal.h signer/sctx.c \
	signer/op_cert.c signer/op_revoke.c signer/op_keys.c \
	signer/listen.h signer/listen.c

SIGNER_LIBS = libsigner.a libsmime.a libconf.a libnet.a libcommon.a \
	$(CURL_LIBS) $(JANSSON_LIBS) $(LIBP11_LIBS) $(OPENSSL_LIBS) $(PTHREAD_LIBS)

pkglibexec_PROGRAMS = smimesync-signer
smimesync_signer_SOURCES = signer/main.c
smimesync_signer_LDADD = $(SIGNER_LIBS)

# The same program with fault points compiled in (die:OP, hang:OP in
# SMIMESYNC_SIGNER_FAULT), beside tests/tools/smimesync-crashy, which starts
# it; never installed.
check_PROGRAMS += tests/tools/smimesync-signer
tests_tools_smimesync_signer_SOURCES = signer/main.c signer/sctx.c signer/op_cert.c \
	signer/op_revoke.c signer/op_keys.c
tests_tools_smimesync_signer_CPPFLAGS = $(AM_CPPFLAGS) -DSMIMESYNC_FAULT_INJECTION=1
tests_tools_smimesync_signer_LDADD = $(SIGNER_LIBS)

# Its systemd units (socket activation), with the configured paths filled in,
# installed beside smimesync.service.
signer_units = conf/smimesync-signer.socket conf/smimesync-signer.service
if HAVE_SYSTEMD_UNITDIR
systemdsystemunit_DATA += $(signer_units)
endif
CLEANFILES += $(signer_units)
EXTRA_DIST += conf/smimesync-signer.socket.in conf/smimesync-signer.service.in
$(signer_units): Makefile
	$(AM_V_GEN)$(MKDIR_P) conf && \
	sed -e 's|@pkglibexecdir[@]|$(pkglibexecdir)|g' -e 's|@sysconfdir[@]|$(sysconfdir)|g' \
	    -e 's|@localstatedir[@]|$(localstatedir)|g' \
	    $(top_srcdir)/$@.in >$@.tmp && mv $@.tmp $@

TESTS += tests/integration/signer_units.sh
EXTRA_DIST += tests/integration/signer_units.sh
