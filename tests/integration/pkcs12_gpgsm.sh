#!/bin/sh
# SPDX-License-Identifier: ISC
# Issue #16 item 7: no valid compat PKCS#12 is ever rejected by gpgsm 2.2.
#   1. The condition is exact: compat files built as smimesync built them
#      before it re-salted (tests/tools/p12-gpgsm raw: OpenSSL's own
#      PKCS12_create), about 1 in 64 of which gpgsm's key derivation gets
#      wrong. Every file pkcs12_gpgsm_check() predicts gpgsm cannot open is
#      rejected by gpgsm ("error parsing or decrypting the PKCS#12 file"),
#      and the files it predicts to be fine import.
#   2. Compat files as smimesync builds them now (pkcs12_build(), which
#      draws new salts until gpgsm agrees) all import into gpgsm:
#      GPGSM_P12_COUNT of them (60 here; "make gpgsm-soak" runs 200).
set -eu
: "${top_srcdir:?}" "${top_builddir:?}"
. "$top_srcdir/tests/tools/test-lib.sh"
command -v gpgsm >/dev/null || { echo "SKIP: gpgsm is not installed (tools/install-deps)"; exit 77; }
TOOL="$top_builddir/tests/tools/p12-gpgsm"
COUNT=${GPGSM_P12_COUNT:-60}

test_begin p12gpgsm
test_cleanup_more() { GNUPGHOME="$W/gnupg" gpgconf --kill all >/dev/null 2>&1 || true; }
mkdir -m 700 "$W/gnupg"
GNUPGHOME=$W/gnupg
export GNUPGHOME
echo allow-loopback-pinentry >"$GNUPGHOME/gpg-agent.conf"
# Started here: gpgsm's own autostart gives up after a few seconds on a busy machine.
gpgconf --launch gpg-agent || fail "cannot start gpg-agent"
import() { # FILE PASSWORD-FILE: did gpgsm import the secret key?
	gpgsm --batch --disable-dirmngr --pinentry-mode loopback --passphrase-fd 0 --import "$1" \
		<"$2" >"$W/gpgsm.out" 2>&1 || true
	grep -q "secret keys imported: 1\|secret keys unchanged: 1" "$W/gpgsm.out"
}

# --- 1. the prediction, against gpgsm itself ----------------------------------
# Iteration count 1 keeps it quick: the condition does not depend on it.
mkdir "$W/raw"
batch=0
while :; do
	batch=$((batch + 1))
	mkdir "$W/raw/$batch"
	"$TOOL" raw 600 "$W/raw/$batch" 1 >"$W/raw/$batch.out" || fail "p12-gpgsm raw"
	sed -n 's/^\([0-9]*\) differs$/\1/p' "$W/raw/$batch.out" | sed "s|^|$batch/|" >>"$W/differs.txt"
	# About 9 in 600; a few batches at most until there are enough to judge.
	[ "$(wc -l <"$W/differs.txt")" -ge 4 ] || [ "$batch" -ge 5 ] && break
done
tail -n 1 "$W/raw/1.out"
n_differ=$(wc -l <"$W/differs.txt")
check '[ "$n_differ" -ge 4 ]' "files built as before include ones gpgsm's derivation gets wrong ($n_differ)"
rejected=0
for f in $(cat "$W/differs.txt"); do
	if import "$W/raw/$f.p12" "$W/raw/$f.pw"; then
		fail "raw/$f: predicted unreadable for gpgsm, but gpgsm imported it"
	elif grep -q "error parsing or decrypting the PKCS#12 file" "$W/gpgsm.out"; then
		rejected=$((rejected + 1))
	else
		cat "$W/gpgsm.out"
		fail "raw/$f: gpgsm failed for another reason"
	fi
done
check '[ "$rejected" = "$n_differ" ]' "gpgsm rejects every one of them, with a right password"
imported=0
for i in $(seq 1 12); do
	grep -qx "1/$i" "$W/differs.txt" && continue
	if import "$W/raw/1/$i.p12" "$W/raw/1/$i.pw"; then imported=$((imported + 1)); else cat "$W/gpgsm.out"; fail "raw/1/$i: predicted fine, gpgsm rejected it"; fi
done
check '[ "$imported" -ge 10 ]' "the files predicted fine import ($imported)"

# --- 2. what smimesync builds now --------------------------------------------------
mkdir "$W/made"
"$TOOL" make "$COUNT" "$W/made" 2048 || fail "p12-gpgsm make"
bad=0
for i in $(seq 1 "$COUNT"); do
	"$TOOL" predict "$W/made/$i.p12" "$(cat "$W/made/$i.pw")" >/dev/null || { bad=$((bad + 1)); fail "made/$i: predicted unreadable"; }
	import "$W/made/$i.p12" "$W/made/$i.pw" || { cat "$W/gpgsm.out"; bad=$((bad + 1)); fail "made/$i: gpgsm rejected it"; }
done
check '[ "$bad" = 0 ]' "gpgsm imports all $COUNT compat PKCS#12 files smimesync built"

test_end
