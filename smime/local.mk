# SPDX-License-Identifier: ISC
noinst_LIBRARIES += libsmime.a
libsmime_a_SOURCES = \
	smime/types.h smime/ca.h smime/ca_result.h smime/crl.h smime/cert.h smime/escrow.h \
	smime/key.h smime/pkcs12.h \
	smime/smime_internal.h \
	smime/key.c \
	smime/ca_key.h smime/ca_key.c \
	smime/p11.h smime/p11_token.c smime/p11_keygen.c \
	smime/cert.c \
	smime/pkcs7.c \
	smime/csr.c \
	smime/x509util.c \
	smime/profile.c \
	smime/ca_backend.h \
	smime/ca_result.c \
	smime/ca.c \
	smime/ca_local.c \
	smime/issuer.h smime/issuer.c \
	smime/ca_verify.c \
	smime/ca_rest.c \
	smime/ca_cfssl.c \
	smime/ca_ejbca.c \
	smime/ca_sectigo.c \
	smime/ca_helper.c \
	smime/ca_init.c \
	smime/crl.c \
	smime/pkcs12.c smime/pkcs12_gpgsm.c \
	smime/password.c \
	smime/escrow.c \
	smime/escrow_seal.h smime/escrow_seal.c \
	smime/credential.h smime/credential.c \
	smime/signer_policy.h smime/signer_policy.c \
	smime/signer.h smime/signer_internal.h smime/signer_proto.h \
	smime/signer.c smime/signer_proto.c

# smime tests link only what they use, so that they build while other
# rooms are still changing.
smime_test_libs = libsmime.a libnet.a libcommon.a $(CURL_LIBS) $(JANSSON_LIBS) $(LIBP11_LIBS) \
	$(OPENSSL_LIBS) $(PTHREAD_LIBS)

check_PROGRAMS += tests/unit/test_smime_ca
tests_unit_test_smime_ca_SOURCES = tests/unit/test_smime_ca.c tests/unit/check.h
tests_unit_test_smime_ca_LDADD = $(smime_test_libs)
TESTS += tests/unit/test_smime_ca

check_PROGRAMS += tests/unit/test_smime_pkcs12
tests_unit_test_smime_pkcs12_SOURCES = tests/unit/test_smime_pkcs12.c tests/unit/check.h
tests_unit_test_smime_pkcs12_LDADD = $(smime_test_libs)
TESTS += tests/unit/test_smime_pkcs12

check_PROGRAMS += tests/unit/test_smime_escrow
tests_unit_test_smime_escrow_SOURCES = tests/unit/test_smime_escrow.c tests/unit/check.h
tests_unit_test_smime_escrow_LDADD = $(smime_test_libs)
TESTS += tests/unit/test_smime_escrow

check_PROGRAMS += tests/unit/test_smime_profiles
tests_unit_test_smime_profiles_SOURCES = tests/unit/test_smime_profiles.c tests/unit/check.h
tests_unit_test_smime_profiles_LDADD = $(smime_test_libs)
TESTS += tests/unit/test_smime_profiles
EXTRA_DIST += tests/tools/sbr-lint.py

# Issue #16 item 7: no compat PKCS#12 that gpgsm's key derivation cannot open.
check_PROGRAMS += tests/tools/p12-gpgsm
tests_tools_p12_gpgsm_SOURCES = tests/tools/p12-gpgsm.c
tests_tools_p12_gpgsm_LDADD = $(smime_test_libs)
TESTS += tests/integration/pkcs12_gpgsm.sh
EXTRA_DIST += tests/integration/pkcs12_gpgsm.sh
# The same with 200 files of smimesync's into gpgsm (about a minute more).
gpgsm-soak: tests/tools/p12-gpgsm$(EXEEXT)
	$(AM_TESTS_ENVIRONMENT) GPGSM_P12_COUNT=200; export GPGSM_P12_COUNT; \
	$(SHELL) $(top_srcdir)/tests/integration/pkcs12_gpgsm.sh
.PHONY: gpgsm-soak
# Issue #16 item 7: every profile x key type validates with explicit policy,
# clientAuth where multipurpose (OpenSSL and NSS); renew-issuing fixes a CA
# that does not fit a new group.
TESTS += tests/integration/ca_chain.sh
EXTRA_DIST += tests/integration/ca_chain.sh
# Issue #3 end to end: profiles, PKCS#12 interop (NSS, gpgsm), CMS, revoke, CRL.
TESTS += tests/integration/smime_interop.sh
EXTRA_DIST += tests/integration/smime_interop.sh
# The profile linter itself: openssl-made certificates breaking one rule each.
TESTS += tests/integration/sbr_lint_selftest.sh
EXTRA_DIST += tests/integration/sbr_lint_selftest.sh

# Issue #8: what every external CA's answer goes through.
check_PROGRAMS += tests/unit/test_smime_extca
tests_unit_test_smime_extca_SOURCES = tests/unit/test_smime_extca.c tests/unit/check.h
tests_unit_test_smime_extca_LDADD = $(smime_test_libs)
TESTS += tests/unit/test_smime_extca

# The signer process: the API through it, a dead child, hostile requests.
check_PROGRAMS += tests/unit/test_smime_signer
tests_unit_test_smime_signer_SOURCES = tests/unit/test_smime_signer.c tests/unit/check.h
tests_unit_test_smime_signer_LDADD = libsigner.a libconf.a $(smime_test_libs)
TESTS += tests/unit/test_smime_signer

# CA keys in an HSM: the signer's signing code against a SoftHSM2 token,
# disturbed between two signatures; then a whole sync with the key there.
check_PROGRAMS += tests/tools/p11-probe
tests_tools_p11_probe_SOURCES = tests/tools/p11-probe.c
tests_tools_p11_probe_LDADD = $(SMIMESYNC_ROOM_LIBS) $(SMIMESYNC_EXT_LIBS)
TESTS += tests/integration/hsm_softhsm.sh
EXTRA_DIST += tests/integration/hsm_softhsm.sh
