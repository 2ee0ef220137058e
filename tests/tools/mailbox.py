# SPDX-License-Identifier: ISC
"""Inspect the messages the SMTP sink stored, the way a mail client would.

usage: mailbox.py SINK_DIR OUT_DIR

For every stored message: parse it with Python's email package, check the
wire format (CRLF only, base64 lines <= 76, no raw 8-bit in headers), and
sort it into a collection mail (has an application/pkcs12 part) or a
password mail. Writes OUT_DIR/<rcpt>.p12 and OUT_DIR/<rcpt>.password for
the newest of each, and prints one line per recipient:

    <rcpt> collection=<n> password=<n>

Problems are printed as "ERROR: ..." and make the exit status 1.
"""
import email
import email.policy
import json
import os
import re
import sys

PASSWORD_RE = re.compile(r"\b[A-Za-z0-9]{4}(?:-[A-Za-z0-9]{4}){5}\b")


def main():
    sink, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    errors = []
    counts = {}
    collections = []  # (rcpt, decoded text of the whole message)
    passwords = {}
    for name in sorted(os.listdir(sink)):
        if not name.endswith(".eml"):
            continue
        raw = open(os.path.join(sink, name), "rb").read()
        env = json.load(open(os.path.join(sink, name[:-4] + ".json")))
        rcpts = env["rcpt_tos"]
        if len(rcpts) != 1:
            errors.append(f"{name}: {len(rcpts)} recipients, expected exactly 1")
            continue
        rcpt = rcpts[0]
        if re.search(rb"(?<!\r)\n", raw) or re.search(rb"\r(?!\n)", raw):
            errors.append(f"{name}: line ending that is not CRLF")
        head = raw.split(b"\r\n\r\n", 1)[0]
        if any(b > 127 for b in head):
            errors.append(f"{name}: raw 8-bit byte in the header block")
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        if msg["To"] is None or rcpt not in str(msg["To"]):
            errors.append(f"{name}: To header {msg['To']!r} does not name {rcpt}")
        if "bcc" in (k.lower() for k in msg.keys()):
            errors.append(f"{name}: a Bcc header appeared")
        c = counts.setdefault(rcpt, {"collection": 0, "password": 0})
        p12 = None
        texts = []
        for part in msg.walk():
            ctype = part.get_content_type()
            if ctype == "application/pkcs12":
                p12 = part.get_payload(decode=True)
                body = part.get_payload()
                for line in body.splitlines():
                    if len(line) > 76:
                        errors.append(f"{name}: base64 line longer than 76")
                        break
            elif ctype.startswith("text/"):
                texts.append(part.get_content())
        text = "\n".join(texts)
        safe = rcpt.replace("/", "_")
        if p12 is not None:
            c["collection"] += 1
            open(os.path.join(out, safe + ".p12"), "wb").write(p12)
            collections.append((rcpt, text + str(msg["Subject"])))
        else:
            found = PASSWORD_RE.findall(text)
            if not found:
                errors.append(f"{name}: neither a PKCS#12 nor a password in the mail to {rcpt}")
                continue
            c["password"] += 1
            passwords[rcpt] = found[0]
            open(os.path.join(out, safe + ".password"), "w").write(found[0])
    for rcpt, text in collections:
        for pw in passwords.values():
            if pw in text:
                errors.append(f"collection mail to {rcpt} contains a password")
    for rcpt in sorted(counts):
        print(f"{rcpt} collection={counts[rcpt]['collection']} password={counts[rcpt]['password']}")
    for e in errors:
        print("ERROR: " + e)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
