#!/bin/sh
# Copy files into a root filesystem under DEST together with every shared library they load
# (their ldd closure, the dynamic loader included), keeping paths and symlinks as they are on
# the builder, so DEST can become a FROM-scratch image that holds only what the files need.
#
#   closure.sh DEST FILE...
#
# With SKIP_ROOT set to another root filesystem (an image the result will be layered on), files
# that root already has are not copied again.
#
# Debian 12 has merged /usr (/lib -> usr/lib, /bin -> usr/bin, ...): paths are canonicalised
# through those links and DEST gets the same links, so /lib64/ld-linux-x86-64.so.2 (the loader
# named in every binary) resolves in the image as it does here.
set -eu
dest=$1
shift
mkdir -p "$dest/usr/bin" "$dest/usr/sbin" "$dest/usr/lib" "$dest/tmp" "$dest/etc"
chmod 1777 "$dest/tmp"
for link in bin sbin lib lib64; do
    if [ -L "/$link" ] && [ ! -e "$dest/$link" ]; then
        ln -s "$(readlink "/$link")" "$dest/$link"
    fi
done
if [ -d /usr/lib64 ]; then mkdir -p "$dest/usr/lib64"; fi

# copy PATH (a file or a symlink, followed to its target) under DEST at its canonical place
copy() {
    path=$1
    canonical="$(readlink -f "$(dirname "$path")")/$(basename "$path")"
    if [ -e "$dest$canonical" ] || [ -L "$dest$canonical" ]; then
        return 0
    fi
    if [ -n "${SKIP_ROOT:-}" ] && { [ -e "$SKIP_ROOT$canonical" ] || [ -L "$SKIP_ROOT$canonical" ]; }; then
        return 0
    fi
    mkdir -p "$dest$(dirname "$canonical")"
    cp -a "$canonical" "$dest$canonical"
    if [ -L "$canonical" ]; then
        target=$(readlink "$canonical")
        case "$target" in
            /*) copy "$target" ;;
            *) copy "$(dirname "$canonical")/$target" ;;
        esac
    fi
}

for file in "$@"; do
    copy "$file"
    # "libx.so => /path (addr)" lines and the loader's own "/lib64/ld-linux... (addr)" line
    ldd "$file" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}' | while read -r library; do
        copy "$library"
    done
done
