#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""Benchmark fixture: give every person of a directory dump a certificate
in the store, cheaply, by cloning one certificate smimesync really issued.

  seed-store.py STORE.db GROUP PEOPLE.ldif MEMBERS

PEOPLE.ldif is `ldapsearch -LLL -o ldif-wrap=no` output with entryUUID,
mail and displayName; MEMBERS holds the DNs of GROUP's members, one a
line (only they are seeded). Each person not yet in the store gets a users row
(group GROUP) and a valid, published certs row: the template's DER and
dates, the person's mail, a unique serial and fingerprint. Only the steady
state benchmark uses this: a run that finds everyone holding a valid
certificate reads the store's state, never the DER. Issuing 100,000
certificates for real takes hours here (see tests/bench/bench.sh).
"""

import sqlite3
import sys


def people(path):
    cur = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line:
                if cur:
                    yield cur
                cur = {}
                continue
            key, _, value = line.partition(": ")
            cur[key.lower()] = value
    if cur:
        yield cur


def main():
    db, group, ldif, members = sys.argv[1:5]
    with open(members, encoding="utf-8") as f:
        wanted = {line.strip().lower() for line in f if line.strip()}
    con = sqlite3.connect(db)
    con.execute("PRAGMA foreign_keys = ON")
    t = con.execute("SELECT user_id, ca_name, issuer, key_type, not_before, not_after, der,"
                    " chain_pem, created FROM certs WHERE status = 'valid' ORDER BY id"
                    " LIMIT 1").fetchone()
    if t is None:
        sys.exit("seed-store: no valid certificate to clone in %s" % db)
    src = con.execute("SELECT source, first_seen, last_seen FROM users WHERE id = ?",
                      (t[0],)).fetchone()
    known = {r[0] for r in con.execute("SELECT id FROM users")}
    users, certs = [], []
    for p in people(ldif):
        uid = p.get("entryuuid")
        if (uid is None or uid in known or "mail" not in p or
                p.get("dn", "").lower() not in wanted):
            continue
        known.add(uid)
        users.append((uid, src[0], p["dn"], p["mail"], p.get("displayname"), group,
                      src[1], src[2]))
        n = len(users)
        certs.append((uid, group, t[1], "B3C4%012X" % n, t[2], "bench-seed-%d" % n,
                      p["mail"], t[3], t[4], t[5], t[6], t[7], t[8]))
    with con:
        con.executemany("INSERT INTO users (id, source, dn, mail, display_name, group_name,"
                        " first_seen, last_seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", users)
        con.executemany("INSERT INTO certs (user_id, group_name, ca_name, serial, issuer,"
                        " fingerprint, mail, key_type, not_before, not_after, status,"
                        " published, der, chain_pem, created)"
                        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'valid', 1, ?, ?, ?)", certs)
    con.close()
    print(len(users))


if __name__ == "__main__":
    main()
