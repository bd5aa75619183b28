#!/usr/bin/env bash
# Build (idempotently) a Debian 13 "trixie" chroot with GRASS GIS 8.4 and Itzi.
#
# Why a chroot: Itzi >= 25 refuses GRASS < 8.4 ("Itzi requires at least GRASS
# 8.4.0") and Debian 12 (bookworm, our dev image) only ships GRASS 8.2.1 (no
# backport exists). Debian 13 ships grass-core 8.4.1 and python 3.13, for
# which PyPI has the newest Itzi wheel. On a host that already has GRASS >= 8.4
# (Debian 13, Ubuntu 25.04+, ...) skip this and see README.md "native".
#
# Usage (as root):  nice -n 15 bash setup_chroot.sh [/work/peers/trixie]
set -euo pipefail
R=${1:-${ITZI_CHROOT:-/work/peers/trixie}}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
ITZI_SPEC=${ITZI_SPEC:-itzi==26.6}   # version measured; "itzi" for the newest

if [ ! -x "$R/usr/bin/apt-get" ]; then
  command -v debootstrap >/dev/null || apt-get install -y debootstrap
  debootstrap --variant=minbase --include=ca-certificates trixie "$R" "$MIRROR"
fi
cp /etc/resolv.conf "$R/etc/resolv.conf"
# trust the same extra CAs as the host (needed behind TLS-intercepting egress)
if ls /usr/local/share/ca-certificates/*.crt >/dev/null 2>&1; then
  cp /usr/local/share/ca-certificates/*.crt "$R/usr/local/share/ca-certificates/"
fi
bash "$(dirname "$0")/mounts.sh" "$R"
chroot "$R" /bin/bash -euc "
  export DEBIAN_FRONTEND=noninteractive
  update-ca-certificates >/dev/null 2>&1 || true
  if ! command -v grass >/dev/null; then
    apt-get update -qq
    apt-get install -y --no-install-recommends grass-core python3-venv python3-pip
  fi
  [ -x /opt/itzi-venv/bin/python ] || python3 -m venv /opt/itzi-venv
  PIP_CERT=/etc/ssl/certs/ca-certificates.crt /opt/itzi-venv/bin/pip install -q '$ITZI_SPEC'
  grass --version | head -1
  /opt/itzi-venv/bin/python -c 'import importlib.metadata as m; print(\"itzi\", m.version(\"itzi\"), \"numpy\", m.version(\"numpy\"))'
"
