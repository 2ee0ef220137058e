#!/bin/sh
# SPDX-License-Identifier: ISC
# Microsoft Graph's change stream (issue #17): delta queries on /users and
# /groups against tests/tools/graph-fake.py (which follows Microsoft's
# "delta query" documentation: delta and next links, $select baked into
# the tokens, @removed, members@delta, paging, syncStateNotFound, 410),
# through dir-probe's watch command. Checked:
#   - the first start asks for a full read; its position is two delta
#     links taken with $deltatoken=latest ("sync from now"), and their age;
#   - a new user in a group nested two levels below a watched group: the
#     person (read under the group's policy) and the watched group named
#     (Graph itself reports only the direct group); a changed mail; a
#     deleted user gone; a change to an unwatched group names nothing; the
#     delta links are followed without $select (it is in the token);
#   - paging: small delta pages and a long members@delta split over pages;
#     a delta that carries changed properties only: the user is read whole;
#   - members@delta naming users only: each a person, the group not read
#     (a user who left too); a group added (nesting): the group read whole;
#   - a guest added to a group whose policy leaves guests out: the group is
#     named, no person;
#   - syncStateNotFound, 410 Gone, and a position older than six days: each
#     a full read, saying why;
#   - an application without User.Read.All: no stream, saying what to grant.
set -eu
: "${top_srcdir:?}" "${top_builddir:?}"
. "$top_srcdir/tests/tools/slapd-lib.sh"
. "$top_srcdir/tests/tools/graph-lib.sh"
graph_require
command -v openssl >/dev/null || { echo "SKIP: openssl is not installed"; exit 77; }
PROBE=$top_builddir/tests/tools/dir-probe
[ -x "$PROBE" ] || { echo "watch_graph: $PROBE is not built" >&2; exit 99; }

W=$(mktemp -d /tmp/smimesync-watchgraph.XXXXXX)
cleanup() { graph_stop; [ -n "${KEEP:-}" ] || rm -rf "$W"; }
trap cleanup EXIT INT TERM
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
check() { if eval "$1"; then echo "ok: $2"; else fail "$2"; fi; }

TENANT=6f1c1a3e-0d2b-4c39-9a51-2b7e8d4f0a11
CLIENT=3d9e5b7a-8c41-4f26-b0e3-7a1c9d2e4f58
WEAK=3d9e5b7a-8c41-4f26-b0e3-7a1c9d2e4f59
G_STAFF=0b4ad5e4-7f44-4d8a-9c71-3c1d2a5e6f70
G_TEAM=0b4ad5e4-7f44-4d8a-9c71-3c1d2a5e6f71
G_INNER=0b4ad5e4-7f44-4d8a-9c71-3c1d2a5e6f72
G_OTHER=0b4ad5e4-7f44-4d8a-9c71-3c1d2a5e6f73
U_ALICE=a11ce000-0000-4000-8000-000000000001
U_BOB=b0b00000-0000-4000-8000-000000000002
U_CAROL=ca201000-0000-4000-8000-000000000003
U_ERIN=e2100000-0000-4000-8000-000000000005
U_FRANK=f2a40000-0000-4000-8000-000000000006
U_GINA=916a0000-0000-4000-8000-000000000007
U_HANK=4a4c0000-0000-4000-8000-000000000008

mkdir -p "$W/graph" "$W/app"
chmod 700 "$W/app"
slapd_make_tls "$W/tls" || { echo "watch_graph: cannot make test TLS certificates" >&2; exit 99; }
printf 'fake-secret~Value.0123456789\n' >"$W/app/secret"
chmod 600 "$W/app/secret"

user() { # id name mail [type]
	printf '"%s": {"displayName": "%s", "givenName": "%s", "surname": "Example", "mail": "%s", "userPrincipalName": "%s", "otherMails": [], "proxyAddresses": [], "accountEnabled": true, "userType": "%s", "onPremisesDistinguishedName": null}' \
		"$1" "$2" "$2" "$3" "$3" "${4:-Member}"
}
# write_tenant EXTRA USERS STAFF INNER OTHER: the tenant, as it is now.
write_tenant() {
	cat >"$W/graph/tenant.json.new" <<JSON
{"tenant": "$TENANT", "page_size": 100, "token_lifetime": 3600 $1,
 "clients": {"$CLIENT": {"secret": "fake-secret~Value.0123456789",
   "permissions": ["GroupMember.Read.All", "User.Read.All"]},
   "$WEAK": {"secret": "fake-secret~Value.0123456789", "permissions": ["GroupMember.Read.All"]}},
 "groups": {
  "$G_STAFF": {"displayName": "S/MIME Staff", "members": [$3]},
  "$G_TEAM": {"displayName": "Team", "members": ["$U_ERIN", "$G_INNER"]},
  "$G_INNER": {"displayName": "Inner", "members": [$4]},
  "$G_OTHER": {"displayName": "Other", "members": [$5]}},
 "users": {$2}}
JSON
	mv "$W/graph/tenant.json.new" "$W/graph/tenant.json"
}
USERS="$(user $U_ALICE Alice alice@example.org), $(user $U_BOB Bob bob@example.org), $(user $U_ERIN Erin erin@example.org), $(user $U_FRANK Frank frank@example.org), $(user $U_GINA Gina gina@example.org)"
write_tenant "" "$USERS" "\"$U_ALICE\", \"$U_BOB\", \"$G_TEAM\"" "\"$U_FRANK\"" "\"$U_GINA\""
graph_start "$W/graph" "$W/tls/server.pem" "$W/tls/server.key"

WATCH="--type graph --tenant $TENANT --client-id $CLIENT --secret-file $W/app/secret --graph-url $GRAPH_URL --ca-file $W/tls/ca.pem"
watch() { # name args...
	name=$1
	shift
	"$PROBE" $WATCH "$@" --group "staff=$G_STAFF" >"$W/$name.out" 2>"$W/$name.err" &&
		echo 0 >"$W/$name.rc" || echo $? >"$W/$name.rc"
}
changes() { grep -v '^commit ' "$W/$1.out" | LC_ALL=C sort; }
S=$W/state.json

# --- the first start ------------------------------------------------------------
watch g0 watch --state "$S"
check '[ "$(cat "$W/g0.rc")" = 0 ] && [ "$(changes g0)" = "full no-state|no stream position is stored yet (the first start, or the last one was forgotten)" ]' \
	"the first start asks for a full read"
check 'grep -q "\"users\":\"https://127.0.0.1:[0-9]*/v1.0/users/delta?\$deltatoken=" "$S" && grep -q "\"groups\":\"https://127.0.0.1:[0-9]*/v1.0/groups/delta?\$deltatoken=" "$S" && grep -q "\"issued\":[0-9]" "$S"' \
	"its position: two delta links and when they were issued"
check 'grep -q "users/delta?%24select=\|users/delta?\$select=.*deltatoken=latest" "$W/graph/requests.jsonl" && grep -q "\"latest\": true" "$W/graph/requests.jsonl"' \
	"taken with \$deltatoken=latest (sync from now), \$select in the first request"
watch g1 watch --state "$S"
check '[ "$(cat "$W/g1.rc")" = 0 ] && [ -z "$(changes g1)" ]' "nothing changed: nothing said (only the new delta link committed)"

# --- changes ----------------------------------------------------------------------
: >"$W/graph/requests.jsonl"
USERS="$(user $U_ALICE Alice alice.new@example.org), $(user $U_ERIN Erin erin@example.org), $(user $U_FRANK Frank frank@example.org), $(user $U_GINA Gina gina2@example.org), $(user $U_HANK Hank hank@example.org)"
write_tenant ', "removed_reason": {"'"$U_BOB"'": "deleted"}' "$USERS" "\"$U_ALICE\", \"$G_TEAM\"" \
	"\"$U_FRANK\", \"$U_HANK\"" "\"$U_GINA\", \"$U_FRANK\""
watch g2 watch --state "$S"
changes g2 >"$W/g2.got"
# staff's own members@delta (bob removed) names bob alone; staff is named
# whole because inner, nested below it, changed (Graph says only inner).
printf '%s\n' "gone $U_BOB|" "groups staff|$G_INNER" \
	"person $U_ALICE|alice.new@example.org|alice.new@example.org|enabled|" \
	"person $U_HANK|hank@example.org|hank@example.org|enabled|" | LC_ALL=C sort >"$W/g2.want"
check 'cmp -s "$W/g2.got" "$W/g2.want"' \
	"hank added two levels below staff (the person, staff named), alice's new mail, bob deleted; gina in an unwatched group says nothing"
cmp -s "$W/g2.got" "$W/g2.want" || diff "$W/g2.want" "$W/g2.got" >&2 || true
check 'grep -q "transitiveMemberOf" "$W/graph/requests.jsonl" && grep -q "checkMemberGroups" "$W/graph/requests.jsonl"' \
	"nested: Graph reports the direct group only; the watched group above is asked for (transitiveMemberOf)"
check '! grep "\"path\": \"/v1.0/users/delta?\$deltatoken=" "$W/graph/requests.jsonl" | grep -q "select"' \
	"the delta link is followed as given: \$select lives in its token"
watch g3 watch --state "$S"
check '[ -z "$(changes g3)" ]' "committed: nothing comes twice (only the new delta link is committed)"

# --- paging, and changed properties only ---------------------------------------------
: >"$W/graph/requests.jsonl"
ERINS="\"$U_ERIN\""
i=0
MORE=
while [ $i -lt 7 ]; do
	id=$(printf 'c0ffee00-0000-4000-8000-%012d' $i)
	USERS="$USERS, $(user "$id" "Extra$i" "extra$i@example.org")"
	MORE="$MORE, \"$id\""
	i=$((i + 1))
done
USERS=$(printf '%s' "$USERS" | sed "s/\"Frank\", \"givenName\": \"Frank\", \"surname\": \"Example\", \"mail\": \"frank@example.org\"/\"Frank\", \"givenName\": \"Frank\", \"surname\": \"Example\", \"mail\": \"frank.new@example.org\"/")
write_tenant ', "delta_page_size": 2, "delta_members_page": 2, "delta_changed_only": true' "$USERS" \
	"\"$U_ALICE\", \"$G_TEAM\"" "\"$U_FRANK\", \"$U_HANK\"$MORE" "\"$U_GINA\", \"$U_FRANK\""
watch g4 watch --state "$S"
check '[ "$(grep -c "^person c0ffee00" "$W/g4.out")" = 7 ] && [ "$(grep -c "^groups staff|" "$W/g4.out")" = 1 ] && grep -q "^person $U_FRANK|.*|frank.new@example.org|" "$W/g4.out"' \
	"seven new members over delta pages of two, members@delta over pages of two: each person once, staff once"
check '[ "$(grep -c "users/delta?\$skiptoken" "$W/graph/requests.jsonl")" = 3 ] && [ "$(grep -c "groups/delta?\$skiptoken" "$W/graph/requests.jsonl")" = 1 ]' \
	"(eight users over four delta pages, four pieces of a group over two)"
check 'grep -q "\"path\": \"/v1.0/users/$U_FRANK?" "$W/graph/requests.jsonl"' \
	"a delta with the changed properties only: the user is read whole"

# --- a guest the group's policy leaves out ---------------------------------------------
USERS="$USERS, $(user $U_CAROL Carol carol@partner.example Guest)"
write_tenant "" "$USERS" "\"$U_ALICE\", \"$G_TEAM\", \"$U_CAROL\"" "\"$U_FRANK\", \"$U_HANK\"$MORE" "\"$U_GINA\", \"$U_FRANK\""
watch g5 watch --state "$S"
check '[ "$(changes g5)" = "groups staff|$U_CAROL" ]' "a guest added (include_guests = no): staff is named because of her, no person"

# --- members named one by one ------------------------------------------------------
# A user added to staff directly, one removed: members@delta names users
# only, so each is a person (the one who left too, under staff's policy, so
# that the engine looking them up finds them in no group) and staff is not
# read whole; a group added to staff (nesting) reads it whole.
: >"$W/graph/requests.jsonl"
write_tenant "" "$USERS" "\"$U_ALICE\", \"$G_TEAM\", \"$U_CAROL\", \"$U_GINA\"" "\"$U_FRANK\", \"$U_HANK\"$MORE" "\"$U_FRANK\""
watch g6 watch --state "$S"
check '[ "$(changes g6 | cut -d"|" -f1 | LC_ALL=C sort | tr "\n" " ")" = "person $U_GINA " ]' \
	"gina added to staff directly: named alone, staff not read (got: $(changes g6 | tr "\n" " "))"
: >"$W/graph/requests.jsonl"
write_tenant "" "$USERS" "\"$U_ALICE\", \"$G_TEAM\", \"$U_CAROL\"" "\"$U_FRANK\", \"$U_HANK\"$MORE" "\"$U_FRANK\""
watch g7 watch --state "$S"
check '[ "$(changes g7 | cut -d"|" -f1 | tr "\n" " ")" = "person $U_GINA " ] && grep -q "\"path\": \"/v1.0/users/$U_GINA?" "$W/graph/requests.jsonl"' \
	"gina removed from staff: named alone, read by her id so the engine can judge her (got: $(changes g7 | tr "\n" " "))"
write_tenant "" "$USERS" "\"$U_ALICE\", \"$G_TEAM\", \"$U_CAROL\", \"$G_OTHER\"" "\"$U_FRANK\", \"$U_HANK\"$MORE" "\"$U_FRANK\""
watch g8 watch --state "$S"
check '[ "$(changes g8 | grep -c "^groups staff|$G_STAFF")" = 1 ]' \
	"a group added to staff (nesting): staff is read whole (got: $(changes g8 | tr "\n" " "))"

# --- full reads ---------------------------------------------------------------------------
write_tenant ', "faults": {"expire_delta": true}' "$USERS" "\"$U_ALICE\", \"$G_TEAM\"" "\"$U_FRANK\"" "\"$U_GINA\""
watch g6 watch --state "$S"
check 'grep -q "^full link-expired|Graph no longer keeps the users delta token (syncStateNotFound): .*HTTP 400 syncStateNotFound: The sync state generation is not found" "$W/g6.out" && grep -q "^commit" "$W/g6.out"' \
	"syncStateNotFound: a full read, and new links from now"
write_tenant ', "faults": {"resync": true}' "$USERS" "\"$U_ALICE\", \"$G_TEAM\"" "\"$U_FRANK\"" "\"$U_GINA\""
watch g7 watch --state "$S"
check 'grep -q "^full resync|Graph answered users with 410 Gone, a synchronization reset" "$W/g7.out"' \
	"410 Gone (synchronization reset): a full read"
OLD=$(( $(date +%s) - 7 * 86400 ))
sed "s/\"issued\":[0-9]*/\"issued\":$OLD/" "$S" >"$W/old.json"
watch g9 watch --state "$W/old.json"
check 'grep -q "^full link-expired|the delta links were issued 7 days ago; Graph keeps them for seven" "$W/g9.out"' \
	"links older than six days: a full read before Graph refuses them"

# --- no permission -------------------------------------------------------------------------
"$PROBE" --type graph --tenant "$TENANT" --client-id "$WEAK" --secret-file "$W/app/secret" --graph-url "$GRAPH_URL" \
	--ca-file "$W/tls/ca.pem" watch --state "$W/weak.json" --group "staff=$G_STAFF" >"$W/weak.out" 2>"$W/weak.err" && rc=0 || rc=$?
check '[ $rc = 3 ] && grep -q "Graph refuses delta queries to this application (grant User.Read.All and GroupMember.Read.All" "$W/weak.err"' \
	"an application without User.Read.All: no stream, saying what to grant"

echo "$fails failure(s)"
[ "$fails" = 0 ]
