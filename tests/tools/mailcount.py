# SPDX-License-Identifier: ISC
"""Count the messages the SMTP sink stored, by recipient and kind.

usage: mailcount.py SINK_DIR [FIRST_NUMBER]

Prints one line per (recipient, kind), sorted: "<rcpt> <kind> <count>".
The kind comes from the subject: collection, password, reminder-renew,
reminder-leaver, reminder-install, notice (or "other"). Only messages
numbered FIRST_NUMBER and later are counted (default: all).
"""
import email
import email.policy
import json
import os
import sys

KINDS = [
    ("will be renewed automatically", "reminder-renew"),
    ("will not be renewed", "reminder-leaver"),
    ("install your new", "reminder-install"),
    ("smimesync run", "notice"),
    ("password for", "password"),
    ("your s/mime certificate for", "collection"),
]

sink = sys.argv[1]
first = int(sys.argv[2]) if len(sys.argv) > 2 else 0
counts = {}
for name in sorted(os.listdir(sink)):
    if not name.endswith(".eml") or int(name[:-4]) < first:
        continue
    env = json.load(open(os.path.join(sink, name[:-4] + ".json")))
    msg = email.message_from_bytes(open(os.path.join(sink, name), "rb").read(),
                                   policy=email.policy.default)
    subject = str(msg["Subject"]).lower()
    kind = next((k for key, k in KINDS if key in subject), "other")
    for rcpt in env["rcpt_tos"]:
        counts[(rcpt, kind)] = counts.get((rcpt, kind), 0) + 1
for (rcpt, kind), n in sorted(counts.items()):
    print(f"{rcpt} {kind} {n}")
