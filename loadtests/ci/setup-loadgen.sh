#!/usr/bin/env bash
# Install, from nothing, the neutral load-test targets and the physical reference generator on a
# Debian 12 machine (run as root): nginx (a server nobody here wrote; tests start their own copy on
# a free loopback port, never the system service) and wrk (the reference for generator capacity).
# Idempotent: safe to run again.
set -euo pipefail

if [[ $(id -u) -ne 0 ]]; then
    echo "setup-loadgen.sh: run as root (it installs Debian packages)" >&2
    exit 2
fi

export DEBIAN_FRONTEND=noninteractive
packages=(nginx-light wrk)
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
        || missing+=("$package")
done
if ((${#missing[@]})); then
    apt-get update -qq
    # policy-rc.d keeps Debian from starting the system nginx on port 80: tests run their own.
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    rm -f /usr/sbin/policy-rc.d
fi
command -v nginx >/dev/null || { echo "setup-loadgen.sh: nginx did not install" >&2; exit 1; }
nginx -v 2>&1
wrk --version 2>&1 | head -n 1 || true
