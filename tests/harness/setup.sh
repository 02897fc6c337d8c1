#!/bin/bash
# Prepares this machine to run drover's real-host integration tests. Idempotent; run as root.
#
#  - installs the OS packages the harness needs (from Debian's archive, only when missing);
#  - creates the harness bridge drvbr0 (10.77.0.1/24) with NAT out of the default route, so containers
#    can reach Debian's archive for package tests;
#  - generates the harness SSH key (ed25519) once;
#  - builds the cached Debian 12 base rootfs with mmdebstrap once per recipe (keyed by a hash of the
#    recipe: editing the recipe below rebuilds it) and registers it as an LXC container in the
#    harness's own lxcpath, ready for overlay clones made by host.sh.
#
# Environment (all optional): DROVER_TEST_CACHE (default /var/cache/drover-test),
# DROVER_TEST_STATE (default /var/lib/drover-test).
set -euo pipefail

HARNESS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=common.sh
. "$HARNESS_DIR/common.sh"

[ "$(id -u)" = 0 ] || die "setup.sh must run as root (it creates a bridge, NAT rules and LXC containers)"

mkdir -p "$CACHE_DIR" "$STATE_DIR" "$LXCPATH"
# Serialise concurrent setups (parallel test binaries, several worktrees on one machine).
exec 9>"$STATE_DIR/setup.lock"
flock 9

# ---------------------------------------------------------------------------------------------------
# 1. OS packages
# The harness itself, then what tests run on the controller: sshd for the transport tests, rsync for
# synchronize, git/zip/xz/dpkg-dev/openssl to build test material, python3-venv for the oracle venv,
# docker.io + docker-registry for the private engines of docker-engine.sh, python3-lxc for the
# lxc_container oracle (community.general drives LXC through it), busybox-static for the
# busybox template the lxc_container tests clone from.
# Installed here, once, so that parallel tests never race for the dpkg lock.
REQUIRED_PACKAGES=(lxc lxc-templates mmdebstrap debootstrap openssh-client iproute2 nftables dnsmasq-base util-linux
    tar coreutils procps
    openssh-server rsync git zip unzip xz-utils dpkg-dev openssl python3 python3-venv
    gpg gpg-agent # signed apt repositories in tests/tests/oracle_apt_signed.rs
    docker.io docker-registry
    python3-lxc busybox-static
    bind9-dnsutils) # dig, for tests/tests/rhaptos_roles.rs
install_packages() {
    local missing=() pkg
    for pkg in "${REQUIRED_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}\n' "$pkg" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    log "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # No daemon may start on install: the machine's default dockerd would set the FORWARD policy to
    # DROP and cut the test hosts off the archive (the tests start their own engines).
    local policy=/usr/sbin/policy-rc.d own_policy=
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && own_policy=1
    fi
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    [ -z "$own_policy" ] || rm -f "$policy"
}

# ---------------------------------------------------------------------------------------------------
# 2. Bridge + NAT (+ DNS forwarder only when the host's resolver is on loopback)
setup_network() {
    if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
        ip link add "$BRIDGE" type bridge
    fi
    # A fixed MAC: a bridge without one takes the lowest MAC of its ports, so it changed whenever a
    # test host came or went, and the other hosts' ARP entries for the gateway then pointed at a MAC
    # nobody answered for; their traffic to the controller stalled for seconds (CI saw "timed out
    # connecting" and "timed out during banner exchange"). lxc-net fixes lxcbr0's MAC for the same reason.
    ip link set "$BRIDGE" address "$BRIDGE_MAC"
    ip addr replace "$BRIDGE_ADDR/$BRIDGE_PREFIX" dev "$BRIDGE"
    ip link set "$BRIDGE" up
    sysctl -q -w net.ipv4.ip_forward=1
    # Every privileged container's systemd takes inotify instances from root's one allowance
    # (Debian's default 128): with a dozen test hosts, Docker and the host's own daemons that runs
    # out, and a container's systemd then fails at boot ("container is not running"). Raised as
    # LXC hosts are advised to, never lowered.
    local key want
    for key in fs.inotify.max_user_instances:1024 fs.inotify.max_user_watches:524288; do
        want=${key#*:}
        key=${key%%:*}
        [ "$(sysctl -n "$key")" -ge "$want" ] || sysctl -q -w "$key=$want"
    done

    local uplink
    uplink=$(ip -4 route show default | awk '{for (i = 1; i < NF; i++) if ($i == "dev") {print $(i + 1); exit}}')
    [ -n "$uplink" ] || die "no IPv4 default route: containers could not reach Debian's archive"
    # Our own nftables table, replaced wholesale so reruns are idempotent.
    nft list table ip drover_test >/dev/null 2>&1 && nft delete table ip drover_test
    nft -f - <<EOF
table ip drover_test {
    chain forward {
        type filter hook forward priority filter; policy accept;
        iifname "$BRIDGE" oifname "$uplink" accept
        iifname "$uplink" oifname "$BRIDGE" ct state established,related accept
    }
    chain postrouting {
        type nat hook postrouting priority srcnat; policy accept;
        ip saddr $BRIDGE_SUBNET oifname "$uplink" masquerade
    }
}
EOF
}

# Nameservers for the containers: the host's own (non-loopback) resolvers; if the host only has a
# loopback resolver (e.g. systemd-resolved), a dnsmasq forwarder listening on the bridge address.
container_nameservers() {
    local servers file
    for file in /etc/resolv.conf /run/systemd/resolve/resolv.conf; do
        [ -r "$file" ] || continue
        servers=$(awk '$1 == "nameserver" && $2 ~ /^[0-9.]+$/ && $2 !~ /^127\./ {print $2}' "$file")
        if [ -n "$servers" ]; then
            echo "$servers"
            return 0
        fi
    done
    local pidfile=/run/drover-test-dnsmasq.pid
    if ! { [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }; then
        dnsmasq --conf-file=/dev/null --no-hosts --bind-interfaces \
            --listen-address="$BRIDGE_ADDR" --except-interface=lo --pid-file="$pidfile" 9>&-
    fi
    echo "$BRIDGE_ADDR"
}

# ---------------------------------------------------------------------------------------------------
# 3. Harness SSH key
setup_key() {
    if [ ! -s "$SSH_KEY" ] || [ ! -s "$SSH_KEY.pub" ]; then
        rm -f "$SSH_KEY" "$SSH_KEY.pub"
        ssh-keygen -q -t ed25519 -N '' -C drover-test-harness -f "$SSH_KEY"
    fi
    chmod 600 "$SSH_KEY"
}

# ---------------------------------------------------------------------------------------------------
# 4. Base rootfs. Everything that shapes it is in these variables and functions: they are hashed.
SUITE=bookworm
VARIANT=minbase
BASE_PACKAGES=systemd-sysv,dbus,openssh-server,ifupdown,iproute2,sudo,ca-certificates,procps,less,coreutils
# Host keys are generated per clone at boot (see customize_rootfs), never baked into the base.
# shellcheck disable=SC2016  # $1 is expanded by mmdebstrap's hook shell
MMDEBSTRAP_HOOK='rm -f "$1"/etc/ssh/ssh_host_*'

# Writes the harness's configuration into the unpacked rootfs ($1). Key material is passed as $2.
customize_rootfs() {
    local root=$1 pubkey=$2
    install -d -m 700 "$root/root/.ssh"
    printf '%s\n' "$pubkey" >"$root/root/.ssh/authorized_keys"
    chmod 600 "$root/root/.ssh/authorized_keys"

    if ! chroot "$root" getent passwd deploy >/dev/null; then
        chroot "$root" useradd --create-home --shell /bin/bash deploy
    fi
    install -d -m 700 -o "$(chroot "$root" id -u deploy)" -g "$(chroot "$root" id -g deploy)" "$root/home/deploy/.ssh"
    printf '%s\n' "$pubkey" >"$root/home/deploy/.ssh/authorized_keys"
    chroot "$root" chown deploy:deploy /home/deploy/.ssh/authorized_keys
    chmod 600 "$root/home/deploy/.ssh/authorized_keys"
    printf 'deploy ALL=(ALL:ALL) NOPASSWD: ALL\n' >"$root/etc/sudoers.d/deploy"
    chmod 440 "$root/etc/sudoers.d/deploy"

    # LXC configures eth0 (address + gateway) before init; ifupdown must leave it alone.
    cat >"$root/etc/network/interfaces" <<'EOF'
auto lo
iface lo inet loopback

auto eth0
iface eth0 inet manual
EOF

    # Every clone makes its own host keys on first boot (ed25519 + ecdsa; RSA is slow to generate).
    cat >"$root/usr/local/sbin/drover-test-hostkeys" <<'EOF'
#!/bin/sh
set -e
for type in ed25519 ecdsa; do
    key=/etc/ssh/ssh_host_${type}_key
    [ -s "$key" ] || /usr/bin/ssh-keygen -q -t "$type" -N '' -f "$key"
done
EOF
    chmod 755 "$root/usr/local/sbin/drover-test-hostkeys"
    install -d "$root/etc/systemd/system/ssh.service.d"
    cat >"$root/etc/systemd/system/ssh.service.d/drover-test-keygen.conf" <<'EOF'
[Service]
ExecStartPre=
ExecStartPre=/usr/local/sbin/drover-test-hostkeys
ExecStartPre=/usr/sbin/sshd -t
EOF
    cat >"$root/etc/ssh/sshd_config.d/drover-test.conf" <<'EOF'
HostKey /etc/ssh/ssh_host_ed25519_key
HostKey /etc/ssh/ssh_host_ecdsa_key
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UseDNS no
MaxStartups 200
MaxSessions 100
EOF
    # Clones get their hostname from host.sh; each boots with a fresh machine id.
    rm -f "$root/etc/hostname"
    : >"$root/etc/machine-id"
    rm -f "$root/var/lib/dbus/machine-id"
    # Units that only slow down or fail in a container.
    local unit
    # apt's daily timers are masked so they never hold the dpkg lock during package tests.
    for unit in systemd-udevd.service systemd-udevd-control.socket systemd-udevd-kernel.socket \
        systemd-udev-trigger.service systemd-journald-audit.socket \
        apt-daily.timer apt-daily.service apt-daily-upgrade.timer apt-daily-upgrade.service; do
        ln -sf /dev/null "$root/etc/systemd/system/$unit"
    done
}

# Writes the LXC config of the base container ($1 = container dir, $2 = rootfs path).
write_base_config() {
    local dir=$1 rootfs=$2
    cat >"$dir/config" <<EOF
lxc.include = /usr/share/lxc/config/debian.common.conf
lxc.arch = $(dpkg --print-architecture)
lxc.uts.name = $(basename "$dir")
lxc.rootfs.path = dir:$rootfs
lxc.apparmor.profile = unconfined
lxc.net.0.type = veth
lxc.net.0.link = $BRIDGE
lxc.net.0.name = eth0
lxc.net.0.flags = up
EOF
}

# Hash of what goes into the mmdebstrap tarball (a change re-downloads packages).
tar_hash() {
    echo "$SUITE $VARIANT $BASE_PACKAGES $MMDEBSTRAP_HOOK" | sha256sum | cut -c1-12
}

# Hash of the whole recipe: the tarball plus the customisation and the harness key.
recipe_hash() {
    {
        tar_hash
        declare -f customize_rootfs write_base_config
        cat "$SSH_KEY.pub"
    } | sha256sum | cut -c1-12
}

build_base() {
    local hash name tar rootfs dir
    hash=$(recipe_hash)
    name="base-$hash"
    tar="$CACHE_DIR/mmdebstrap-$(tar_hash).tar"
    rootfs="$CACHE_DIR/$name/rootfs"
    dir="$LXCPATH/$name"
    if [ -f "$CACHE_DIR/$name/.complete" ] && [ -f "$dir/config" ]; then
        echo "$name" >"$STATE_DIR/base-name"
        return 0
    fi
    local start=$SECONDS
    if [ ! -f "$tar" ]; then
        local mirror
        mirror=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
        [ -n "$mirror" ] || mirror=$(awk '$1 == "deb" {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
        [ -n "$mirror" ] || die "cannot find the Debian mirror apt uses (/etc/apt/sources.list.d/debian.sources)"
        log "building base rootfs $name with mmdebstrap (once; cached in $CACHE_DIR)"
        rm -rf "$tar.partial.tar"
        mmdebstrap --quiet --format=tar --variant="$VARIANT" --include="$BASE_PACKAGES" \
            --customize-hook="$MMDEBSTRAP_HOOK" "$SUITE" "$tar.partial.tar" "$mirror"
        mv "$tar.partial.tar" "$tar"
    fi
    rm -rf "${CACHE_DIR:?}/$name"
    mkdir -p "$rootfs"
    tar -C "$rootfs" --numeric-owner -xpf "$tar"
    customize_rootfs "$rootfs" "$(cat "$SSH_KEY.pub")"
    mkdir -p "$dir"
    write_base_config "$dir" "$rootfs"
    touch "$CACHE_DIR/$name/.complete"
    echo "$name" >"$STATE_DIR/base-name"
    log "base $name ready in $((SECONDS - start)) s"
    prune_old_bases "$name"
}

# Removes bases of older recipes, but only when no clone exists (a clone's overlay needs its base).
prune_old_bases() {
    local keep=$1 other
    for other in "$LXCPATH"/*/; do
        other=$(basename "$other")
        case "$other" in base-*) ;; *) return 0 ;; esac
    done
    for other in "$LXCPATH"/base-* "$CACHE_DIR"/base-* "$CACHE_DIR"/mmdebstrap-*.tar; do
        [ -e "$other" ] || continue
        case "$(basename "$other")" in "$keep" | "mmdebstrap-$(tar_hash).tar") continue ;; esac
        log "removing old base $other"
        rm -rf "$other"
    done
}

# Keeps the containers' resolv.conf pointing at the host's resolvers (cheap; only writes on change).
write_resolv_conf() {
    local rootfs want
    rootfs="$CACHE_DIR/$(cat "$STATE_DIR/base-name")/rootfs"
    want=$(container_nameservers | sed 's/^/nameserver /')
    if [ "$(cat "$rootfs/etc/resolv.conf" 2>/dev/null)" != "$want" ]; then
        rm -f "$rootfs/etc/resolv.conf"
        printf '%s\n' "$want" >"$rootfs/etc/resolv.conf"
    fi
}

install_packages
setup_network
setup_key
build_base
write_resolv_conf
