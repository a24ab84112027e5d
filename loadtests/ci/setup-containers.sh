#!/usr/bin/env bash
# Install, from nothing, what the container tests need on a Debian 12 machine (run as root).
#
# Idempotent: safe to run again. Installs Podman with runc (crun fails on this kind of host:
# "cgroups in hybrid mode not supported"), netavark + aardvark-dns (container name resolution on
# the archsim network), debootstrap (the base image is built locally where no registry is
# reachable), iptables (netavark needs it for bridge networks), and writes the containers.conf settings that make Podman work without
# CAP_SYS_RESOURCE (lowered default ulimits instead of raised ones).
set -euo pipefail

source "$(dirname "$0")/lib.sh"
require_root setup-containers.sh
# catatonit: kube play builds its pause image from it
install_missing podman runc netavark aardvark-dns iptables debootstrap uidmap slirp4netns fuse-overlayfs catatonit

mkdir -p /etc/containers
conf=/etc/containers/containers.conf
marker="# archsim: settings for hosts without CAP_SYS_RESOURCE and without crun support"
if ! grep -qF "$marker" "$conf" 2>/dev/null; then
    cat >>"$conf" <<CONF

$marker
[containers]
default_ulimits = ["nofile=4096:4096", "nproc=4096:4096"]

[engine]
runtime = "runc"

[network]
network_backend = "netavark"
CONF
fi

podman --version
podman info --format '{{.Host.OCIRuntime.Name}} {{.Host.NetworkBackend}}'
