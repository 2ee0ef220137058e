#!/bin/sh
# SPDX-License-Identifier: ISC
# OpenLDAP's change stream with slapd's accesslog (accesslog_base): a live
# member change of a flat watched group is read from the log entries of
# that change, not from the group's member list. A real slapd with
# memberof, syncprov and accesslog (cn=accesslog, readable by the service
# account only), driven through dir-probe's watch command. Checked from
# outside, through what dir-probe prints and slapd's stats log:
#   - a member added, then one removed, live: PERSON changes only, the
#     group is not named, no search asks for member values, and the log is
#     searched (a control run without accesslog_base does ask for them,
#     so the check can fail);
#   - one watcher follows two changes in a row (each measured from the one
#     before, as pushed);
#   - a replace of all member values: the group whole (GROUPS), saying why;
#   - a log that does not hold the change (purged, or a base where nothing
#     is logged): the group whole, saying why;
#   - a log the service account cannot read: the group whole, a warning
#     naming accesslog_base and what to grant, said once;
#   - a group added as a member: the group whole.
set -u

: "${top_srcdir:?run from make check}" "${top_builddir:?run from make check}"
. "$top_srcdir/tests/tools/slapd-lib.sh"
slapd_require

PROBE=$top_builddir/tests/tools/dir-probe
[ -x "$PROBE" ] || { echo "FAIL: $PROBE is not built (make check builds it)" >&2; exit 1; }
if [ ! -f "$SLAPD_MODULE_DIR/accesslog.la" ] && [ ! -f "$SLAPD_MODULE_DIR/accesslog.so" ]; then
	echo "SKIP: slapd's accesslog overlay is not installed in $SLAPD_MODULE_DIR" >&2
	exit 77
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/smimesync-alog.XXXXXX") || exit 1
BG=
cleanup() {
	[ -n "$BG" ] && kill "$BG" 2>/dev/null
	slapd_stop
	[ -n "${KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
SLAPD_OVERLAYS="memberof syncprov accesslog"
export SLAPD_OVERLAYS
slapd_start "$work"

failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
ok() { echo "ok: $*"; }
check() { if eval "$1"; then ok "$2"; else fail "$2"; fi; }

B=$SLAPD_BASE
P=ou=people,$B
G=ou=groups,$B

person() { # uid
	printf 'dn: uid=%s,%s\nobjectClass: inetOrgPerson\nuid: %s\ncn: %s Example\nsn: %s\nmail: %s@example.org\n\n' \
		"$1" "$P" "$1" "$1" "$1" "$1"
}
{
	for u in alice bob carol dave erin; do person "$u"; done
	printf 'dn: cn=sub,%s\nobjectClass: groupOfNames\ncn: sub\nmember: uid=erin,%s\n\n' "$G" "$P"
	printf 'dn: cn=flat,%s\nobjectClass: groupOfNames\ncn: flat\nmember: uid=alice,%s\nmember: uid=bob,%s\n\n' \
		"$G" "$P" "$P"
} >"$work/data.ldif"
slapd_load "$work/data.ldif"
ALICE=$(slapd_entry_uuid "uid=alice,$P")
BOB=$(slapd_entry_uuid "uid=bob,$P")
CAROL=$(slapd_entry_uuid "uid=carol,$P")
DAVE=$(slapd_entry_uuid "uid=dave,$P")

WATCH="--uri $SLAPD_URI --base $B --bind-dn $SLAPD_SVC_DN --password-file $SLAPD_SVC_PW_FILE --ca-file $SLAPD_CA_FILE"
FLAT="--group flat=cn=flat,$G"
S=$work/state.json
LOGBASE=cn=accesslog

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
# slapd's stats log from a mark on: what the watcher asked while a step ran.
mark() { wc -l <"$SLAPD_LOG" | tr -d ' '; }
since_mark() { tail -n +"$(($1 + 1))" "$SLAPD_LOG"; }
# A search that asks for member values: "SRCH attr=... member ..." in the stats log.
asked_members() { since_mark "$1" | grep -Eiq 'SRCH attr=(.* )?(member|uniqueMember)( |$)'; }
asked_log() { since_mark "$1" | grep -q 'SRCH base="cn=accesslog" scope=1'; }

step() { # name ldif [dir-probe options...]: one change while a watcher follows flat, until it has said it
	name=$1
	ldif=$2
	shift 2
	bg_watch "$name" "$@" watch --state "$S" $FLAT --polls 60 --timeout 1 --quiet-stop
	sleep 2
	printf '%s\n' "$ldif" | slapd_modify || fail "ldapmodify ($name)"
	bg_wait "$name" "^commit" >/dev/null
	bg_end
}
member_ldif() { # add|delete member-dn
	printf 'dn: cn=flat,%s\nchangetype: modify\n%s: member\nmember: %s\n' "$G" "$1" "$2"
}

"$PROBE" $WATCH --accesslog-base "$LOGBASE" watch --state "$S" $FLAT >"$work/first.out" 2>&1 ||
	fail "the first watch failed: $(cat "$work/first.out")"

# --- the control: without accesslog_base the member values are read ------------
m=$(mark)
step control "$(member_ldif add "uid=carol,$P")"
check 'grep -q "^person $CAROL|" "$work/control.out" && asked_members $m' \
	"without accesslog_base, a member added live is named, and the group's member values are read (so the checks below can fail)"

# --- with the log: who joined or left, without the member list -------------------
m=$(mark)
step add "$(member_ldif add "uid=dave,$P")" --debug --accesslog-base "$LOGBASE"
check 'grep -q "^person $DAVE|uid=dave,$P|dave@example.org|enabled|" "$work/add.out" && ! grep -q "^groups" "$work/add.out"' \
	"accesslog: a member added live is named alone (PERSON), the group is not named"
check '! asked_members $m && asked_log $m' \
	"... no search asked for member values; the log was searched instead"
check 'since_mark $m | grep "SRCH base=\"cn=accesslog\"" | grep -q "reqDN=cn=flat,$G"' \
	"... for the entries of that group"
m=$(mark)
step del "$(member_ldif delete "uid=carol,$P")" --debug --accesslog-base "$LOGBASE"
check 'grep -q "^person $CAROL|uid=carol,$P|" "$work/del.out" && ! grep -q "^groups" "$work/del.out" && ! asked_members $m' \
	"accesslog: a member removed live is named alone, no member values read"

# One watcher, two changes: the second is measured from the first as pushed.
m=$(mark)
bg_watch two --debug --accesslog-base "$LOGBASE" watch --state "$S" $FLAT --polls 60 --timeout 1
sleep 2
member_ldif delete "uid=bob,$P" | slapd_modify || fail "ldapmodify (bob out)"
bg_wait two "^person $BOB|" >/dev/null
member_ldif add "uid=carol,$P" | slapd_modify || fail "ldapmodify (carol in)"
bg_wait two "^person $CAROL|" >/dev/null
kill "$BG" 2>/dev/null
bg_end
check 'grep -q "^person $BOB|" "$work/two.out" && grep -q "^person $CAROL|" "$work/two.out" && ! grep -q "^groups" "$work/two.out" && ! asked_members $m' \
	"one watcher follows two changes from the log: bob left, carol joined, the group never read"
check '[ "$(grep -c "read whole" "$work/two.err")" = 0 ]' "... and it never says it reads the group whole"
# The log searches of that watcher: the second starts where the first ended.
since_mark $m | sed -n 's/.*SRCH base="cn=accesslog".*(!(entryCSN<=\([^)]*\)))(entryCSN<=\([^)]*\)).*/\1 \2/p' |
	awk '!seen[$0]++' >"$work/two.csn"
check '[ "$(wc -l <"$work/two.csn")" -ge 2 ] && [ "$(sed -n 1p "$work/two.csn" | cut -d" " -f2)" = "$(tail -n 1 "$work/two.csn" | cut -d" " -f1)" ]' \
	"... the second change is asked for from the first one's entryCSN, as pushed"

# --- what the log cannot say: the group whole -------------------------------------
step replace "$(printf 'dn: cn=flat,%s\nchangetype: modify\nreplace: member\nmember: uid=alice,%s\nmember: uid=bob,%s\n' "$G" "$P" "$P")" \
	--debug --accesslog-base "$LOGBASE"
check 'grep -q "^groups flat|cn=flat,$G" "$work/replace.out" && grep -q "read whole: a change replaced" "$work/replace.err"' \
	"every member value replaced: the group is read whole, saying why"

# A base where the change is not logged: as if the log were purged past it.
step purged "$(member_ldif add "uid=dave,$P")" --debug --accesslog-base "ou=services,$B"
check 'grep -q "^groups flat|cn=flat,$G" "$work/purged.out" && grep -q "read whole: the log does not hold the change" "$work/purged.err"' \
	"a log that does not hold the change (purged): the group is read whole, saying why"

# A log the service account cannot read (slapd answers noSuchObject for a base it hides).
m=$(mark)
bg_watch hidden --accesslog-base "cn=nolog" watch --state "$S" $FLAT --polls 60 --timeout 1
sleep 2
member_ldif delete "uid=dave,$P" | slapd_modify || fail "ldapmodify (dave out)"
bg_wait hidden "^groups flat" >/dev/null
member_ldif add "uid=dave,$P" | slapd_modify || fail "ldapmodify (dave in)"
n=0
while [ "$(grep -c "^groups flat" "$work/hidden.out")" -lt 2 ] && [ $n -lt 100 ] && kill -0 "$BG" 2>/dev/null; do
	sleep 0.2
	n=$((n + 1))
done
kill "$BG" 2>/dev/null
bg_end
check '[ "$(grep -c "^groups flat|cn=flat,$G" "$work/hidden.out")" = 2 ]' \
	"an unreadable log: each change reads the group whole"
check '[ "$(grep -c "cannot read slapd.s accesslog under cn=nolog" "$work/hidden.err")" = 1 ] && grep -q "let $SLAPD_SVC_DN read that database" "$work/hidden.err"' \
	"... with one warning naming accesslog_base and what to grant"

# A nesting: a group added as a member.
step nest "$(member_ldif add "cn=sub,$G")" --debug --accesslog-base "$LOGBASE"
check 'grep -q "^groups flat|cn=flat,$G" "$work/nest.out"' "a group added as a member: the group is read whole"

if [ "$failures" -ne 0 ]; then
	echo "$failures check(s) failed; slapd log: $SLAPD_LOG (KEEP=1 keeps $work)" >&2
	exit 1
fi
exit 0
