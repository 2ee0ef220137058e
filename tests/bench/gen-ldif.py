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
  bench-tiny    users N+1..N+5 (the memory base line)
  bench-rsa     users N+6..N+5+N_RSA (the RSA-2048 roll-out)

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
    for i in range(1, n + 6 + n_rsa):
        w("dn: %s\nobjectClass: inetOrgPerson\nuid: u%06d\ncn: User %06d\n"
          "sn: %06d\ngivenName: User\ndisplayName: Bench User %06d\n"
          "mail: u%06d@example.org\n\n" % (dn(i), i, i, i, i, i))

    def group(name, members):
        w("dn: cn=%s,ou=groups,%s\nobjectClass: groupOfNames\ncn: %s\n" % (name, base, name))
        for m in members:
            w("member: %s\n" % m)
        w("\n")

    group("bench-all", (dn(i) for i in range(1, n + 1)))
    group("bench-sales", (dn(i) for i in range(10, n + 1, 10)))
    group("bench-eng", (dn(i) for i in range(1, min(n, 1000) + 1)))
    group("bench-eng-all", ["cn=bench-eng,ou=groups,%s" % base] +
          [dn(i) for i in range(1001, min(n, 1100) + 1)])
    group("bench-tiny", (dn(i) for i in range(n + 1, n + 6)))
    group("bench-rsa", (dn(i) for i in range(n + 6, n + 6 + n_rsa)))


if __name__ == "__main__":
    main()
