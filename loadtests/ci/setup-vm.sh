#!/usr/bin/env bash
# Install, from nothing, what measured microVM start-up needs on a Debian 12 machine (run as root):
# QEMU (KVM where it works, software emulation otherwise), busybox-static and cpio for a small
# initramfs, and Debian's cloud kernel unpacked to loadtests/build/vm/ with its virtio network
# modules in loadtests/build/vm/modules/ (no registry, no download outside Debian's packages).
# Idempotent: safe to run again.
set -euo pipefail

source "$(dirname "$0")/lib.sh"
require_root setup-vm.sh
install_missing qemu-system-x86 cpio busybox-static

root=$(cd "$(dirname "$0")/../.." && pwd)
dest="$root/loadtests/build/vm"
# the virtio network driver and what it needs (modules in Debian's cloud kernel), loaded by the
# probe's initramfs in this order
modules="virtio_ring virtio virtio_mmio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci failover net_failover virtio_net"
if ! ls "$dest"/vmlinuz-* >/dev/null 2>&1 || [[ ! -f "$dest/modules/virtio_net.ko" ]]; then
    rm -rf "$dest"
    mkdir -p "$dest/modules"
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    package=$(apt-cache depends linux-image-cloud-amd64 | awk '/Depends: linux-image-/{print $2; exit}')
    (cd "$work" && apt-get download -qq "$package" 2>/dev/null)
    dpkg-deb -x "$work"/*.deb "$work/unpacked"
    cp "$work"/unpacked/boot/vmlinuz-* "$dest"/
    for module in $modules; do
        find "$work/unpacked/lib/modules" -name "$module.ko" -exec cp {} "$dest/modules/" \;
    done
    echo "$modules" > "$dest/modules/order"
fi
qemu-system-x86_64 --version | head -n 1
ls "$dest"/vmlinuz-* "$dest"/modules/virtio_net.ko
