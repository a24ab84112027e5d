#!/usr/bin/env bash
# Install, from nothing, what measured microVM start-up needs on a Debian 12 machine (run as root):
# QEMU (KVM where it works, software emulation otherwise), busybox-static and cpio for a small
# initramfs, and Debian's cloud kernel unpacked to loadtests/build/vm/ (no registry, no download
# outside Debian's packages). Idempotent: safe to run again.
set -euo pipefail

if [[ $(id -u) -ne 0 ]]; then
    echo "setup-vm.sh: run as root (it installs Debian packages)" >&2
    exit 2
fi

export DEBIAN_FRONTEND=noninteractive
packages=(qemu-system-x86 cpio busybox-static)
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
        || missing+=("$package")
done
if ((${#missing[@]})); then
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

root=$(cd "$(dirname "$0")/../.." && pwd)
dest="$root/loadtests/build/vm"
if ! ls "$dest"/vmlinuz-* >/dev/null 2>&1; then
    mkdir -p "$dest"
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    package=$(apt-cache depends linux-image-cloud-amd64 | awk '/Depends: linux-image-/{print $2; exit}')
    (cd "$work" && apt-get download -qq "$package")
    dpkg-deb -x "$work"/*.deb "$work/unpacked"
    cp "$work"/unpacked/boot/vmlinuz-* "$dest"/
fi
qemu-system-x86_64 --version | head -n 1
ls "$dest"/vmlinuz-*
