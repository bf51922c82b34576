#!/bin/sh
# Generates the test server's certificates in DIR with the openssl CLI:
#   valid.pem/valid.key     self-signed, CN=localhost, valid for 30 days
#   expired.pem/expired.key self-signed, CN=expired.localhost, expired on 2020-01-02
# Both carry subjectAltName localhost and 127.0.0.1 so only the trust/expiry checks fail.
set -eu
dir=${1:?usage: make-certs.sh DIR}
cd "$dir"
san="subjectAltName=DNS:localhost,IP:127.0.0.1"
key="-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"

openssl req -x509 $key -keyout valid.key -out valid.pem -days 30 \
    -subj "/O=opsctl tests/CN=localhost" -addext "$san" 2>/dev/null

# openssl req cannot back-date a certificate; `openssl ca` can (-startdate/-enddate).
mkdir -p ca && : > ca/index.txt && echo 01 > ca/serial
cat > ca/ca.cnf <<CNF
[ ca ]
default_ca = sandbox
[ sandbox ]
dir = ca
database = ca/index.txt
new_certs_dir = ca
serial = ca/serial
default_md = sha256
policy = any
copy_extensions = copy
unique_subject = no
[ any ]
organizationName = optional
commonName = supplied
CNF
openssl req -new $key -keyout expired.key -out ca/expired.csr \
    -subj "/O=opsctl tests/CN=expired.localhost" -addext "$san" 2>/dev/null
openssl ca -batch -config ca/ca.cnf -selfsign -keyfile expired.key -in ca/expired.csr \
    -startdate 20200101000000Z -enddate 20200102000000Z -notext -out expired.pem 2>/dev/null
