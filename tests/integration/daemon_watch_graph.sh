#!/bin/sh
# SPDX-License-Identifier: ISC
# The daemon follows Microsoft Graph's delta queries (issue #17), against
# tests/tools/graph-fake.py (Graph cannot run here; the stand-in serves delta
# links, members@delta and syncStateNotFound as Microsoft documents them),
# publishing into a real slapd address book. Checked from outside
# (ldapsearch of userCertificate in the book, the CA's record in certs):
#   - the first run is a full read; the stream's delta links are stored;
#   - a user added to the watched group: their certificate is published,
#     by an incremental run triggered by a change in [directory entra],
#     which reads no group (members@delta names the user: looked up alone);
#   - a user removed (on_leave = revoke, no grace): revoked, unpublished;
#   - a user changed: looked up alone (GET, checkMemberGroups), no group read;
#   - an expired delta link (syncStateNotFound): the next run is a full
#     read, reported as "refresh required ... link-expired", logged once
#     as a warning, and a change made meanwhile is not missed;
#   - killed (-9) just after a change, another made while it is down,
#     started again: both acted on, nobody's certificate issued twice.
# Waits poll a bounded number of times; no claim on how fast.
set -u
: "${top_srcdir:?}" "${top_builddir:?}" "${SMIMESYNC:?}"
. "$top_srcdir/tests/tools/slapd-lib.sh"
. "$top_srcdir/tests/tools/graph-lib.sh"
. "$top_srcdir/tests/tools/test-lib.sh" # wait_for
slapd_require
graph_require
command -v sqlite3 >/dev/null || { echo "SKIP: sqlite3 is not installed (tools/install-deps)"; exit 77; }
command -v jq >/dev/null || { echo "SKIP: jq is not installed (tools/install-deps)"; exit 77; }

W=$(mktemp -d /tmp/smimesync-dwgraph.XXXXXX)
DPID=
cleanup() {
	if [ -n "$DPID" ] && kill -0 "$DPID" 2>/dev/null; then kill -KILL "$DPID"; wait "$DPID" 2>/dev/null || true; fi
	graph_stop; slapd_stop || true; [ -n "${KEEP:-}" ] || rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
check() { if eval "$1"; then echo "ok: $2"; else fail "$2"; fi; }

TENANT=6f1c1a3e-0d2b-4c39-9a51-2b7e8d4f0a11
CLIENT=3d9e5b7a-8c41-4f26-b0e3-7a1c9d2e4f58
G_STAFF=0b4ad5e4-7f44-4d8a-9c71-3c1d2a5e6f70
G_OTHER=0b4ad5e4-7f44-4d8a-9c71-3c1d2a5e6f73
U_ALICE=a11ce000-0000-4000-8000-000000000001
U_ERIN=e2100000-0000-4000-8000-000000000005
U_FRANK=f2a40000-0000-4000-8000-000000000006
U_PKI=9c100000-0000-4000-8000-000000000009
U_GINA=9a1a0000-0000-4000-8000-000000000007

mkdir -p "$W/ldap" "$W/graph" "$W/state" "$W/ca" "$W/app" "$W/offline"
chmod 700 "$W/state" "$W/ca" "$W/app" "$W/offline"
slapd_start "$W/ldap"
{
	for p in alice erin frank gina; do
		printf 'dn: uid=%s,ou=people,%s\nobjectClass: inetOrgPerson\nuid: %s\ncn: %s\nsn: %s\nmail: %s@example.org\n\n' \
			"$p" "$SLAPD_BASE" "$p" "$p" "$p" "$p"
	done
} >"$W/people.ldif"
slapd_load "$W/people.ldif"
printf 'fake-secret~Value.0123456789\n' >"$W/app/secret"
chmod 600 "$W/app/secret"

user() { # id name mail
	printf '"%s": {"displayName": "%s", "givenName": "%s", "surname": "Example", "mail": "%s", "userPrincipalName": "%s", "otherMails": [], "proxyAddresses": [], "accountEnabled": true, "userType": "Member", "onPremisesDistinguishedName": null}' \
		"$1" "$2" "$2" "$3" "$3"
}
USERS="$(user $U_ALICE Alice alice@example.org), $(user $U_ERIN Erin erin@example.org), $(user $U_FRANK Frank frank@example.org), $(user $U_GINA Gina gina@example.org), $(user $U_PKI PKI pki@example.org)"
write_tenant() { # EXTRA STAFF
	cat >"$W/graph/tenant.json.new" <<JSON
{"tenant": "$TENANT", "page_size": 100, "token_lifetime": 3600 $1,
 "clients": {"$CLIENT": {"secret": "fake-secret~Value.0123456789",
   "permissions": ["GroupMember.Read.All", "User.Read.All", "Mail.Send"]}},
 "groups": {
  "$G_STAFF": {"displayName": "S/MIME Staff", "members": [$2]},
  "$G_OTHER": {"displayName": "Other", "members": []}},
 "users": {$USERS}}
JSON
	mv "$W/graph/tenant.json.new" "$W/graph/tenant.json"
}
write_tenant "" "\"$U_ALICE\""
graph_start "$W/graph" "$SLAPD_WORKDIR/tls/server.pem" "$SLAPD_WORKDIR/tls/server.key"
cp "$SLAPD_SVC_PW_FILE" "$W/ldap.secret"
chmod 600 "$W/ldap.secret"
cat >"$W/smimesync.conf" <<CONF
[service]
state_dir = $W/state
log_level = debug
interval = 1h
jitter = 0s

[directory entra]
type = graph
tenant_id = $TENANT
client_id = $CLIENT
client_secret_file = $W/app/secret
authority_host = $GRAPH_URL
graph_host = $GRAPH_URL
tls_ca_file = $SLAPD_CA_FILE
incremental = yes
poll_interval = 1s

[directory book]
type = ldap
uri = $SLAPD_URI
bind_dn = $SLAPD_SVC_DN
bind_password_file = $W/ldap.secret
base_dn = $SLAPD_BASE
tls_ca_file = $SLAPD_CA_FILE

[ca internal]
cert_file = $W/ca/issuing.pem
key_file = $W/ca/issuing.key
chain_file = $W/ca/chain.pem
crl_url = http://pki.example.org/smime.crl
key_type = p256

[mail]
transport = graph
directory = entra
from = Example PKI <pki@example.org>

[group staff]
directory = entra
group_id = $G_STAFF
publish_to = book
ca = internal
key_type = p256
on_leave = revoke
leave_grace = 0s
CONF
export SMIMESYNC_CONF="$W/smimesync.conf"
"$SMIMESYNC" ca init --root-key-out "$W/offline/root.key" >/dev/null
DB=$W/state/smimesync.db

runs_done() { sqlite3 -cmd ".timeout 60000" "$DB" "SELECT COUNT(*) FROM runs WHERE report IS NOT NULL" 2>/dev/null || echo 0; }
published() {
	ldapsearch -x -LLL -H "$SLAPD_URI" -b "uid=$1,ou=people,$SLAPD_BASE" -s base 'userCertificate;binary' 2>/dev/null |
		grep -c '^userCertificate;binary::'
}
certs() { # mail status
	sqlite3 -cmd ".timeout 60000" "$DB" "SELECT COUNT(*) FROM certs c JOIN users u ON u.id = c.user_id WHERE u.mail = '$1' AND c.status = '$2'"
}
report_with() { sqlite3 -cmd ".timeout 60000" "$DB" "SELECT report FROM runs WHERE report LIKE '%$1%' ORDER BY started, rowid LIMIT 1"; }
WAIT=6000

"$SMIMESYNC" daemon 2>"$W/daemon.log" &
DPID=$!
wait_for '! kill -0 $DPID 2>/dev/null || { [ "$(runs_done)" -ge 1 ] && [ "$(published alice)" -ge 1 ]; }' $WAIT
kill -0 $DPID 2>/dev/null && [ "$(published alice)" -ge 1 ] || { fail "no first run"; tail -30 "$W/daemon.log"; exit 1; }
R=$(sqlite3 -cmd ".timeout 60000" "$DB" "SELECT report FROM runs WHERE report IS NOT NULL ORDER BY started, rowid LIMIT 1")
check '[ "$(echo "$R" | jq -r .run.kind)" = full ] && [ "$(echo "$R" | jq -r .run.trigger)" = "daemon start" ]' \
	"the first run is a full read"
check '[ "$(sqlite3 -cmd ".timeout 60000" "$DB" "SELECT kind FROM stream_state WHERE directory = '"'entra'"' AND state LIKE '"'%deltatoken%'"'")" = graph-delta ]' \
	"the delta links are stored with it"

# --- a user added ------------------------------------------------------------------
write_tenant "" "\"$U_ALICE\", \"$U_ERIN\""
if wait_for '[ "$(published erin)" -ge 1 ]' $WAIT; then echo "ok: an added member's certificate is published"; else fail "erin not published"; fi
wait_for '[ -n "$(report_with erin@example.org)" ]' $WAIT
R=$(report_with erin@example.org)
check '[ "$(echo "$R" | jq -r .run.kind)" = incremental ] && [ "$(echo "$R" | jq -r .run.trigger)" = "a change in [directory entra]" ]' \
	"by an incremental run, triggered by a change in [directory entra]"
check '[ "$(echo "$R" | jq -r ".groups | length")" = 0 ] && grep -q "looked up $U_ERIN alone: in 1 of the 1 groups" "$W/daemon.log"' \
	"that run read no group: members@delta named erin, who was looked up alone"

# --- a user removed ----------------------------------------------------------------
write_tenant "" "\"$U_ERIN\""
if wait_for '[ "$(published alice)" = 0 ] && [ "$(certs alice@example.org revoked)" -ge 1 ]' $WAIT; then
	echo "ok: a removed member is revoked and unpublished"
else
	fail "alice still published or not revoked"
fi
R=$(sqlite3 -cmd ".timeout 60000" "$DB" "SELECT report FROM runs WHERE report LIKE '%alice@example.org%' ORDER BY started DESC, rowid DESC LIMIT 1")
check '[ -n "$R" ] && [ "$(echo "$R" | jq -r .run.kind)" = incremental ] && [ "$(echo "$R" | jq -r ".groups | length")" = 0 ]' \
	"by an incremental run that read no group: alice was looked up alone and found in none"

# --- a user changed: looked up alone ------------------------------------------------
# The delta names erin (a new display name) as a PERSON of staff: the run
# looks her up alone (GET the user, checkMemberGroups) and reads no group.
NR=$(runs_done)
USERS="$(user $U_ALICE Alice alice@example.org), $(user $U_ERIN Erina erin@example.org), $(user $U_FRANK Frank frank@example.org), $(user $U_GINA Gina gina@example.org), $(user $U_PKI PKI pki@example.org)"
write_tenant "" "\"$U_ERIN\""
wait_for 'grep -q "looked up $U_ERIN alone: in 1 of the 1 groups of \[directory entra\]" "$W/daemon.log" && [ "$(runs_done)" -gt "$NR" ]' $WAIT
R=$(sqlite3 -cmd ".timeout 60000" "$DB" "SELECT report FROM runs WHERE report IS NOT NULL ORDER BY started DESC, rowid DESC LIMIT 1")
check 'grep -q "looked up $U_ERIN alone: in 1 of the 1 groups of \[directory entra\]" "$W/daemon.log" && [ "$(echo "$R" | jq -r .run.kind)" = incremental ] && [ "$(echo "$R" | jq -r ".groups | length")" = 0 ]' \
	"a changed member is looked up alone: the run reads no group"

# --- an expired delta link ----------------------------------------------------------
NR=$(runs_done)
write_tenant ', "faults": {"expire_delta": true}' "\"$U_ERIN\", \"$U_FRANK\""
wait_for 'grep -q "the change stream asks for a full read (link-expired" "$W/daemon.log"' $WAIT
write_tenant "" "\"$U_ERIN\", \"$U_FRANK\""
if wait_for '[ "$(published frank)" -ge 1 ]' $WAIT; then echo "ok: a member added while the link expired is not missed"; else fail "frank missed"; fi
wait_for '[ -n "$(sqlite3 -cmd ".timeout 60000" "$DB" "SELECT 1 FROM runs WHERE report LIKE '"'%link-expired%'"'")" ]' $WAIT
R=$(sqlite3 -cmd ".timeout 60000" "$DB" "SELECT report FROM runs WHERE report LIKE '%link-expired%' ORDER BY started, rowid LIMIT 1")
check '[ "$(echo "$R" | jq -r .run.kind)" = full ] && echo "$R" | jq -r .run.trigger | grep -q "^refresh required in \[directory entra\]: link-expired: "' \
	"the expired link: a full read, reported as such with the reason"
check '[ "$(grep -c "the change stream asks for a full read (link-expired" "$W/daemon.log")" -ge 1 ]' \
	"logged as a warning"
check '[ "$(sqlite3 -cmd ".timeout 60000" "$DB" "SELECT COUNT(*) FROM (SELECT user_id FROM certs WHERE status = '"'valid'"' GROUP BY user_id HAVING COUNT(*) > 1)")" = 0 ] && [ "$(certs erin@example.org valid)" = 1 ] && [ "$(certs frank@example.org valid)" = 1 ]' \
	"nobody holds two valid certificates"

# --- killed mid-stream, changes while it is down, started again ---------------------
# Gina joins just before the kill (the stream may have seen it, no run has
# acted on it: the debounce is 2 s); Frank leaves while it is down.
NR=$(runs_done)
write_tenant "" "\"$U_ERIN\", \"$U_FRANK\", \"$U_GINA\""
sleep 1
kill -KILL "$DPID"
wait "$DPID" 2>/dev/null
check '[ "$(runs_done)" = "$NR" ]' "killed before any run acted on the change"
write_tenant "" "\"$U_ERIN\", \"$U_GINA\""
"$SMIMESYNC" daemon 2>>"$W/daemon.log" &
DPID=$!
if wait_for '[ "$(published gina)" -ge 1 ] && [ "$(published frank)" = 0 ] && [ "$(certs frank@example.org revoked)" -ge 1 ]' $WAIT; then
	echo "ok: started again, the member added before the kill is published, the one removed while it was down revoked"
else
	fail "after the restart: gina published $(published gina), frank published $(published frank), frank revoked $(certs frank@example.org revoked)"
fi
wait_for '[ "$(sqlite3 -cmd ".timeout 60000" "$DB" "SELECT COUNT(*) FROM runs WHERE report IS NULL")" = 0 ]' $WAIT
check '[ "$(certs erin@example.org valid)" = 1 ] && [ "$(sqlite3 -cmd ".timeout 60000" "$DB" "SELECT COUNT(*) FROM certs c JOIN users u ON u.id = c.user_id WHERE u.mail = '"'erin@example.org'"'")" = 1 ]' \
	"nothing twice: erin, a member all along, still has her one certificate"
check '[ "$(certs gina@example.org valid)" = 1 ] && [ "$(published gina)" = 1 ]' \
	"gina holds one valid certificate, published once"

# --- two people looked up in one run: their group resolved once ---------------------
# Erin and Gina renamed at once: one run (the debounce batches them) looks
# both up alone; the group's object id is asked of Graph once, not per person.
NR=$(runs_done)
: >"$W/graph/requests.jsonl"
USERS="$(user $U_ALICE Alice alice@example.org), $(user $U_ERIN Erin2 erin@example.org), $(user $U_FRANK Frank frank@example.org), $(user $U_GINA Gina2 gina@example.org), $(user $U_PKI PKI pki@example.org)"
write_tenant "" "\"$U_ERIN\", \"$U_GINA\""
wait_for 'grep -q "looked up $U_GINA alone" "$W/daemon.log" && grep -c "looked up $U_ERIN alone" "$W/daemon.log" | grep -q "^[2-9]" && [ "$(sqlite3 -cmd ".timeout 60000" "$DB" "SELECT COUNT(*) FROM runs WHERE report IS NULL")" = 0 ]' $WAIT
check '[ "$(grep -c "\"GET\", \"path\": \"/v1.0/groups/$G_STAFF?" "$W/graph/requests.jsonl")" = 1 ] && [ "$(grep -c "checkMemberGroups" "$W/graph/requests.jsonl")" -ge 2 ]' \
	"two people looked up in one run: staff's object id asked of Graph once ($(grep -c "\"path\": \"/v1.0/groups/$G_STAFF?" "$W/graph/requests.jsonl") GET)"

kill -TERM "$DPID"
wait "$DPID" 2>/dev/null
DPID=
[ "$fails" = 0 ] || { echo "--- daemon.log (tail)"; tail -60 "$W/daemon.log"; }
echo "$fails failure(s)"
[ "$fails" = 0 ]
