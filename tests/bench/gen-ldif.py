#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""Write the benchmark directory as LDIF for slapadd.

  gen-ldif.py BASE_DN N_USERS N_RSA > people.ldif

N + 5 + N_RSA inetOrgPerson entries under ou=people (uid u000001..., mail
u000001@example.org, cn, sn, givenName, displayName; slapadd adds
entryUUID) and these groups under ou=groups (groupOfNames):

  bench-all     every user
  bench-sales   every 10th user (N/10)
  bench-eng     users 1..1000
  bench-eng-all nested: member bench-eng plus users 1001..1100
  bench-3k      users 1..3000, flat (a full run against one memberOf search)
  bench-tiny    users N+1..N+5 (the memory base line)
  bench-rsa     users N+6..N+5+N_RSA (the RSA-2048 roll-out)

Every member entry carries memberOf for the groups that list it directly,
as slapd's memberof overlay keeps it (slapadd bypasses overlays, so the
values are written here; the bench's slapd loads the overlay, which defines
the attribute and keeps it from then on).

The last two hold people outside bench-all, whom no other run has given a
certificate: each run starts from an empty store of its own.

The base entries (base, ou=people, ou=groups, ou=services and the service
account) come from slapd-lib.sh; this file holds only people and groups.
"""

import sys


def main():
    base = sys.argv[1]
    n = int(sys.argv[2])
    n_rsa = int(sys.argv[3])
    out = sys.stdout
    w = out.write
    dn = lambda i: "uid=u%06d,ou=people,%s" % (i, base)
    gdn = lambda name: "cn=%s,ou=groups,%s" % (name, base)
    # Which users each group lists directly (ranges of user numbers).
    groups = [
        ("bench-all", range(1, n + 1)),
        ("bench-sales", range(10, n + 1, 10)),
        ("bench-eng", range(1, min(n, 1000) + 1)),
        ("bench-eng-all", range(1001, min(n, 1100) + 1)),
        ("bench-3k", range(1, min(n, 3000) + 1)),
        ("bench-tiny", range(n + 1, n + 6)),
        ("bench-rsa", range(n + 6, n + 6 + n_rsa)),
    ]
    for i in range(1, n + 6 + n_rsa):
        w("dn: %s\nobjectClass: inetOrgPerson\nuid: u%06d\ncn: User %06d\n"
          "sn: %06d\ngivenName: User\ndisplayName: Bench User %06d\n"
          "mail: u%06d@example.org\n" % (dn(i), i, i, i, i, i))
        for name, members in groups:
            if i in members:
                w("memberOf: %s\n" % gdn(name))
        w("\n")

    def group(name, members, member_of=()):
        w("dn: %s\nobjectClass: groupOfNames\ncn: %s\n" % (gdn(name), name))
        for m in members:
            w("member: %s\n" % m)
        for g in member_of:
            w("memberOf: %s\n" % gdn(g))
        w("\n")

    for name, members in groups:
        nested = [gdn("bench-eng")] if name == "bench-eng-all" else []
        group(name, nested + [dn(i) for i in members],
              ["bench-eng-all"] if name == "bench-eng" else [])


if __name__ == "__main__":
    main()
