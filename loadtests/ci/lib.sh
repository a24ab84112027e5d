# Shared by the loadtests/ci/setup-*.sh scripts (sourced, not run).

# require_root SCRIPT: stop with exit code 2 unless running as root (the scripts install packages).
require_root() {
    if [[ $(id -u) -ne 0 ]]; then
        echo "$1: run as root (it installs Debian packages)" >&2
        exit 2
    fi
}

# install_missing PACKAGE...: install, without recommends, the Debian packages not yet installed.
# Package scripts are kept from starting services (policy-rc.d), so that a package such as nginx
# never starts its system service on a port the tests may want: tests start their own copies.
install_missing() {
    local missing=() package
    for package in "$@"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
            || missing+=("$package")
    done
    ((${#missing[@]})) || return 0
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    rm -f /usr/sbin/policy-rc.d
}
