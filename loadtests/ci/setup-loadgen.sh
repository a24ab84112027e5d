#!/usr/bin/env bash
# Install, from nothing, the neutral load-test targets and the physical reference generator on a
# Debian 12 machine (run as root): nginx (a server nobody here wrote; tests start their own copy on
# a free loopback port, never the system service) and wrk (the reference for generator capacity).
# Idempotent: safe to run again.
set -euo pipefail

source "$(dirname "$0")/lib.sh"
require_root setup-loadgen.sh
install_missing nginx-light wrk
command -v nginx >/dev/null || { echo "setup-loadgen.sh: nginx did not install" >&2; exit 1; }
nginx -v 2>&1
wrk --version 2>&1 | head -n 1 || true
