#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""Write a run report of N people, as a roll-out of that size stores it.

usage: big-report.py N RUN_ID > report.json

Most people were issued a certificate; every 100th failed at the CA, every
50th other was skipped (no mail), one in 250 is pending; groups staff, sales and
support; names with markup and non-ASCII letters. The report follows
doc/report.schema.json, so reports.sh can validate it before the HTML
report is made from it.
"""
import json
import sys


def main():
    n, run_id = int(sys.argv[1]), sys.argv[2]
    users, errors = [], []
    counts = dict.fromkeys(["users_seen", "issued", "renewed", "reissued", "unchanged", "skipped",
                            "published", "retired", "revoked", "reminded", "mails_queued",
                            "mails_sent", "mails_failed", "errors"], 0)
    groups = ["staff", "sales", "support"]
    for i in range(1, n + 1):
        mail = "user%06d@example.org" % i
        u = {"mail": mail, "name": "Ünal <b>%06d</b> Ærø" % i, "id": "id-%06d" % i,
             "dn": "uid=user%06d,ou=people,dc=example,dc=org" % i, "group": groups[i % 3],
             "action": "issue", "reason": "no valid certificate in the store",
             "outcome": "done", "serial": "%032X" % (i * 7919), "not_after": "2027-11-23T18:50:00Z",
             "step": None, "error": None}
        if i % 100 == 0:
            u.update(outcome="failed", serial=None, not_after=None, step="ca_asked",
                     error="[ca internal] rejected: policy forbids %s" % mail)
            errors.append({"user": mail, "step": "ca_asked", "message": u["error"]})
        elif i % 50 == 0:
            u.update(mail=None, action="skip", reason="no mail attribute", outcome="skipped",
                     serial=None, not_after=None)
            counts["skipped"] += 1
        elif i % 250 == 125:
            u.update(outcome="pending", serial=None, not_after=None, step="ca_asked",
                     error="[ca cfssl] pending: waiting for approval")
        else:
            counts["issued"] += 1
            counts["published"] += 1
            counts["mails_queued"] += 2
            counts["mails_sent"] += 2
        users.append(u)
    counts["users_seen"] = n
    counts["errors"] = len(errors)
    doc = {"id": run_id, "started": "2026-11-23T18:00:00Z", "finished": "2026-11-23T18:45:00Z",
           "duration_ms": 2700000, "dry_run": False, "status": "partial", "counts": counts,
           "groups": [{"name": g, "directory": "corp", "members": n // 3, "status": "ok",
                       "error": None, "publish_to": "corp"} for g in groups],
           "users": users, "errors": errors}
    json.dump(doc, sys.stdout)


if __name__ == "__main__":
    main()
