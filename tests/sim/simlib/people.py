# SPDX-License-Identifier: ISC
"""The simulated organisation: its people, groups, planted foreign
certificates and smimesync's configuration.

Ten people p0..p9, uid=pN,ou=people; primary mail pN@example.org. Three
synced groups, each with its own policy, so that one event sequence walks
every policy:

  staff     internal CA, on_leave = revoke (leave_grace 2d),
            on_mail_change = revoke, reminders 7d
  sales     internal CA, on_leave = stop-renewing, escrow = no,
            pkcs12 = compat, no reminders
  partners  the external CA (EJBCA stand-in), on_leave = keep

Initially staff = {p0, p1, p2}, sales = {p3, p4}, partners = {p5, p6};
p7, p8, p9 are in no group. A group is a groupOfNames whose first member is
the service account (not a person: groupOfNames needs one member). p1 and
p5 hold a certificate of a foreign CA in userCertificate;binary and
userSMIMECertificate that smimesync must never touch (I2).

Which addresses may be certified (I5): [service] mail_domains allows
example.org and example.net; the partners group narrows that to
example.org with its own allowed_domains. example.com is never allowed.
So a certificate of the internal CA (staff, sales) may name example.org
and example.net, one of the external CA (partners) only example.org. The
configuration names these keys where this smimesync knows them.
"""
import datetime

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

PEOPLE = ["p%d" % i for i in range(10)]
GROUPS = ["staff", "sales", "partners"]
INITIAL = {"staff": ["p0", "p1", "p2"], "sales": ["p3", "p4"], "partners": ["p5", "p6"]}
FOREIGN_HOLDERS = ["p1", "p5"]
# Certified addresses may have these domains, by the CA that issued them
# (internal: staff and sales under [service] mail_domains; ext: partners
# under its allowed_domains).
ALLOWED_DOMAINS = {"internal": ("example.org", "example.net"), "ext": ("example.org",)}
BASE = "dc=example,dc=org"
SVC_DN = "cn=smimesync,ou=services," + BASE

# (feature name, config line): added to the configuration only when
# `check-config` accepts it (issue #15 brings these keys).
OPTIONAL_KEYS = [
    ("mail_domains", "mail_domains = example.org, example.net"),
    ("allowed_domains", "allowed_domains = example.org"),
]


def dn(pid):
    return "uid=%s,ou=people,%s" % (pid, BASE)


def group_dn(g):
    return "cn=%s,ou=groups,%s" % (g, BASE)


def primary(pid):
    return "%s@example.org" % pid


def _foreign_certs():
    """A foreign CA and one certificate of it per holder: {pid: DER}."""
    now = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Elsewhere Ltd"),
                         x509.NameAttribute(NameOID.COMMON_NAME, "Elsewhere S/MIME CA")])
    out = {}
    for pid in FOREIGN_HOLDERS:
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (x509.CertificateBuilder()
                .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, pid)]))
                .issuer_name(ca_name).public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=3650))
                .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]),
                               False)
                .add_extension(x509.SubjectAlternativeName([x509.RFC822Name(primary(pid))]),
                               False)
                .sign(ca_key, hashes.SHA256()))
        out[pid] = cert.public_bytes(serialization.Encoding.DER)
    return out


FOREIGN = _foreign_certs()


def foreign_values(pid):
    """The planted values of pid: (userCertificate;binary DER, userSMIMECertificate DER)."""
    der = FOREIGN[pid]
    cert = x509.load_der_x509_certificate(der)
    return der, pkcs7.serialize_certificates([cert], serialization.Encoding.DER)


def initial_ldif(base):
    import base64
    b64 = lambda b: base64.b64encode(b).decode()
    out = []
    for i, pid in enumerate(PEOPLE):
        e = ["dn: " + dn(pid), "objectClass: inetOrgPerson", "uid: " + pid,
             "cn: Person %d" % i, "sn: Person%d" % i, "givenName: P%d" % i,
             "displayName: Person %d" % i, "mail: " + primary(pid)]
        if pid in FOREIGN:
            c, s = foreign_values(pid)
            e += ["userCertificate;binary:: " + b64(c), "userSMIMECertificate:: " + b64(s)]
        out.append("\n".join(e))
    for g in GROUPS:
        e = ["dn: " + group_dn(g), "objectClass: groupOfNames", "cn: " + g, "member: " + SVC_DN]
        e += ["member: " + dn(p) for p in INITIAL[g]]
        out.append("\n".join(e))
    return "\n\n".join(out) + "\n"


def config(state, slapd_uri, slapd_ca, svc_dn, svc_pw, base, ca_dir, crl_file, smtp_port,
           smtp_ca, ext_url, ext_pki):
    return """# Written by tests/sim: the simulated organisation (tests/sim/simlib/people.py).
[service]
state_dir = {state}
master_key_file = {state}/master.key
log_level = info
# The daemon engine wakes it with SIGUSR1; it never runs on its own here.
interval = 1h
jitter = 0s
# optional: mail_domains

[directory corp]
type = ldap
uri = {slapd_uri}
starttls = required
bind_dn = {svc_dn}
bind_password_file = {svc_pw}
base_dn = {base}
tls_ca_file = {slapd_ca}
timeout = 5s
# Groups of 3 or more members are read by one subtree scan (the size
# limit of "dir sizelimit" bites there), smaller ones by DN.
scan_threshold = 3

[ca internal]
type = local
cert_file = {ca_dir}/issuing.pem
key_file = {ca_dir}/issuing.key
chain_file = {ca_dir}/chain.pem
crl_url = http://pki.example.org/smime.crl
aia_url = http://pki.example.org/issuing.crt
organization = Example Org
key_type = p256
crl_file = {crl_file}

[ca ext]
type = ejbca
url = {ext_url}/
tls_ca_file = {ext_pki}/root.pem
tls_cert_file = {ext_pki}/client.pem
tls_key_file = {ext_pki}/client.key
certificate_profile = SMIME_CP
end_entity_profile = SMIME_EEP
certificate_authority = Test Issuing CA
trust_anchor_file = {ext_pki}/root.pem
# The intermediates: EJBCA's search (how a lost answer is found again)
# returns the certificate without its chain.
chain_file = {ext_pki}/chain.pem
timeout = 2s
retry_interval = 0s

[mail]
smtp_host = 127.0.0.1
smtp_port = {smtp_port}
starttls = required
tls_ca_file = {smtp_ca}
from = Example PKI <pki@example.org>
timeout = 10s
max_attempts = 3

[group staff]
directory = corp
group_dn = cn=staff,ou=groups,{base}
ca = internal
key_type = p256
validity = 90d
renew_before = 20d
reminders = 7d
on_leave = revoke
leave_grace = 2d
on_mail_change = revoke

[group sales]
directory = corp
group_dn = cn=sales,ou=groups,{base}
ca = internal
key_type = p256
validity = 60d
renew_before = 10d
reminders = none
pkcs12 = compat
escrow = no
on_leave = stop-renewing

[group partners]
directory = corp
group_dn = cn=partners,ou=groups,{base}
ca = ext
key_type = p256
reminders = none
on_leave = keep
# optional: allowed_domains
""".format(**locals())
