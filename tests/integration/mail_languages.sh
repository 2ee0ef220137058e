#!/bin/sh
# SPDX-License-Identifier: ISC
# Mails a wary user can trust, in their language, read the way a mail
# client reads them (Python's email parser on what the SMTP sink stored):
#   - the language: preferredLanguage from the directory (de-DE: German;
#     "fr-CH, de;q=0.5": French), else the group's language = (ja has no
#     templates: the group's German), else [mail] language (English);
#   - non-ASCII names intact: To and Subject as RFC 2047 encoded-words,
#     text and HTML bodies in UTF-8, "Jörg Müller", "Zoë Šimková", "健 渡辺";
#   - the collection mail says why the person gets it, how to check it is
#     genuine (verify_at), and shows fingerprints that openssl computes the
#     same from the attached certificate and from the root the CA made;
#   - one reply address: Reply-To is [mail] reply_to, and the text names it;
#   - the attachment's name carries the date and serial;
#   - a renewal says it is one, in the person's language, and names the
#     certificate it replaces.
set -eu
: "${top_srcdir:?}" "${top_builddir:?}" "${SMIMESYNC:?}"
. "$top_srcdir/tests/tools/slapd-lib.sh"
. "$top_srcdir/tests/tools/smtp-lib.sh"
. "$top_srcdir/tests/tools/smimesync-lib.sh"
. "$top_srcdir/tests/tools/test-lib.sh"
slapd_require
smtp_require
command -v faketime >/dev/null || { echo "SKIP: faketime is not installed (tools/install-deps)"; exit 77; }

test_begin languages
test_org_servers
cat >"$W/lang.ldif" <<LDIF
dn: uid=joerg,ou=people,$SLAPD_BASE
changetype: modify
add: preferredLanguage
preferredLanguage: de-DE

dn: uid=zoe,ou=people,$SLAPD_BASE
changetype: modify
add: preferredLanguage
preferredLanguage: fr-CH, de;q=0.5

dn: uid=watanabe,ou=people,$SLAPD_BASE
changetype: modify
add: preferredLanguage
preferredLanguage: ja
LDIF
ldapmodify -x -H "$SLAPD_URI" -D "$SLAPD_ADMIN_DN" -y "$SLAPD_ADMIN_PW_FILE" -f "$W/lang.ldif" >/dev/null
smimesync_write_config "$W" p256 p256
# staff writes German; [mail] gets a reply address and a place to check fingerprints.
sed -i -e '/^from = /a reply_to = PKI Hilfe <pki-hilfe@example.org>\nverify_at = https://intranet.example.org/pki' \
	-e '/^\[group smime-staff\]/a language = de' "$SMIMESYNC_CONF"
"$SMIMESYNC" ca init --root-key-out "$ROOT_KEY_OUT" >/dev/null
check '"$SMIMESYNC" check-config >"$W/check.out" 2>&1' "check-config renders every template in en, de and fr"
"$SMIMESYNC" run --format json >"$W/run1.json" 2>"$W/run1.log" || { tail -5 "$W/run1.log"; fail "first run"; }
csplit -s -z -f "$W/part" "$W/ca/chain.pem" '/-----BEGIN CERTIFICATE-----/' '{*}'
ROOT=$(ls "$W"/part* | tail -n 1)
ROOT_SHA1=$(openssl x509 -in "$ROOT" -noout -fingerprint -sha1 | cut -d= -f2 | tr -d :)

# mails.py RCPT KIND: the newest mail of KIND (collection|password) to RCPT, as JSON.
cat >"$W/mails.py" <<'PY'
import email, email.policy, glob, json, sys
rcpt, kind = sys.argv[2], sys.argv[3]
found = None
for j in sorted(glob.glob(sys.argv[1] + "/*.json")):
    if json.load(open(j))["rcpt_tos"] != [rcpt]:
        continue
    raw = open(j[:-5] + ".eml", "rb").read()
    m = email.message_from_bytes(raw, policy=email.policy.default)
    parts = {p.get_content_type(): p for p in m.walk()}
    k = "collection" if "application/pkcs12" in parts else "password"
    if k != kind:
        continue
    head = raw.split(b"\r\n\r\n", 1)[0].decode("ascii")
    found = {
        "subject": str(m["Subject"]), "to": str(m["To"]), "reply_to": str(m["Reply-To"]),
        "raw_subject": [l for l in head.split("\r\n") if l.startswith("Subject:")][0],
        "raw_to": [l for l in head.split("\r\n") if l.startswith("To:")][0],
        # Bodies travel with CRLF; a client shows lines.
        "text": parts["text/plain"].get_content().replace("\r\n", "\n"),
        "html": parts["text/html"].get_content().replace("\r\n", "\n"),
        "text_charset": parts["text/plain"].get_content_charset(),
        "filename": parts["application/pkcs12"].get_filename() if k == "collection" else None,
    }
    if k == "collection":
        open(sys.argv[4], "wb").write(parts["application/pkcs12"].get_payload(decode=True))
print(json.dumps(found))
PY
mail_of() { /usr/bin/python3 "$W/mails.py" "$SMTP_DIR" "$1" "$2" "$W/$1.p12"; }
flat() { jq -r ".$2" "$1" | tr '\n' ' '; }

# --- Jörg: preferredLanguage de-DE -> German -----------------------------------
mail_of joerg.mueller@example.org collection >"$W/joerg.json"
check '[ "$(jq -r .subject "$W/joerg.json")" = "Ihr S/MIME-Zertifikat für joerg.mueller@example.org" ]' \
	"Jörg (de-DE) gets his collection mail in German"
check 'jq -r .raw_subject "$W/joerg.json" | grep -q "=?UTF-8?"' "its Subject is an RFC 2047 encoded-word on the wire"
check '[ "$(jq -r .to "$W/joerg.json")" = "Jörg Müller <joerg.mueller@example.org>" ] && jq -r .raw_to "$W/joerg.json" | grep -q "=?UTF-8?"' \
	"To: reads \"Jörg Müller\" and is encoded on the wire"
check '[ "$(jq -r .text_charset "$W/joerg.json")" = utf-8 ] && jq -r .text "$W/joerg.json" | grep -q "^Guten Tag Jörg Müller,$" && jq -r .html "$W/joerg.json" | grep -q "Guten Tag Jörg Müller,"' \
	"the text and HTML bodies greet \"Jörg Müller\" intact (UTF-8)"
check 'flat "$W/joerg.json" text | grep -q "weil Sie Mitglied der Gruppe „smime-sales“ sind"' "it says why he gets it"
check 'flat "$W/joerg.json" text | grep -q "Vergleichen Sie sie mit den unter https://intranet.example.org/pki veröffentlichten"' \
	"it says where to check the fingerprints (verify_at)"
check '[ "$(jq -r .reply_to "$W/joerg.json")" = "PKI Hilfe <pki-hilfe@example.org>" ] && flat "$W/joerg.json" text | grep -q "pki-hilfe@example.org"' \
	"Reply-To is [mail] reply_to, and the text names the same address"
check 'jq -r .filename "$W/joerg.json" | grep -Eq "^joerg\.mueller@example\.org-[0-9]{4}-[0-9]{2}-[0-9]{2}-[0-9A-F]{8}\.p12$"' \
	"the attachment is named with the date and serial: $(jq -r .filename "$W/joerg.json")"
pw=$(mail_of joerg.mueller@example.org password | jq -r .text | grep -Eo '[A-Za-z0-9]{4}(-[A-Za-z0-9]{4}){5}' | head -n 1)
mail_of joerg.mueller@example.org password >"$W/joerg-pw.json"
check 'jq -r .subject "$W/joerg-pw.json" | grep -q "^Kennwort für Ihre S/MIME-Zertifikatsdatei joerg.mueller@example.org-"' \
	"his password mail is German too, and names the same file"
# The fingerprints in the mail are the certificate's and the root's, as openssl sees them.
openssl pkcs12 -in "$W/joerg.mueller@example.org.p12" -passin "pass:$pw" -nokeys -clcerts -out "$W/joerg-leaf.pem" 2>/dev/null ||
	fail "the PKCS#12 does not open with the mailed password"
leaf_fp=$(openssl x509 -in "$W/joerg-leaf.pem" -noout -fingerprint -sha256 | cut -d= -f2)
check 'flat "$W/joerg.json" text | grep -q "$leaf_fp"' "the mail shows the certificate's SHA-256 fingerprint ($leaf_fp)"
check 'flat "$W/joerg.json" text | grep -q "$ROOT_SHA1" && flat "$W/joerg.json" text | grep -q "Wenn Windows nach einem Stammzertifikat fragt"' \
	"and the root's SHA-1 thumbprint as Windows shows it ($ROOT_SHA1), with what the prompt means"

# --- Zoë: "fr-CH, de;q=0.5" -> French --------------------------------------------------
mail_of zoe.simkova@example.org collection >"$W/zoe.json"
check '[ "$(jq -r .subject "$W/zoe.json")" = "Votre certificat S/MIME pour zoe.simkova@example.org" ]' \
	"Zoë (fr-CH, de;q=0.5) gets French"
check 'jq -r .text "$W/zoe.json" | grep -q "^Bonjour Zoë Šimková,$" && jq -r .html "$W/zoe.json" | grep -q "Bonjour Zoë Šimková,"' \
	"\"Zoë Šimková\" intact in text and HTML"
check '[ "$(jq -r .to "$W/zoe.json")" = "Zoë Šimková <zoe.simkova@example.org>" ]' "To: reads \"Zoë Šimková\""
check 'flat "$W/zoe.json" text | grep -q "Si Windows vous interroge sur un certificat racine"' "the French mail explains the Windows root prompt"

# --- 健 渡辺: ja has no templates -> the group's language (staff: de) ------------------
mail_of ken.watanabe@example.org collection >"$W/ken.json"
check 'jq -r .subject "$W/ken.json" | grep -q "^Ihr S/MIME-Zertifikat für"' "a language without templates (ja) falls back to the group's (de)"
check 'jq -r .text "$W/ken.json" | grep -q "^Guten Tag 健 渡辺,$"' "\"健 渡辺\" intact"
# --- alice: nothing set, group sales -> [mail] language en -------------------------------
mail_of alice@example.org collection >"$W/alice.json"
check '[ "$(jq -r .subject "$W/alice.json")" = "Your S/MIME certificate for alice@example.org" ]' "no preference, no group language: English"

# --- a year later: the renewal says so ---------------------------------------------------
faketime -f "+352d" "$SMIMESYNC" run --format json >"$W/run2.json" 2>"$W/run2.log" || { tail -5 "$W/run2.log"; fail "renewal run"; }
old_serial=$(openssl x509 -in "$W/joerg-leaf.pem" -noout -serial | cut -d= -f2)
mail_of joerg.mueller@example.org collection >"$W/joerg2.json"
check '[ "$(jq -r .subject "$W/joerg2.json")" = "Ihr erneuertes S/MIME-Zertifikat für joerg.mueller@example.org" ]' \
	"the renewal mail says it is one (German subject)"
check 'flat "$W/joerg2.json" text | grep -q "Ihr S/MIME-Zertifikat wurde ERNEUERT" && flat "$W/joerg2.json" text | grep -q "$old_serial"' \
	"and names the certificate it replaces ($old_serial)"
check '[ "$(jq -r .filename "$W/joerg2.json")" != "$(jq -r .filename "$W/joerg.json")" ]' \
	"the renewed file has a new name: last year's file is not overwritten"
mail_of zoe.simkova@example.org collection >"$W/zoe2.json"
check '[ "$(jq -r .subject "$W/zoe2.json")" = "Votre certificat S/MIME renouvelé pour zoe.simkova@example.org" ]' \
	"Zoë's renewal is French and says renouvelé"

test_end
