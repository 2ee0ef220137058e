#!/bin/sh
# SPDX-License-Identifier: ISC
# OpenLDAP's change stream (issue #17): RFC 4533 content synchronisation
# against a real slapd with the syncprov overlay (a session log of five
# operations, reload hints) and memberof, driven through dir-probe's watch
# command, which commits each batch's state to a file as the daemon will
# commit it to the store. Checked:
#   - the first start asks for a full read and takes its position from now;
#   - changes made while nobody watched come with the next refresh: a
#     person added or changed (mail), a person deleted (gone, by
#     entryUUID), a member added to a nested group (the watched group above
#     it is named), a person leaving user_filter (gone); a change to a
#     group nobody watches names nothing;
#   - while watching (refreshAndPersist), a member added directly and one
#     removed from a nested group come within the poll;
#   - a watcher killed before it committed gets the same changes again;
#     one killed after it committed does not (nothing missed, nothing twice);
#   - a cookie the server no longer accepts: newer than the server's state
#     (refused), older than the session log with every entry changed since
#     (e-syncRefreshRequired), older than the log otherwise (a present
#     phase, which does not name deletions): each a full read, saying why;
#   - a state from another base_dn is not trusted; a newly watched group is
#     read once;
#   - a flat watched group, live: a member added or removed is named alone
#     (PERSON), not the group, also twice in a row by one watcher; a group
#     nested into it, a change below that, a change replayed from the
#     cookie, a bulk add, or members the service account may not read name
#     the group whole;
#   - refreshOnly every poll_interval (--no-persist) sees the same changes;
#   - slapd restarted under a running watcher: it reconnects and resumes;
#   - a server without syncprov: no stream, saying what to configure;
#   - in either order of the memberof and syncprov overlays, the stream
#     carries no change of a member's entry when memberof changes its
#     memberOf (which is why the watch reads the group's members).
set -u

: "${top_srcdir:?run from make check}" "${top_builddir:?run from make check}"
. "$top_srcdir/tests/tools/slapd-lib.sh"
slapd_require

PROBE=$top_builddir/tests/tools/dir-probe
[ -x "$PROBE" ] || { echo "FAIL: $PROBE is not built (make check builds it)" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/smimesync-watch.XXXXXX") || exit 1
BG=
cleanup() {
	[ -n "$BG" ] && kill "$BG" 2>/dev/null
	slapd_stop
	[ -n "${KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
SLAPD_OVERLAYS="memberof syncprov"
SLAPD_SESSIONLOG=5
export SLAPD_OVERLAYS SLAPD_SESSIONLOG
slapd_start "$work"

failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
ok() { echo "ok: $*"; }
check() { if eval "$1"; then ok "$2"; else fail "$2"; fi; }

B=$SLAPD_BASE
P=ou=people,$B
G=ou=groups,$B

person() { # uid [mail]
	printf 'dn: uid=%s,%s\nobjectClass: inetOrgPerson\nuid: %s\ncn: %s Example\nsn: %s\n' \
		"$1" "$P" "$1" "$1" "$1"
	[ $# -ge 2 ] && printf 'mail: %s\n' "$2"
	printf '\n'
}
group() { # cn member-dn...
	g=$1
	shift
	printf 'dn: cn=%s,%s\nobjectClass: groupOfNames\ncn: %s\n' "$g" "$G" "$g"
	for m in "$@"; do printf 'member: %s\n' "$m"; done
	printf '\n'
}
{
	for u in alice bob carol frank grace; do person "$u" "$u@example.org"; done
	group sub "uid=bob,$P"
	group staff "uid=alice,$P" "cn=sub,$G" "uid=grace,$P"
	group other "uid=carol,$P"
} >"$work/data.ldif"
slapd_load "$work/data.ldif"

# Every watch as the daemon will run it: the state file is its store.
WATCH="--uri $SLAPD_URI --base $B --bind-dn $SLAPD_SVC_DN --password-file $SLAPD_SVC_PW_FILE --ca-file $SLAPD_CA_FILE"
WATCHED="--group staff=cn=staff,$G"
S=$work/state.json
watch() { # name args...: output in $work/name.out, stderr in name.err, exit status in name.rc
	name=$1
	shift
	"$PROBE" $WATCH "$@" >"$work/$name.out" 2>"$work/$name.err"
	echo $? >"$work/$name.rc"
}
changes() { grep -v '^commit ' "$work/$1.out" | LC_ALL=C sort; }
rc_of() { cat "$work/$1.rc"; }

# --- the first start ----------------------------------------------------------
watch first watch --state "$S" $WATCHED
check '[ "$(rc_of first)" = 0 ] && [ "$(changes first)" = "full no-state|no stream position is stored yet (the first start, or the last one was forgotten)" ]' \
	"the first start asks for a full read, saying why"
CSN=$(ldapsearch -x -LLL -H "$SLAPD_URI" -b "$B" -s base contextCSN | sed -n 's/^contextCSN: //p')
check 'grep -qx "commit $CSN" "$work/first.out" && grep -q "\"cookie\":\"rid=000,csn=$CSN\"" "$S"' \
	"its position is the suffix's contextCSN as a cookie: no initial content transferred"
watch quiet watch --state "$S" $WATCHED
check '[ "$(rc_of quiet)" = 0 ] && [ ! -s "$work/quiet.out" ]' "nothing changed: nothing said, nothing committed"

# --- changes while nobody watched ----------------------------------------------
CAROL=$(slapd_entry_uuid "uid=carol,$P")
ALICE=$(slapd_entry_uuid "uid=alice,$P")
cat >"$work/away.ldif" <<EOF
dn: uid=dave,$P
changetype: add
objectClass: inetOrgPerson
uid: dave
cn: dave Example
sn: dave
mail: dave@example.org

dn: cn=sub,$G
changetype: modify
add: member
member: uid=dave,$P

dn: uid=alice,$P
changetype: modify
replace: mail
mail: alice.new@example.org

dn: uid=carol,$P
changetype: delete

dn: cn=other,$G
changetype: modify
add: member
member: uid=frank,$P
EOF
slapd_modify -f "$work/away.ldif" || fail "ldapmodify (changes while away)"
DAVE=$(slapd_entry_uuid "uid=dave,$P")
watch away watch --state "$S" $WATCHED
changes away >"$work/away.got"
printf '%s\n' "gone $CAROL|" "groups staff|cn=sub,$G" \
	"person $ALICE|uid=alice,$P|alice.new@example.org|enabled|" \
	"person $DAVE|uid=dave,$P|dave@example.org|enabled|" | LC_ALL=C sort >"$work/away.want"
check 'cmp -s "$work/away.got" "$work/away.want"' \
	"the refresh brings what changed while away: dave added (and into a nested group: staff is named), alice's new mail, carol deleted; other's change names nothing"
[ -s "$work/away.got" ] && ! cmp -s "$work/away.got" "$work/away.want" && diff "$work/away.want" "$work/away.got" >&2
check 'grep -q "^commit " "$work/away.out"' "the batch is committed with its state"
watch again watch --state "$S" $WATCHED
check '[ ! -s "$work/again.out" ]' "run again: nothing is delivered twice"

# --- while watching: a persistent search -------------------------------------
# Background watcher: up to 60 one-second polls, ends once a quiet poll follows news.
bg_watch() { # name args...
	name=$1
	shift
	"$PROBE" $WATCH "$@" >"$work/$name.out" 2>"$work/$name.err" &
	BG=$!
}
bg_wait() { # name pattern: until the output has it or the watcher ended
	while kill -0 "$BG" 2>/dev/null && ! grep -q "$2" "$work/$1.out"; do sleep 0.2; done
	grep -q "$2" "$work/$1.out"
}
bg_end() { wait "$BG" 2>/dev/null; BG=; }
bg_watch live watch --state "$S" $WATCHED --polls 60 --timeout 1 --quiet-stop
# Give the watcher its persistent search first (made earlier, the refresh would bring it).
sleep 2
cat >"$work/live.ldif" <<EOF
dn: uid=erin,$P
changetype: add
objectClass: inetOrgPerson
uid: erin
cn: erin Example
sn: erin
mail: erin@example.org

dn: cn=staff,$G
changetype: modify
add: member
member: uid=erin,$P

dn: cn=sub,$G
changetype: modify
delete: member
member: uid=bob,$P
EOF
slapd_modify -f "$work/live.ldif" || fail "ldapmodify (live)"
ERIN=$(slapd_entry_uuid "uid=erin,$P")
check 'bg_wait live "^groups staff|cn=sub,$G"' "while watching: bob removed from the nested group names staff"
bg_end
check 'grep -q "^person $ERIN|uid=erin,$P|erin@example.org|enabled|" "$work/live.out" && grep -q "^groups staff|cn=staff,$G" "$work/live.out"' \
	"while watching: erin added, and added to staff"

# --- nothing missed, nothing twice across a crash ---------------------------------
printf 'dn: uid=grace,%s\nchangetype: modify\nreplace: mail\nmail: grace.new@example.org\n\n' "$P" |
	slapd_modify || fail "ldapmodify grace"
GRACE=$(slapd_entry_uuid "uid=grace,$P")
watch crash watch --state "$S" $WATCHED --commit 0
check 'grep -q "^person $GRACE|.*|grace.new@example.org|" "$work/crash.out" && ! grep -q "^commit" "$work/crash.out"' \
	"a watcher that dies before committing saw grace's change ..."
watch resume watch --state "$S" $WATCHED
check '[ "$(changes resume)" = "person $GRACE|uid=grace,$P|grace.new@example.org|enabled|" ]' \
	"... and after the restart it comes again (nothing missed)"
watch resume2 watch --state "$S" $WATCHED
check '[ ! -s "$work/resume2.out" ]' "once committed it does not come a third time (nothing twice)"
# Killed in the middle of a persistent search, after a commit.
bg_watch mid watch --state "$S" $WATCHED --polls 60 --timeout 1
sleep 2
printf 'dn: uid=frank,%s\nchangetype: modify\nreplace: mail\nmail: frank.y@example.org\n\n' "$P" | slapd_modify
check 'bg_wait mid "^commit"' "a running watcher commits frank's change"
kill -9 "$BG" 2>/dev/null
bg_end
printf 'dn: uid=frank,%s\nchangetype: modify\nreplace: mail\nmail: frank.z@example.org\n\n' "$P" | slapd_modify
FRANK=$(slapd_entry_uuid "uid=frank,$P")
watch afterkill watch --state "$S" $WATCHED
check '[ "$(changes afterkill)" = "person $FRANK|uid=frank,$P|frank.z@example.org|enabled|" ]' \
	"killed with -9 mid-stream and started again: only the change made since (frank.z), not the committed one"

# --- a person leaving user_filter is gone ------------------------------------------
FILTER='(&(objectClass=inetOrgPerson)(!(description=inactive)))'
watch f0 --user-filter "$FILTER" watch --state "$work/f.json" $WATCHED
printf 'dn: uid=alice,%s\nchangetype: modify\nreplace: description\ndescription: inactive\n\n' "$P" | slapd_modify
watch f1 --user-filter "$FILTER" watch --state "$work/f.json" $WATCHED
check '[ "$(changes f1)" = "gone $ALICE|" ]' "a person who no longer matches user_filter is gone (a refresh names her by entryUUID)"
bg_watch f2 --user-filter "$FILTER" watch --state "$work/f.json" $WATCHED --polls 60 --timeout 1 --quiet-stop
sleep 2
printf 'dn: uid=grace,%s\nchangetype: modify\nreplace: description\ndescription: inactive\n\n' "$P" | slapd_modify
check 'bg_wait f2 "^gone $GRACE|uid=grace,$P"' "... and while watching, by entryUUID and DN"
bg_end

# --- cookies the server no longer accepts ------------------------------------------
cp "$S" "$work/old.json"
sed 's/csn=20[0-9][0-9]/csn=2999/' "$S" >"$work/future.json"
watch future watch --state "$work/future.json" $WATCHED
check 'grep -q "^full cookie-refused|$SLAPD_URI refused the stored sync cookie (Server is unwilling to perform (consumer state is newer than provider!))" "$work/future.out" && grep -q "^commit " "$work/future.out"' \
	"a cookie from the server's future: refused, a full read, and a position from now"
watch future2 watch --state "$work/future.json" $WATCHED
check '[ ! -s "$work/future2.out" ]' "after it, the stream goes on from the new position"
# More than the session log holds, the cookie's own entry untouched: a present phase.
i=0
while [ $i -lt 8 ]; do
	printf 'dn: uid=dave,%s\nchangetype: modify\nreplace: description\ndescription: d%s\n\n' "$P" $i
	i=$((i + 1))
done >"$work/many.ldif"
slapd_modify -f "$work/many.ldif"
cp "$work/old.json" "$work/present.json"
watch present watch --state "$work/present.json" $WATCHED
check 'grep -q "^full no-deletes|.*present phase, which does not name deleted entries.*raise syncprov-sessionlog" "$work/present.out"' \
	"a cookie older than the session log: the present phase cannot name deletions, so a full read"
# Every entry changed since the cookie as well: e-syncRefreshRequired.
ldapsearch -x -LLL -H "$SLAPD_URI" -b "$B" dn | sed -n 's/^dn: //p' >"$work/all.dns"
while read -r dn; do
	printf 'dn: %s\nchangetype: modify\nreplace: description\ndescription: touched\n\n' "$dn"
done <"$work/all.dns" >"$work/touch.ldif"
slapd_modify -f "$work/touch.ldif" || fail "ldapmodify (every entry)"
cp "$work/old.json" "$work/stale.json"
watch stale watch --state "$work/stale.json" $WATCHED
check 'grep -q "^full refresh-required|$SLAPD_URI answered e-syncRefreshRequired (.*sync cookie is stale.*)" "$work/stale.out"' \
	"a cookie older than everything the server can replay: e-syncRefreshRequired, a full read"

# --- state of another directory; a group watched for the first time -------------
sed "s/\"base\":\"$B\"/\"base\":\"ou=people,$B\"/" "$S" >"$work/otherbase.json"
watch otherbase watch --state "$work/otherbase.json" $WATCHED
check 'grep -q "^full state-invalid|base_dn changed from ou=people,$B to $B since the stream position was stored" "$work/otherbase.out"' \
	"a state stored under another base_dn is not trusted"
printf 'not a state' >"$work/garbage.json"
watch garbage watch --state "$work/garbage.json" $WATCHED
check 'grep -q "^full state-invalid|the stored stream position is not one this version of smimesync wrote" "$work/garbage.out"' \
	"a damaged state is not trusted either"
watch newgroup0 watch --state "$work/ng.json" $WATCHED
watch newgroup watch --state "$work/ng.json" $WATCHED --group "other=cn=other,$G"
check 'grep -q "^groups other|" "$work/newgroup.out" && ! grep -q "staff" "$work/newgroup.out"' \
	"a group added to the watch since the state was stored is read once, the others are not"

# --- refreshOnly every poll_interval ------------------------------------------------
watch ro0 --poll-interval 1 watch --state "$work/ro.json" $WATCHED --no-persist
bg_watch ro --poll-interval 1 watch --state "$work/ro.json" $WATCHED --no-persist --polls 60 --timeout 1 --quiet-stop
sleep 1
printf 'dn: cn=sub,%s\nchangetype: modify\nadd: member\nmember: uid=bob,%s\n\n' "$G" "$P" | slapd_modify
check 'bg_wait ro "^groups staff|cn=sub,$G"' "refreshOnly, asked every poll_interval, sees the nested change too"
bg_end
check '! grep -q "persistent" "$work/ro.err"' "(without holding a persistent search)"

# --- a flat watched group: who joined or left, not the group whole ----------------
# Live, a change of a flat watched group's own entry names the people who
# joined or left (PERSON), so that a group of 100,000 is not read again for
# one member; a nesting, or a change replayed from the cookie, names the
# group whole as before.
FL=$work/flat.json
FLAT="--group flat=cn=flat,$G"
group flat "uid=frank,$P" | sed '1a changetype: add' | slapd_modify || fail "ldapmodify (add flat)"
watch flat0 watch --state "$FL" $FLAT
flat_step() { # name ldif: one change while a watcher follows flat, until it has said it
	bg_watch "$1" watch --state "$FL" $FLAT --polls 60 --timeout 1 --quiet-stop
	sleep 2
	printf '%s\n' "$2" | slapd_modify || fail "ldapmodify ($1)"
	bg_wait "$1" "^commit" >/dev/null
	bg_end
}
member_ldif() { # add|delete group member-dn
	printf 'dn: cn=%s,%s\nchangetype: modify\n%s: member\nmember: %s\n' "$2" "$G" "$1" "$3"
}
flat_step flat1 "$(member_ldif add flat "uid=dave,$P")"
check 'grep -q "^person $DAVE|uid=dave,$P|dave@example.org|enabled|" "$work/flat1.out" && ! grep -q "^groups" "$work/flat1.out"' \
	"a flat watched group: a member added live is named (PERSON), the group is not read whole"
flat_step flat2 "$(member_ldif delete flat "uid=frank,$P")"
check 'grep -q "^person $FRANK|uid=frank,$P|" "$work/flat2.out" && ! grep -q "^groups" "$work/flat2.out"' \
	"... a member removed live is named too, and again not the group"
flat_step flat3 "$(member_ldif add flat "cn=sub,$G")"
check 'grep -q "^groups flat|cn=flat,$G" "$work/flat3.out"' \
	"a group nested into it: the group is named whole"
flat_step flat4 "$(member_ldif add sub "uid=alice,$P")"
check 'grep -q "^groups flat|cn=sub,$G" "$work/flat4.out"' \
	"then a member added to the nested group names it"
flat_step flat5 "$(member_ldif add flat "uid=grace,$P")"
check 'grep -q "^groups flat|cn=flat,$G" "$work/flat5.out"' \
	"while it holds a nested group, a person added to it names it whole"
flat_step flat6 "$(member_ldif delete flat "cn=sub,$G")"
check 'grep -q "^groups flat|cn=flat,$G" "$work/flat6.out"' \
	"the nested group removed: named whole"
member_ldif add flat "uid=bob,$P" | slapd_modify || fail "ldapmodify (bob into flat, nobody watching)"
watch flat7 watch --state "$FL" $FLAT
check '[ "$(changes flat7)" = "groups flat|cn=flat,$G" ]' \
	"a member added while nobody watched: the replay names the group whole, as before"
check 'ldapsearch -x -LLL -H "$SLAPD_URI" -b "uid=bob,$P" -s base memberOf | grep -qi "^memberOf: cn=flat,$G\$" && ! grep -q "^person" "$work/flat7.out" && ! grep -q "^person $GRACE" "$work/flat5.out"' \
	"memberof keeps bob's and grace's memberOf, yet no stream carried a change of their entries (syncprov leaves out memberof's own modifications: why the watch reads the group's members)"
BOB=$(slapd_entry_uuid "uid=bob,$P")
flat_step flat8 "$(member_ldif delete flat "uid=bob,$P")"
check 'grep -q "^person $BOB|uid=bob,$P|" "$work/flat8.out" && ! grep -q "^groups" "$work/flat8.out"' \
	"flat again: a member removed live is named alone"
# One watcher, two changes: the second is measured from the members after the first.
bg_watch flat9 watch --state "$FL" $FLAT --polls 60 --timeout 1
sleep 2
member_ldif delete flat "uid=grace,$P" | slapd_modify || fail "ldapmodify (grace out of flat)"
bg_wait flat9 "^person $GRACE|" >/dev/null
sleep 1
member_ldif add flat "uid=grace,$P" | slapd_modify || fail "ldapmodify (grace back into flat)"
n=0
while [ "$(grep -c "^person $GRACE|" "$work/flat9.out")" -lt 2 ] && [ $n -lt 100 ] && kill -0 "$BG" 2>/dev/null; do
	sleep 0.2
	n=$((n + 1))
done
kill "$BG" 2>/dev/null
bg_end
check '[ "$(grep -c "^person $GRACE|uid=grace,$P|" "$work/flat9.out")" = 2 ] && ! grep -q "^groups" "$work/flat9.out"' \
	"one watcher: grace leaves, then comes back: named each time, the group never"
i=0
{
	printf 'dn: cn=flat,%s\nchangetype: modify\nadd: member\n' "$G"
	while [ $i -lt 20 ]; do printf 'member: uid=ghost%s,%s\n' $i "$P"; i=$((i + 1)); done
} >"$work/bulk.ldif"
flat_step flat10 "$(cat "$work/bulk.ldif")"
check 'grep -q "^groups flat|cn=flat,$G" "$work/flat10.out" && ! grep -q "^person" "$work/flat10.out"' \
	"twenty members added at once to a group of two: the group is read whole, not twenty people one by one"

# --- slapd restarted under a running watcher ---------------------------------------
bg_watch restart watch --state "$work/rs.json" $WATCHED --polls 60 --timeout 1 --keep-going
sleep 2
kill "$SLAPD_PID"
wait "$SLAPD_PID" 2>/dev/null
check 'bg_wait restart "^error unreachable|"' "slapd stops: the watcher says the directory is unreachable"
slapd -f "$SLAPD_WORKDIR/slapd.conf" -h "$SLAPD_URI $SLAPD_LDAPS_URI $SLAPD_LDAPI_URI" \
	-d "${SLAPD_DEBUG:-stats}" >>"$SLAPD_LOG" 2>&1 &
SLAPD_PID=$!
until ldapsearch -x -LLL -H "$SLAPD_URI" -b "" -s base namingContexts >/dev/null 2>&1; do
	kill -0 "$SLAPD_PID" || { fail "slapd did not come back"; break; }
	sleep 0.2
done
printf 'dn: uid=bob,%s\nchangetype: modify\nreplace: mail\nmail: bob.back@example.org\n\n' "$P" | slapd_modify
check 'bg_wait restart "^person .*|bob.back@example.org|"' "slapd back: the watcher reconnects, resumes and sees the change"
kill "$BG" 2>/dev/null
bg_end

# --- a server without syncprov ------------------------------------------------------
slapd_stop
SLAPD_OVERLAYS=
work2=$work/plain
mkdir -p "$work2"
slapd_start "$work2"
"$PROBE" --uri "$SLAPD_URI" --base "$B" --bind-dn "$SLAPD_SVC_DN" --password-file "$SLAPD_SVC_PW_FILE" \
	--ca-file "$SLAPD_CA_FILE" watch --state "$work/plain.json" >"$work/plain.out" 2>"$work/plain.err"
rc=$?
check '[ $rc = 3 ] && grep -q "does not offer RFC 4533 content synchronisation under $B.*load the syncprov overlay" "$work/plain.err"' \
	"without syncprov: no stream (unsupported), saying what to configure"

# --- syncprov below memberof: memberof's changes are not streamed either ------------
slapd_stop
SLAPD_OVERLAYS="syncprov memberof"
# And a group whose members the service account may not read.
SLAPD_DB_EXTRA="access to dn.exact=\"cn=hidden,$G\" attrs=member
	by dn.exact=\"cn=smimesync,ou=services,$B\" none
	by * read"
export SLAPD_OVERLAYS SLAPD_DB_EXTRA
work3=$work/order
mkdir -p "$work3"
slapd_start "$work3"
{
	for u in alice bob; do person "$u" "$u@example.org"; done
	group flat "uid=alice,$P"
	group hidden "uid=alice,$P"
} >"$work/order.ldif"
slapd_load "$work/order.ldif"
WATCH="--uri $SLAPD_URI --base $B --bind-dn $SLAPD_SVC_DN --password-file $SLAPD_SVC_PW_FILE --ca-file $SLAPD_CA_FILE"
FL=$work/order.json
watch order0 watch --state "$FL" $FLAT
member_ldif add flat "uid=bob,$P" | slapd_modify || fail "ldapmodify (bob into flat, other order)"
watch order1 watch --state "$FL" $FLAT
check 'ldapsearch -x -LLL -H "$SLAPD_URI" -b "uid=bob,$P" -s base memberOf | grep -qi "^memberOf: cn=flat,$G\$" && [ "$(changes order1)" = "groups flat|cn=flat,$G" ]' \
	"the other overlay order: bob's memberOf is kept, the stream still carries only the group's entry"
BOB=$(slapd_entry_uuid "uid=bob,$P")
flat_step order2 "$(member_ldif delete flat "uid=bob,$P")"
check 'grep -q "^person $BOB|uid=bob,$P|" "$work/order2.out" && ! grep -q "^groups" "$work/order2.out"' \
	"... and live, the member who left is named alone there too"
FL=$work/hidden.json
FLAT="--group hidden=cn=hidden,$G"
watch hidden0 watch --state "$FL" $FLAT
flat_step hidden1 "$(member_ldif add hidden "uid=bob,$P")"
check 'grep -q "^groups hidden|cn=hidden,$G" "$work/hidden1.out"' \
	"members the service account may not read: a change names the group whole (no member values cannot say who changed)"

if [ "$failures" -gt 0 ]; then
	echo "$failures check(s) failed" >&2
	KEEP=1
	exit 1
fi
echo "all checks passed"
