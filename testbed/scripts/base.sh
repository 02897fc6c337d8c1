#!/bin/bash
# Builds the testbed's base container once per recipe: a Debian 12 rootfs with systemd, made with
# mmdebstrap from the mirror apt already uses, registered as container NAME in LXCPATH.
#   base.sh DIR LXCPATH NAME BRIDGE
# The Rust side names the base after a hash of this script, so editing it rebuilds the base.
set -euo pipefail
dir=$1 lxcpath=$2 name=$3 bridge=$4
mkdir -p "$dir" "$lxcpath"
exec 9>"$dir/base.lock"
flock 9
[ -f "$lxcpath/$name/.complete" ] && exit 0

suite=bookworm
# curl: drover's `uri` and `get_url` run it on the target (verify playbooks use `uri`).
packages=systemd-sysv,dbus,iproute2,ca-certificates,sudo,procps,less,gnupg,apt-transport-https,curl
# The tarball is kept, keyed by what goes into it: changing the rest of the recipe re-uses it.
tar="$dir/mmdebstrap-$(echo "$suite $packages" | sha256sum | cut -c1-12).tar"
if [ ! -s "$tar" ]; then
    mirror=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
    [ -n "$mirror" ] || mirror=$(awk '$1 == "deb" {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
    [ -n "$mirror" ] || { echo "cannot find the Debian mirror apt uses (/etc/apt/sources.list.d/debian.sources)" >&2; exit 1; }
    command -v mmdebstrap >/dev/null || { echo "mmdebstrap is missing: apt-get install mmdebstrap lxc nftables" >&2; exit 1; }
    echo "drover test: building the Debian 12 base with mmdebstrap (once; cached in $dir)" >&2
    mmdebstrap --quiet --format=tar --variant=minbase --include="$packages" \
        "$suite" "$tar.partial" "$mirror"
    mv "$tar.partial" "$tar"
fi
root="$lxcpath/$name/rootfs"
rm -rf "${lxcpath:?}/$name"
mkdir -p "$root"
tar -C "$root" --numeric-owner -xpf "$tar"
# Each clone gets its hostname and a fresh machine id at boot.
rm -f "$root/etc/hostname" "$root/var/lib/dbus/machine-id"
: >"$root/etc/machine-id"
# Units that only slow a container down or fail in one; apt's timers would hold the dpkg lock.
for unit in systemd-udevd.service systemd-udevd-control.socket systemd-udevd-kernel.socket \
    systemd-udev-trigger.service systemd-journald-audit.socket systemd-networkd-wait-online.service \
    apt-daily.timer apt-daily.service apt-daily-upgrade.timer apt-daily-upgrade.service \
    e2scrub_all.timer e2scrub_reap.service fstrim.timer; do
    ln -sf /dev/null "$root/etc/systemd/system/$unit"
done
# Real images have old package lists: `cache_valid_time` must not take the empty ones for fresh.
touch -d 2000-01-01 "$root/var/lib/apt/lists"
cat >"$lxcpath/$name/config" <<CONF
lxc.include = /usr/share/lxc/config/debian.common.conf
lxc.arch = $(dpkg --print-architecture)
lxc.uts.name = $name
lxc.rootfs.path = dir:$root
lxc.apparmor.profile = unconfined
lxc.net.0.type = veth
lxc.net.0.link = $bridge
lxc.net.0.name = eth0
lxc.net.0.flags = up
CONF
touch "$lxcpath/$name/.complete"
for old in "$dir"/mmdebstrap-*.tar; do [ "$old" = "$tar" ] || rm -f "$old"; done
# Bases of older recipes, unless a clone still reads them (an overlay clone needs its base).
for old in "$lxcpath"/base-*; do
    { [ -d "$old" ] && [ "$(basename "$old")" != "$name" ]; } || continue
    grep -ls "$old/rootfs" "$lxcpath"/*/config 2>/dev/null | grep -qv "^$old/" || rm -rf "$old"
done
