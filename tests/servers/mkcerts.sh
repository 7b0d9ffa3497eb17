#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# mkcerts.sh DIR: make the throw-away certificates the local test servers and clients use.
#
# Why each file exists (see README.md beside this script):
#   ca.pem/ca.key                 "print2mail test CA": the one trust anchor tests give clients
#   server.pem/server.key         localhost + 127.0.0.1 server certificate signed by that CA (2 days)
#   untrusted-ca.pem/.key         a second CA that no client is told to trust
#   untrusted-server.pem/.key     same names, signed by the untrusted CA (certificate-error tests)
#   client.pem/client.key         RSA 2048 self-signed OAuth app certificate credential (30 days)
#   client-expiring.pem/.key      the same kind, valid 5 days (expiry-warning tests)
#
# Idempotent: a group of files is only remade when one is missing or its certificate is near
# the end of its life, so servers already running with these files keep working.
# EC P-256 for the TLS side keeps it fast; the OAuth credential is RSA because PS256 needs it.
set -euo pipefail

if [ $# -ne 1 ] || [ -z "$1" ]; then
    echo "usage: $0 DIR" >&2
    exit 2
fi
dir=$1
mkdir -p "$dir"
cd "$dir"
umask 077   # keys are born 0600; certificates are chmod 0644 below

openssl=${OPENSSL:-openssl}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mkcerts.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# valid_for FILE SECONDS: true when FILE is a certificate still valid SECONDS from now.
valid_for() {
    [ -s "$1" ] && "$openssl" x509 -in "$1" -noout -checkend "$2" >/dev/null 2>&1
}

serial() {
    echo "0x$("$openssl" rand -hex 12)"
}

# make_ca NAME CN: a self-signed EC P-256 CA valid 30 days.
make_ca() {
    "$openssl" req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -keyout "$tmp/$1.key" -out "$tmp/$1.pem" -days 30 -subj "/O=print2mail tests/CN=$2" \
        -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" \
        -set_serial "$(serial)" 2>/dev/null
}

# make_server NAME CA: an EC P-256 leaf for localhost/127.0.0.1, 2 days, signed by CA.
make_server() {
    "$openssl" req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -keyout "$tmp/$1.key" -out "$tmp/$1.csr" -subj "/O=print2mail tests/CN=localhost" 2>/dev/null
    cat >"$tmp/$1.ext" <<'EOF'
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=DNS:localhost,IP:127.0.0.1
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
EOF
    "$openssl" x509 -req -in "$tmp/$1.csr" -CA "$tmp/$2.pem" -CAkey "$tmp/$2.key" \
        -set_serial "$(serial)" -days 2 -sha256 -extfile "$tmp/$1.ext" -out "$tmp/$1.pem" 2>/dev/null
}

# make_client NAME DAYS: RSA 2048 self-signed certificate, as uploaded to an Entra app registration.
make_client() {
    "$openssl" req -x509 -new -newkey rsa:2048 -nodes -keyout "$tmp/$1.key" -out "$tmp/$1.pem" \
        -days "$2" -subj "/O=print2mail tests/CN=print2mail test OAuth client ($1)" \
        -addext "basicConstraints=critical,CA:FALSE" \
        -addext "keyUsage=critical,digitalSignature" \
        -set_serial "$(serial)" 2>/dev/null
}

# install FILE...: move freshly made files into DIR with their final modes.
install_files() {
    local f
    for f in "$@"; do
        case $f in
            *.key) chmod 0600 "$tmp/$f" ;;
            *) chmod 0644 "$tmp/$f" ;;
        esac
        mv -f "$tmp/$f" "./$f"
    done
}

day=86400

# Trusted CA and its server certificate: remade together so they always match.
if ! valid_for ca.pem $((2 * day)) || ! valid_for server.pem $((day / 2)) || [ ! -s ca.key ] || [ ! -s server.key ]; then
    make_ca ca "print2mail test CA"
    make_server server ca
    install_files ca.key ca.pem server.key server.pem
fi

# The CA nobody trusts, and a server certificate it signed.
if ! valid_for untrusted-ca.pem $((2 * day)) || ! valid_for untrusted-server.pem $((day / 2)) \
        || [ ! -s untrusted-ca.key ] || [ ! -s untrusted-server.key ]; then
    make_ca untrusted-ca "print2mail untrusted test CA"
    make_server untrusted-server untrusted-ca
    install_files untrusted-ca.key untrusted-ca.pem untrusted-server.key untrusted-server.pem
fi

# OAuth certificate credentials. Remade when less than 20 (resp. 4) days remain, so client.pem
# always has 20-30 days left and client-expiring.pem 4-5 days.
if ! valid_for client.pem $((20 * day)) || [ ! -s client.key ]; then
    make_client client 30
    install_files client.key client.pem
fi
if ! valid_for client-expiring.pem $((4 * day)) || [ ! -s client-expiring.key ]; then
    make_client client-expiring 5
    install_files client-expiring.key client-expiring.pem
fi

# A run that found everything in place still enforces the modes.
chmod 0600 ./*.key
