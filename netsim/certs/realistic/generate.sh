#!/bin/sh
# Regenerates the lab's `realistic` TLS identity (netsim::tls::Identity::realistic):
# a certificate chain shaped like Let's Encrypt's historic one (2021-2024).
#
#   leaf.pem          server.httplab.test, RSA-2048 key (leaf.key), issued by R3
#   intermediate.pem  R3, RSA-2048 key, issued by httplab Root X1 (RSA-4096 signature)
#   root-cross.pem    httplab Root X1 (RSA-4096 key) cross-signed by the legacy root
#                     (RSA-2048 signature), as ISRG Root X1 was by DST Root CA X3
#   root.pem          httplab Root X1, self-signed: the only certificate clients trust
#
# The server sends leaf, intermediate and root-cross (about 4 KB), as Let's Encrypt's
# default chain did; root.pem is the trust anchor and is never sent.
#
# Every key here is a PUBLIC TEST KEY: generated once, published with the source code,
# protecting nothing. Run this only to change the chain on purpose: new keys make new
# certificates (the same sizes, to a byte or two), and the handshake tests, snapshots and
# docs that state byte counts must then be updated. The committed files are the identity;
# nothing regenerates them during a build or a run.
#
# Usage: sh netsim/certs/realistic/generate.sh   (needs openssl 3 and python3)
set -eu
out=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

# Keys, PKCS#8 PEM.
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out legacy-root.key 2>/dev/null
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:4096 -out root.key 2>/dev/null
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out intermediate.key 2>/dev/null
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out leaf.key 2>/dev/null

# The leaf's embedded SCT list (RFC 6962 section 3.3): two SCTs of fixed, made-up
# content (log ids and ECDSA-shaped signatures from SHA-256 of fixed strings). No lab
# client checks Certificate Transparency; they are there for their bytes.
scts=$(python3 - <<'PY'
import hashlib, struct
def h(s): return hashlib.sha256(s.encode()).digest()
def sct(n):
    log_id = h(f"httplab CT log {n}")
    timestamp = struct.pack(">Q", 1763164800000 + n)  # 2025-11-15T00:00:00Z, in ms
    r = bytes([h(f"r{n}")[0] & 0x7F | 0x40]) + h(f"r{n}")[1:]
    s = bytes([0x00, h(f"s{n}")[0] | 0x80]) + h(f"s{n}")[1:]
    sig = bytes([0x30, 4 + len(r) + len(s), 0x02, len(r)]) + r + bytes([0x02, len(s)]) + s
    body = b"\x00" + log_id + timestamp + b"\x00\x00" + b"\x04\x03" + struct.pack(">H", len(sig)) + sig
    return struct.pack(">H", len(body)) + body
items = sct(1) + sct(2)
tls_list = struct.pack(">H", len(items)) + items
# extnValue content: OCTET STRING around the TLS-encoded list.
n = len(tls_list)
print(("04" + ("81%02x" % n if n < 256 else "82%04x" % n) + tls_list.hex()).upper())
PY
)

cat > ca.cnf <<EOF2
[ ca ]
default_ca = lab
[ lab ]
dir = .
database = index.txt
new_certs_dir = .
serial = serial
default_md = sha256
policy = any
unique_subject = no
copy_extensions = none
email_in_dn = no
[ any ]
countryName = optional
organizationName = optional
commonName = supplied
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = unused
[ root ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[ root_cross ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
authorityInfoAccess = caIssuers;URI:http://apps.legacy-trust.httplab.test/roots/x3.p7c
authorityKeyIdentifier = keyid
certificatePolicies = 2.23.140.1.2.1, @cps_root
crlDistributionPoints = URI:http://crl.legacy-trust.httplab.test/X3CRL.crl
subjectKeyIdentifier = hash
[ cps_root ]
policyIdentifier = 1.3.6.1.4.1.44947.1.1.1
CPS.1 = http://cps.root-x1.httplab.test
[ intermediate ]
keyUsage = critical, digitalSignature, keyCertSign, cRLSign
extendedKeyUsage = clientAuth, serverAuth
basicConstraints = critical, CA:TRUE, pathlen:0
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
authorityInfoAccess = caIssuers;URI:http://x1.i.httplab.test/
crlDistributionPoints = URI:http://x1.c.httplab.test/
certificatePolicies = 2.23.140.1.2.1, 1.3.6.1.4.1.44947.1.1.1
[ leaf ]
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth, clientAuth
basicConstraints = critical, CA:FALSE
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
authorityInfoAccess = OCSP;URI:http://r3.o.httplab.test, caIssuers;URI:http://r3.i.httplab.test/
subjectAltName = DNS:server.httplab.test, DNS:localhost
certificatePolicies = 2.23.140.1.2.1, @cps_leaf
1.3.6.1.4.1.11129.2.4.2 = DER:$scts
[ cps_leaf ]
policyIdentifier = 1.3.6.1.4.1.44947.1.1.1
CPS.1 = http://cps.httplab.test
EOF2

# issue NAME KEY SUBJECT SERIAL START END EXTENSIONS ISSUER_CERT ISSUER_KEY (ISSUER_CERT
# "self" for a self-signed certificate).
issue() {
    : > index.txt
    echo "$4" > serial
    openssl req -new -config ca.cnf -key "$2" -subj "$3" -out "$1.csr"
    if [ "$8" = self ]; then
        openssl ca -config ca.cnf -batch -notext -selfsign -keyfile "$9" -in "$1.csr" \
            -startdate "$5" -enddate "$6" -extensions "$7" -extfile ca.cnf -out "$1.pem" \
            2>/dev/null
    else
        openssl ca -config ca.cnf -batch -notext -cert "$8" -keyfile "$9" -in "$1.csr" \
            -startdate "$5" -enddate "$6" -extensions "$7" -extfile ca.cnf -out "$1.pem" \
            2>/dev/null
    fi
}

issue legacy-root legacy-root.key "/O=httplab Legacy Trust Co./CN=httplab Legacy Root CA X3" \
    44AFB080D6A327BA893039862EF8406B 20000930211219Z 20450930140115Z root self legacy-root.key
issue root root.key "/C=US/O=httplab Security Research Group/CN=httplab Root X1" \
    8210CFB0D240E3594463E0BB63828B00 20150604110438Z 20450604110438Z root self root.key
issue root-cross root.key "/C=US/O=httplab Security Research Group/CN=httplab Root X1" \
    4001772137D4E942B8EE76AA3C640AB7 20210120191403Z 20400930180000Z root_cross legacy-root.pem legacy-root.key
issue intermediate intermediate.key "/C=US/O=httplab Encrypt/CN=R3" \
    912B084ACF0C18A753F6D62E25A75F5A 20200904000000Z 20300915160000Z intermediate root.pem root.key
issue leaf leaf.key "/CN=server.httplab.test" \
    03A1B2C3D4E5F60718293A4B5C6D7E8F9011 20251115000000Z 20260213000000Z leaf intermediate.pem intermediate.key

# Check the chain as a client does, at the lab's fixed time (2026-01-01T00:00:00Z).
openssl verify -attime 1767225600 -x509_strict -CAfile root.pem -untrusted intermediate.pem \
    -untrusted root-cross.pem -purpose sslserver leaf.pem

for f in leaf intermediate root-cross root legacy-root; do
    openssl x509 -in "$f.pem" -out "$out/$f.pem"
done
for f in leaf intermediate root legacy-root; do
    cp "$f.key" "$out/$f.key"
done
for f in leaf intermediate root-cross root; do
    printf '%s: %s bytes DER\n' "$f" "$(openssl x509 -in "$f.pem" -outform DER | wc -c)"
done
