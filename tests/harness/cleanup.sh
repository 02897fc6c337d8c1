#!/bin/bash
# Removes test hosts, docker engines and docker bridges left behind by test processes that no longer
# run (a killed test binary).
# Hosts whose lease holder still runs (another test run on this machine) are left alone.
# Prints the leaked names; exits 1 if there were any, so a test run can fail on leaks.
set -euo pipefail

HARNESS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=common.sh
. "$HARNESS_DIR/common.sh"

[ "$(id -u)" = 0 ] || die "cleanup.sh must run as root"

# Whether the lease of slot $1 belongs to a running process (same pid and start time).
holder_is_alive() {
    local lease="$LEASE_DIR/$1" pid start stat
    [ -f "$lease" ] || return 1
    read -r pid start <"$lease" || return 1
    stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
    stat=${stat##*) }
    # After the command name, the start time is the 20th field.
    [ "$(echo "$stat" | awk '{print $20}')" = "$start" ]
}

# Whether the lease of slot $1 is live and its containers live in this state directory.
lease_is_ours_and_live() {
    holder_is_alive "$1" &&
        [ "$(cat "$LEASE_DIR/$1.state" 2>/dev/null || echo /var/lib/drover-test)" = "$STATE_DIR" ]
}

leaked=()
# Private docker engines (docker-engine.sh) of processes that no longer run.
for lease in /var/lib/drover-test/docker-leases/*; do
    [ -f "$lease" ] || continue
    slot=$(basename "$lease")
    read -r pid start <"$lease" || true
    stat=$(cat "/proc/$pid/stat" 2>/dev/null || true)
    stat=${stat##*) }
    [ -n "$stat" ] && [ "$(echo "$stat" | awk '{print $20}')" = "$start" ] && continue
    leaked+=("docker-engine-$slot")
    bash "$HARNESS_DIR/docker-engine.sh" down "$slot"
    rm -f "$lease"
done
# Bridges of docker networks in the pool of an engine slot that no longer runs.
for slot in $(seq 0 15); do
    [ -f "/var/lib/drover-test/docker-leases/$slot" ] && continue
    for br in $(remove_pool_bridges "$slot"); do leaked+=("docker-bridge-$br"); done
done
# The lxc_container tests' containers, of test processes that no longer run: private lxcpaths
# /tmp/drover-lxc-test-* (the owner's pid in owner.pid) and the oracle test's containers in LXC's
# default lxcpath, named drvlx-o<pid>a-… / drvlx-o<pid>d-….
pid_alive() { [ -n "$1" ] && [ -d "/proc/$1" ]; }
lxc_down() {
    lxc-unfreeze -P "$1" -n "$2" >/dev/null 2>&1 || true
    lxc-stop -k -P "$1" -n "$2" >/dev/null 2>&1 || true
    lxc-destroy -P "$1" -n "$2" >/dev/null 2>&1 || true
}
for dir in /tmp/drover-lxc-test-*; do
    [ -d "$dir" ] || continue
    pid_alive "$(cat "$dir/owner.pid" 2>/dev/null || true)" && continue
    leaked+=("$dir")
    # Three passes: a snapshot clone must go before its source.
    for _ in 1 2 3; do
        for c in $(lxc-ls -P "$dir" -1 2>/dev/null || true); do lxc_down "$dir" "$c"; done
    done
    rm -rf "$dir"
done
oracle_leaks=()
for cfg in /var/lib/lxc/drvlx-o*/config; do
    [ -f "$cfg" ] || continue
    name=$(basename "$(dirname "$cfg")")
    pid=${name#drvlx-o}
    pid=${pid%%[!0-9]*}
    pid_alive "$pid" && continue
    oracle_leaks+=("$name")
done
if [ ${#oracle_leaks[@]} -gt 0 ]; then
    leaked+=("${oracle_leaks[@]}")
    for _ in 1 2 3; do
        for c in "${oracle_leaks[@]}"; do lxc_down /var/lib/lxc "$c"; done
    done
fi
for dir in "$LXCPATH"/drvt-*; do
    [ -d "$dir" ] || continue
    name=$(basename "$dir")
    slot=${name#drvt-}
    lease_is_ours_and_live "$slot" && continue
    leaked+=("$name")
    "$HARNESS_DIR/host.sh" down "$name"
    # A live lease of another state directory's run is that run's, not ours to remove.
    holder_is_alive "$slot" || rm -f "$LEASE_DIR/$slot" "$LEASE_DIR/$slot.state"
done
# The Rhaptos LAN test (tests/tests/rhaptos_lan.rs) of a process that no longer runs: its lxcpath
# and state under $STATE_DIR/rhaptos, bridge drvrh0, nft table "ip drvrh" (lease: "pid start").
rhaptos_lease="$STATE_DIR/rhaptos.lease"
rhaptos_live=
if [ -f "$rhaptos_lease" ]; then
    read -r pid start <"$rhaptos_lease" || true
    stat=$(cat "/proc/${pid:-0}/stat" 2>/dev/null || true)
    stat=${stat##*) }
    [ -n "$stat" ] && [ "$(echo "$stat" | awk '{print $20}')" = "$start" ] && rhaptos_live=1
fi
if [ -z "$rhaptos_live" ]; then
    rhaptos_root="$STATE_DIR/rhaptos"
    if [ -d "$rhaptos_root" ] || ip link show dev drvrh0 >/dev/null 2>&1 ||
        nft list table ip drvrh >/dev/null 2>&1; then
        leaked+=("rhaptos-lan")
        # Twice: an overlay clone must go before its base.
        for _ in 1 2; do
            for c in $(lxc-ls -P "$rhaptos_root/lxc" -1 2>/dev/null || true); do
                lxc-stop -k -P "$rhaptos_root/lxc" -n "$c" >/dev/null 2>&1 || true
                lxc-destroy -f -P "$rhaptos_root/lxc" -n "$c" >/dev/null 2>&1 || true
            done
        done
        nft delete table ip drvrh 2>/dev/null || true
        ip link delete dev drvrh0 2>/dev/null || true
        rm -rf "$rhaptos_root"
    fi
    rm -f "$rhaptos_lease"
fi
# `drover test` hosts (drover-testbed) of processes that no longer run, in the tests' testbed
# ($CACHE_DIR/testbed) and the machine's default one: containers drovertb-* whose creating
# process (drover-test.owner) is gone. `drover test --keep` hosts count as leaked here too.
for tb in "$CACHE_DIR/testbed" "${DROVER_TESTBED_DIR:-/var/cache/drover/testbed}"; do
    for dir in "$tb"/lxc/drovertb-*; do
        [ -d "$dir" ] || continue
        pid_alive "$(cat "$dir/drover-test.owner" 2>/dev/null || true)" && continue
        name=$(basename "$dir")
        leaked+=("$name")
        lxc_down "$tb/lxc" "$name"
        grep -ls "^$name\$" "$tb"/leases/[0-9]* 2>/dev/null | xargs -r rm -f
    done
done
if [ ${#leaked[@]} -gt 0 ]; then
    log "removed what test runs left behind: ${leaked[*]}"
    exit 1
fi
