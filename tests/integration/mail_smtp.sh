#!/bin/sh
# SPDX-License-Identifier: ISC
# mail/ end to end against a real SMTP server (tests/tools/smtp-sink.py):
# STARTTLS + AUTH, three messages in one batch arriving byte for byte,
# per-recipient 4xx/5xx outcomes, and fail-closed TLS (no STARTTLS offered,
# unknown CA, wrong password) with nothing delivered.
set -u

. "$top_srcdir/tests/tools/smtp-lib.sh"
smtp_require

MAILSEND=$top_builddir/tests/tools/mail-send
PY=/usr/bin/python3
W=$(mktemp -d "${TMPDIR:-/tmp}/mail_smtp.XXXXXX") || exit 99
trap 'smtp_stop; rm -rf "$W"' EXIT

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# outcome FILE RCPT: the outcome column of RCPT's line.
outcome() {
	awk -F '\t' -v r="$2" '$1 == r { print $2 }' "$1"
}
reason() {
	awk -F '\t' -v r="$2" '$1 == r { print $3 }' "$1"
}

SUBJECT='Ihr S/MIME-Zertifikat für jürgen@example.org — gültig bis 2027-11-23 (Grüße aus Köln)'
NAME='Jürgen Müller-Lüdenscheidt <script>'

# --- 1. STARTTLS + AUTH, three messages in one batch --------------------------
smtp_start "$W/s1" --require-starttls --auth-user pkiuser --auth-password 's3cret pw' ||
	fail "cannot start the SMTP sink"
CA1=$SMTP_CA_FILE
head -c 5000 /dev/urandom >"$W/blob.p12"
mkdir "$W/saved"
"$MAILSEND" --host localhost --port "$SMTP_PORT" --ca "$SMTP_CA_FILE" \
	--user pkiuser --password 's3cret pw' --name "$NAME" --subject "$SUBJECT" \
	--html --attach "$W/blob.p12" --save "$W/saved" \
	a@example.org b@example.org c@example.org >"$W/out1" || fail "mail-send failed"
cat "$W/out1"
for r in a@example.org b@example.org c@example.org; do
	[ "$(outcome "$W/out1" $r)" = sent ] || fail "$r was not sent"
done
[ "$(smtp_count)" = 3 ] || fail "expected 3 stored messages, got $(smtp_count)"
for i in 1 2 3; do
	cmp "$W/saved/$i.eml" "$SMTP_DIR/0000$i.eml" ||
		fail "message $i did not arrive byte for byte"
done

"$PY" - "$SMTP_DIR" "$W/blob.p12" "$SUBJECT" "$NAME" <<'PYEOF' || fail "stored messages are wrong"
import email, email.policy, json, sys, os
from email.header import decode_header, make_header

d, blob_path, subject, name = sys.argv[1:5]
blob = open(blob_path, "rb").read()
rcpts = ["a@example.org", "b@example.org", "c@example.org"]
for i, rcpt in enumerate(rcpts, 1):
    meta = json.load(open(os.path.join(d, "%05d.json" % i)))
    assert meta["mail_from"] == "pki@example.org", meta
    assert meta["rcpt_tos"] == [rcpt], meta
    assert meta["tls"] is True, meta
    assert meta["auth"] == "pkiuser", meta
    raw = open(os.path.join(d, "%05d.eml" % i), "rb").read()
    assert b"\n" not in raw.replace(b"\r\n", b""), "bare LF"
    assert b"\r" not in raw.replace(b"\r\n", b""), "bare CR"
    for line in raw.split(b"\r\n"):
        assert len(line) <= 78, "line too long: %r" % line
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert not msg.defects, msg.defects
    assert str(msg["Subject"]) == subject, str(msg["Subject"])
    to = msg["To"].addresses[0]
    assert to.display_name == name and to.addr_spec == rcpt, (to.display_name, to.addr_spec)
    assert msg["From"].addresses[0].addr_spec == "pki@example.org"
    assert msg.get_content_type() == "multipart/mixed"
    text = msg.get_body(("plain",)).get_content()
    assert "this is a test message" in text and ".a line starting with a dot" in text
    html = msg.get_body(("html",)).get_content()
    assert "<b>test</b>" in html
    atts = list(msg.iter_attachments())
    assert len(atts) == 1, atts
    a = atts[0]
    assert a.get_content_type() == "application/pkcs12"
    assert a.get_filename() == "certificate.p12"
    assert a.get_payload(decode=True) == blob, "attachment differs"
    body = raw.split(b"Content-Disposition: attachment")[1].split(b"\r\n\r\n", 1)[1]
    for line in body.split(b"\r\n--")[0].split(b"\r\n"):
        assert len(line) <= 76
    for part in msg.walk():
        for defect in part.defects:
            raise AssertionError(defect)
print("python email: %d messages parse and decode correctly" % len(rcpts))
PYEOF

# Wrong password: RETRY naming AUTH, nothing stored.
"$MAILSEND" --host localhost --port "$SMTP_PORT" --ca "$SMTP_CA_FILE" \
	--user pkiuser --password wrong d@example.org >"$W/out_pw" || fail "mail-send failed"
cat "$W/out_pw"
[ "$(outcome "$W/out_pw" d@example.org)" = retry ] || fail "wrong password is not RETRY"
reason "$W/out_pw" d@example.org | grep -q "AUTH as pkiuser" || fail "reason does not name AUTH"
[ "$(smtp_count)" = 3 ] || fail "a message arrived without authentication"
smtp_stop

# --- 2. per-recipient outcomes, IP address as host ---------------------------
smtp_start "$W/s2" --reject r451@example.org=451 --reject r550@example.org=550 ||
	fail "cannot start the SMTP sink"
"$MAILSEND" --host 127.0.0.1 --port "$SMTP_PORT" --ca "$SMTP_CA_FILE" \
	a@example.org r451@example.org r550@example.org d@example.org >"$W/out2" ||
	fail "mail-send failed"
cat "$W/out2"
[ "$(outcome "$W/out2" a@example.org)" = sent ] || fail "a not sent"
[ "$(outcome "$W/out2" r451@example.org)" = retry ] || fail "451 is not RETRY"
[ "$(outcome "$W/out2" r550@example.org)" = failed ] || fail "550 is not FAILED"
[ "$(outcome "$W/out2" d@example.org)" = sent ] || fail "d not sent"
reason "$W/out2" r550@example.org | grep -q "550" || fail "550 reason lacks the reply"
[ "$(smtp_count)" = 2 ] || fail "expected 2 stored messages"
"$PY" -c 'import json,sys; m=json.load(open(sys.argv[1])); assert m["tls"] is True and m["auth"] is None, m' \
	"$SMTP_DIR/00001.json" || fail "envelope of the STARTTLS message is wrong"

# --- 3. the certificate is checked: a CA we do not trust -> RETRY, nothing sent
"$MAILSEND" --host localhost --port "$SMTP_PORT" --ca "$CA1" a@example.org >"$W/out3" ||
	fail "mail-send failed"
cat "$W/out3"
[ "$(outcome "$W/out3" a@example.org)" = retry ] || fail "untrusted CA is not RETRY"
reason "$W/out3" a@example.org | grep -q "certificate" || fail "reason does not mention the certificate"
[ "$(smtp_count)" = 2 ] || fail "a message was sent to an unverified server"
smtp_stop

# --- 3b. a certificate from the trusted CA but for another host name ---------
mkdir -p "$W/s3b"
cp -r "$W/s2/smtp-tls" "$W/s3b/smtp-tls"
T=$W/s3b/smtp-tls
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/other.key" \
	-out "$T/other.csr" -subj "/CN=other.example" >/dev/null 2>&1 || fail "openssl req"
printf '%s\n' "subjectAltName=DNS:other.example" >"$T/other.ext"
openssl x509 -req -in "$T/other.csr" -CA "$T/ca.pem" -CAkey "$T/ca.key" -CAcreateserial \
	-days 2 -extfile "$T/other.ext" -out "$T/other.pem" >/dev/null 2>&1 || fail "openssl x509"
smtp_start "$W/s3b" --tls-cert "$T/other.pem" --tls-key "$T/other.key" ||
	fail "cannot start the SMTP sink"
for host in localhost 127.0.0.1; do
	"$MAILSEND" --host $host --port "$SMTP_PORT" --ca "$SMTP_CA_FILE" a@example.org \
		>"$W/out3b" || fail "mail-send failed"
	cat "$W/out3b"
	[ "$(outcome "$W/out3b" a@example.org)" = retry ] || fail "$host: wrong name is not RETRY"
	reason "$W/out3b" a@example.org | grep -q "mismatch" || fail "$host: reason lacks mismatch"
done
[ "$(smtp_count)" = 0 ] || fail "a message was sent to a server with the wrong name"
smtp_stop

# --- 4. STARTTLS required but not offered -> RETRY, nothing sent --------------
smtp_start "$W/s4" --no-starttls || fail "cannot start the SMTP sink"
"$MAILSEND" --host localhost --port "$SMTP_PORT" --ca "$SMTP_CA_FILE" \
	a@example.org b@example.org >"$W/out4" || fail "mail-send failed"
cat "$W/out4"
for r in a@example.org b@example.org; do
	[ "$(outcome "$W/out4" $r)" = retry ] || fail "$r: no STARTTLS is not RETRY"
	reason "$W/out4" $r | grep -q STARTTLS || fail "$r: reason does not mention STARTTLS"
done
[ "$(smtp_count)" = 0 ] || fail "a message was sent without TLS"
smtp_stop

# --- 5. nobody listening -> RETRY naming host:port -----------------------------
"$MAILSEND" --host localhost --port "$SMTP_PORT" --ca "$SMTP_CA_FILE" a@example.org \
	>"$W/out5" || fail "mail-send failed"
cat "$W/out5"
[ "$(outcome "$W/out5" a@example.org)" = retry ] || fail "connection refused is not RETRY"
reason "$W/out5" a@example.org | grep -q "localhost:$SMTP_PORT" || fail "reason lacks host:port"

echo "mail_smtp: all checks passed"
exit 0
