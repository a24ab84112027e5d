#!/usr/bin/env bash
# Install, from nothing, what the container tests need on a Debian 12 machine (run as root).
#
# Idempotent: safe to run again. Installs Podman with runc (crun fails on this kind of host:
# "cgroups in hybrid mode not supported"), netavark + aardvark-dns (container name resolution on
# the archsim network), debootstrap (the base image is built locally where no registry is
# reachable), iptables (netavark needs it for bridge networks), and writes the containers.conf settings that make Podman work without
# CAP_SYS_RESOURCE (lowered default ulimits instead of raised ones).
set -euo pipefail

if [[ $(id -u) -ne 0 ]]; then
    echo "setup-containers.sh: run as root (it installs Debian packages)" >&2
    exit 2
fi

export DEBIAN_FRONTEND=noninteractive
packages=(podman runc netavark aardvark-dns iptables debootstrap uidmap slirp4netns fuse-overlayfs catatonit)  # catatonit: kube play builds its pause image from it
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
        || missing+=("$package")
done
if ((${#missing[@]})); then
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

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
