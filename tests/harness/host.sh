#!/bin/bash
# Manages one test host: a privileged LXC overlay clone of the base made by setup.sh, on the harness
# bridge, with a static IP.
#
#   host.sh up NAME IP     create + start NAME at IP, wait for sshd, print its host keys (known_hosts lines)
#   host.sh down NAME      stop (kill) + destroy NAME; succeeds when NAME does not exist
#   host.sh stop NAME      stop NAME (kill: fast; the host becomes unreachable), keep its disk
#   host.sh start NAME     start a stopped NAME again, wait for sshd, print its host keys
#
# Environment: DROVER_TEST_SSH_TIMEOUT (seconds to wait for sshd; default 60).
set -euo pipefail

HARNESS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=common.sh
. "$HARNESS_DIR/common.sh"

usage() { die "usage: host.sh up NAME IP | down NAME | stop NAME | start NAME"; }

[ "$(id -u)" = 0 ] || die "host.sh must run as root"

# Prints the IPv4 address from NAME's config.
host_ip() {
    awk -F' *= *' '$1 == "lxc.net.0.ipv4.address" {split($2, a, "/"); print a[1]}' "$LXCPATH/$1/config"
}

# The overlay upper dir of NAME's rootfs (what the clone has written, visible from the host).
overlay_upper() {
    awk -F' *= *' '$1 == "lxc.rootfs.path" {n = split($2, a, ":"); print a[n]}' "$LXCPATH/$1/config"
}

# Waits until sshd on IP answers, then prints NAME's host keys as known_hosts lines.
#
# The keys are read from the clone's own files, not from ssh-keyscan's answer: keyscan makes one
# connection per key type, and under load one of them can time out while the other answers, which
# once gave a host only one of its two keys. The files are complete before sshd starts (the unit's
# ExecStartPre generates them), so once sshd answers they are what it serves; strict host key
# checking against exactly these lines verifies that on every login.
wait_for_ssh() {
    local ip=$1 name=$2 deadline keydir type keytype key
    deadline=$((SECONDS + ${DROVER_TEST_SSH_TIMEOUT:-60}))
    while ! ssh-keyscan -T 2 -t ed25519 "$ip" 2>/dev/null | grep -q .; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            lxc-info -P "$LXCPATH" -n "$name" >&2 || true
            die "$name ($ip): sshd did not answer within ${DROVER_TEST_SSH_TIMEOUT:-60} s"
        fi
        if [ "$(lxc-info -P "$LXCPATH" -n "$name" -s -H 2>/dev/null)" != RUNNING ]; then
            die "$name ($ip): container is not running"
        fi
        sleep 0.1
    done
    keydir="$(overlay_upper "$name")/etc/ssh"
    for type in ed25519 ecdsa; do
        read -r keytype key _ <"$keydir/ssh_host_${type}_key.pub" ||
            die "$name: no $type host key in $keydir (the clone's first boot should have made it)"
        printf '%s %s %s\n' "$ip" "$keytype" "$key"
    done | sort
}

cmd_up() {
    local name=$1 ip=$2 base delta octet
    [[ "$name" =~ ^[a-z0-9][a-z0-9-]{0,62}$ ]] || die "bad host name '$name' (lowercase letters, digits, '-')"
    if ! [[ "$ip" =~ ^10\.77\.0\.([0-9]+)$ ]] || [ "${BASH_REMATCH[1]}" -lt 2 ] || [ "${BASH_REMATCH[1]}" -gt 254 ]; then
        die "IP '$ip' is not a host address on the harness bridge ($BRIDGE_SUBNET)"
    fi
    octet=${BASH_REMATCH[1]}
    [ ! -e "$LXCPATH/$name" ] || die "host $name already exists (host.sh down $name)"

    # A shared lock on setup's lock: setup.sh cannot swap or prune the base while we clone it.
    exec 8<>"$STATE_DIR/setup.lock"
    flock -s 8
    [ -f "$STATE_DIR/base-name" ] || die "no base rootfs: run tests/harness/setup.sh first"
    base=$(cat "$STATE_DIR/base-name")
    lxc-copy -P "$LXCPATH" -n "$base" -N "$name" -s -B overlay >/dev/null
    exec 8>&-
    cat >>"$LXCPATH/$name/config" <<EOF
lxc.net.0.ipv4.address = $ip/$BRIDGE_PREFIX
lxc.net.0.ipv4.gateway = $BRIDGE_ADDR
lxc.net.0.hwaddr = $(printf '02:77:00:00:00:%02x' "$octet")
EOF
    # Hostname files go straight into the clone's overlay upper dir (not mounted yet).
    delta=$(overlay_upper "$name")
    [ -d "$delta" ] || die "$name: cannot find the overlay upper dir ($delta)"
    mkdir -p "$delta/etc"
    echo "$name" >"$delta/etc/hostname"
    printf '127.0.0.1\tlocalhost\n127.0.1.1\t%s\n::1\tlocalhost ip6-localhost ip6-loopback\n' "$name" \
        >"$delta/etc/hosts"
    lxc-start -P "$LXCPATH" -n "$name" -d
    wait_for_ssh "$ip" "$name"
}

cmd_down() {
    local name=$1
    [ -e "$LXCPATH/$name" ] || return 0
    lxc-stop -P "$LXCPATH" -n "$name" -k >/dev/null 2>&1 || true
    lxc-destroy -P "$LXCPATH" -n "$name" >/dev/null 2>&1 || lxc-destroy -P "$LXCPATH" -n "$name" -f
}

cmd_stop() {
    local name=$1
    [ -e "$LXCPATH/$name" ] || die "no host $name"
    if [ "$(lxc-info -P "$LXCPATH" -n "$name" -s -H)" = RUNNING ]; then
        lxc-stop -P "$LXCPATH" -n "$name" -k
    fi
}

cmd_start() {
    local name=$1 ip
    [ -e "$LXCPATH/$name" ] || die "no host $name"
    ip=$(host_ip "$name")
    if [ "$(lxc-info -P "$LXCPATH" -n "$name" -s -H)" != RUNNING ]; then
        lxc-start -P "$LXCPATH" -n "$name" -d
    fi
    wait_for_ssh "$ip" "$name"
}

[ $# -ge 2 ] || usage
case "$1" in
up) [ $# -eq 3 ] || usage; cmd_up "$2" "$3" ;;
down) [ $# -eq 2 ] || usage; cmd_down "$2" ;;
stop) [ $# -eq 2 ] || usage; cmd_stop "$2" ;;
start) [ $# -eq 2 ] || usage; cmd_start "$2" ;;
*) usage ;;
esac
