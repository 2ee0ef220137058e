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
	$(CURL_LIBS) $(JANSSON_LIBS) $(OPENSSL_LIBS) $(PTHREAD_LIBS)

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
