#!/bin/sh
# SPDX-License-Identifier: ISC
# What administrators read, after real runs against slapd and an SMTP sink:
#   - every stored report (and run --format json) validates against
#     doc/report.schema.json;
#   - report --format html is one self-contained file (no scripts, no
#     external assets), everything escaped, with summary, errors and what to
#     do, users and the four SVG charts; headless Chromium renders it to a
#     PNG without a console error;
#   - report --since summarises many runs in text, JSON and HTML;
#   - status --expiring / --group / --format csv and audit --user / --since.
set -eu
: "${top_srcdir:?}" "${top_builddir:?}" "${SMIMESYNC:?}"
. "$top_srcdir/tests/tools/slapd-lib.sh"
. "$top_srcdir/tests/tools/smtp-lib.sh"
. "$top_srcdir/tests/tools/smimesync-lib.sh"
slapd_require
smtp_require
CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
# Without chromium everything else is still checked; the test then ends
# as skipped (77) unless something failed.
/usr/bin/python3 -c 'import jsonschema' 2>/dev/null ||
	{ echo "SKIP: python3-jsonschema is not installed (tools/install-deps)"; exit 77; }
command -v jq >/dev/null || { echo "SKIP: jq is not installed (tools/install-deps)"; exit 77; }

W=$(mktemp -d /tmp/smimesync-reports.XXXXXX)
cleanup() { smtp_stop || true; slapd_stop || true; [ -n "${KEEP:-}" ] || rm -rf "$W"; }
trap cleanup EXIT INT TERM
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }
VALIDATE="/usr/bin/python3 $top_srcdir/tests/tools/report-validate.py $top_srcdir/doc/report.schema.json"

mkdir -p "$W/slapd" "$W/smtp"
slapd_start "$W/slapd"
slapd_load "$top_srcdir/tests/data/example-org.ldif" >/dev/null
# Markup and a comma in a name: the HTML must escape it, the CSV quote it.
cat >"$W/odd.ldif" <<LDIF
dn: uid=markup,ou=people,$SLAPD_BASE
objectClass: inetOrgPerson
uid: markup
cn: Mark <script>alert(1)</script> Up
sn: Up, Mark
displayName: Up, Mark <b>&amp;</b>
mail: markup@example.org
LDIF
slapd_load "$W/odd.ldif" >/dev/null
printf 'dn: cn=smime-staff,ou=groups,%s\nchangetype: modify\nadd: member\nmember: uid=markup,ou=people,%s\n' \
	"$SLAPD_BASE" "$SLAPD_BASE" | ldapmodify -x -H "$SLAPD_URI" -D "$SLAPD_ADMIN_DN" -y "$SLAPD_ADMIN_PW_FILE" >/dev/null
smtp_start "$W/smtp"
smimesync_write_config "$W" p256 p256
# A group whose DN does not exist: a directory error the report must explain.
cat >>"$SMIMESYNC_CONF" <<CONF

[group ghosts]
directory = corp
group_dn = cn=no-such-group,ou=groups,$SLAPD_BASE
ca = internal
key_type = p256
CONF
"$SMIMESYNC" ca init >/dev/null
DB=$W/state/smimesync.db

rc=0
"$SMIMESYNC" run --format json >"$W/run1.json" 2>"$W/run1.log" || rc=$?
[ "$rc" = 3 ] && ok "first run: partial (the ghost group)" || fail "first run exit $rc: $(tail -3 "$W/run1.log")"
"$SMIMESYNC" run --format html >"$W/run2.html" 2>"$W/run2.log" || true
grep -q 'Charts about all certificates come from the store' "$W/run2.html" &&
	ok "run --format html prints the run's report (store charts left out, said so)" || fail "run --format html"

# --- JSON schema ------------------------------------------------------------
$VALIDATE "$DB" >"$W/validate.out" 2>&1 && ok "every stored report validates against doc/report.schema.json ($(grep -c '^valid' "$W/validate.out") reports)" ||
	fail "schema: $(grep ERROR "$W/validate.out" | head -5)"
$VALIDATE "$W/run1.json" >"$W/validate1.out" 2>&1 && ok "run --format json validates" || fail "run json: $(head -3 "$W/validate1.out")"
# The schema can fail: a report without "status" is refused.
jq 'del(.status)' "$W/run1.json" >"$W/broken.json"
$VALIDATE "$W/broken.json" >/dev/null 2>&1 && fail "the schema accepted a report without status" || ok "the schema refuses a broken report"

# --- HTML report --------------------------------------------------------------
# The first run's report: everyone issued, so everyone is listed.
"$SMIMESYNC" report --format html "$(jq -r .id "$W/run1.json")" >"$W/report.html"
H=$W/report.html
"$SMIMESYNC" report --last --format html >"$W/last.html" && [ "$(grep -c '<svg ' "$W/last.html")" = 4 ] &&
	ok "report --last --format html" || fail "report --last html"
grep -q '^<!DOCTYPE html>' "$H" && ok "HTML report written" || fail "no HTML"
grep -qi '<script' "$H" && fail "a <script> element in the report" || ok "no script element"
grep -q 'Mark &lt;script&gt;alert(1)&lt;/script&gt; Up\|Up, Mark &lt;b&gt;&amp;amp;&lt;/b&gt;' "$H" && ok "names are escaped" || fail "name not escaped"
grep -Eiq '(src|href)=|url\(|@import|<link' "$H" && fail "external reference: $(grep -Eio '(src|href)=[^ >]*|url\([^)]*\)|@import|<link' "$H" | head -3)" ||
	ok "self-contained: no src, href, url() or @import"
n_svg=$(grep -c '<svg ' "$H" || true)
[ "$n_svg" = 4 ] && ok "four inline SVG charts" || fail "$n_svg SVG charts"
for t in 'by days to expiry' 'by key type' 'by group' 'Issuance over the last runs'; do
	grep -q "$t" "$H" || fail "chart missing: $t"
done
awk '/<h2>Summary/{s=NR} /<h2>Errors/{e=NR} /<h2>Users/{u=NR} /<h2>Certificates/{c=NR} END{exit !(s && s<e && e<u && u<c)}' "$H" &&
	ok "summary first, then errors, users, charts" || fail "section order"
grep -q 'no-such-group' "$H" && grep -q 'Check that the directory server is reachable' "$H" &&
	ok "the directory error is shown with what to do" || fail "error advice missing"

chrome_render() {
	_prof=$(mktemp -d "$W/chrome.XXXXXX")
	"$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync \
		--user-data-dir="$_prof" --window-size=1280,2200 --screenshot="$2" \
		--enable-logging=stderr --v=0 "file://$1" >"$3" 2>&1 || return 1
	[ -s "$2" ] || return 1
	[ "$(od -An -N4 -tx1 "$2" | tr -d ' ')" = 89504e47 ] || return 1
}
if [ -z "$CHROMIUM" ]; then
	echo "note: chromium is not installed: the HTML is not rendered"
elif chrome_render "$H" "$W/report.png" "$W/chrome.log"; then
	ok "Chromium rendered the report to a PNG ($(stat -c %s "$W/report.png") bytes)"
else
	fail "Chromium could not render: $(tail -5 "$W/chrome.log")"
fi
if [ -n "$CHROMIUM" ]; then
	grep -E 'CONSOLE|Uncaught|Refused to|net::ERR' "$W/chrome.log" >"$W/console.txt" || true
	[ ! -s "$W/console.txt" ] && ok "no console errors" || fail "console: $(head -3 "$W/console.txt")"
fi

# --- report --since ------------------------------------------------------------
"$SMIMESYNC" report --since 30d >"$W/since.txt" && grep -q '^smimesync: 2 runs from' "$W/since.txt" &&
	ok "report --since 30d (text) summarises 2 runs" || fail "since text: $(head -3 "$W/since.txt")"
"$SMIMESYNC" report --since 30d --format json >"$W/since.json"
issued=$(jq '.counts.issued' "$W/since.json")
[ "$(jq '.runs' "$W/since.json")" = 2 ] && [ "$issued" = "$(jq '.counts.issued' "$W/run1.json")" ] &&
	[ "$(jq '.by_status.partial' "$W/since.json")" = 2 ] && [ "$(jq '.errors | length' "$W/since.json")" -ge 2 ] &&
	ok "report --since (json): 2 runs, $issued issued, both partial, errors listed" || fail "since json: $(head -c 400 "$W/since.json")"
"$SMIMESYNC" report --since 2000-01-01 --format html >"$W/since.html"
grep -q '<h2>Runs</h2>' "$W/since.html" && [ "$(grep -c '<svg ' "$W/since.html")" = 4 ] &&
	ok "report --since (html) with runs table and charts" || fail "since html"
if [ -n "$CHROMIUM" ]; then
	chrome_render "$W/since.html" "$W/since.png" "$W/chrome2.log" && ! grep -Eq 'CONSOLE|Uncaught' "$W/chrome2.log" &&
		ok "Chromium renders the summary too" || fail "summary render: $(tail -3 "$W/chrome2.log")"
fi
rc=0; "$SMIMESYNC" report --since yesterday >/dev/null 2>"$W/err" || rc=$?
[ "$rc" = 2 ] && grep -q 'give a duration' "$W/err" && ok "a bad --since is a usage error that says what to write" || fail "bad since: rc=$rc"

# --- status filters and CSV ------------------------------------------------------
total=$("$SMIMESYNC" status --format json | jq 'map(select(.serial != null)) | length')
[ "$("$SMIMESYNC" status --expiring 400d --format json | jq length)" = "$total" ] &&
	ok "status --expiring 400d: all $total certificates" || fail "expiring 400d"
[ "$("$SMIMESYNC" status --format json | jq '[.[] | select(.serial != null and .state != "valid")] | length')" = 0 ] &&
	ok "status json: every certificate holder is in state valid" || fail "status json state"
[ "$("$SMIMESYNC" status --expiring 30d --format json | jq length)" = 0 ] &&
	ok "status --expiring 30d: none" || fail "expiring 30d"
staff=$("$SMIMESYNC" status --group smime-staff --format json)
[ "$(echo "$staff" | jq 'map(select(.group != "smime-staff")) | length')" = 0 ] && [ "$(echo "$staff" | jq length)" -gt 0 ] &&
	ok "status --group smime-staff: only staff ($(echo "$staff" | jq length))" || fail "group filter"
rc=0; "$SMIMESYNC" status --group smime-staf >"$W/typo.out" 2>"$W/err" || rc=$?
[ "$rc" = 2 ] && [ ! -s "$W/typo.out" ] && grep -q 'no \[group smime-staf\].*its groups: smime-sales, smime-staff' "$W/err" &&
	ok "status --group with a typo is an error naming the groups, not an empty list" || fail "unknown group: rc=$rc $(cat "$W/err")"
"$SMIMESYNC" status --format csv >"$W/status.csv"
head -1 "$W/status.csv" | grep -q '^mail,name,group,id,serial,not_after,published,state,last_error' && ok "CSV header" || fail "CSV header"
/usr/bin/python3 - "$W/status.csv" "$total" <<'PY' && ok "CSV parses: one row per user, the comma in a name quoted" || fail "CSV content"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
assert sum(1 for r in rows if r["serial"]) == int(sys.argv[2]), "rows"
m = [r for r in rows if r["mail"] == "markup@example.org"]
assert m and m[0]["name"].startswith("Up, Mark"), m
PY
rc=0; "$SMIMESYNC" status --format xml >/dev/null 2>"$W/err" || rc=$?
[ "$rc" = 2 ] && ok "status --format xml is a usage error" || fail "status xml rc=$rc"

# --- audit -----------------------------------------------------------------------
"$SMIMESYNC" audit --user alice@example.org >"$W/audit.txt"
grep -q 'user=alice@example.org certificate-issued' "$W/audit.txt" && ! grep -qv 'user=alice@example.org' "$W/audit.txt" &&
	ok "audit --user alice: only alice, her issuance ($(wc -l <"$W/audit.txt") entries)" || fail "audit user: $(head -3 "$W/audit.txt")"
all=$("$SMIMESYNC" audit --format json | jq length)
[ "$("$SMIMESYNC" audit --since 1d --format json | jq length)" = "$all" ] && [ "$all" -gt 0 ] &&
	ok "audit --since 1d: all $all entries" || fail "audit since 1d"
[ "$("$SMIMESYNC" audit --since 2099-01-01 --format json | jq length)" = 0 ] && ok "audit --since the future: none" || fail "audit future"

echo "$fails failure(s)"
[ "$fails" = 0 ] || exit 1
[ -n "$CHROMIUM" ] || { echo "SKIP: chromium is not installed (tools/install-deps): the rendering was not checked"; exit 77; }
exit 0
