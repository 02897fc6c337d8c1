# Shared settings of the drover test harness (sourced by setup.sh and host.sh).
# shellcheck shell=bash disable=SC2034  # variables are used by the scripts sourcing this file

CACHE_DIR=${DROVER_TEST_CACHE:-/var/cache/drover-test}
STATE_DIR=${DROVER_TEST_STATE:-/var/lib/drover-test}
LXCPATH="$STATE_DIR/lxc"
# Slots are the bridge's addresses: their leases are machine-wide, whatever DROVER_TEST_STATE says
# (lease.rs). `<n>` holds the owner's pid and start time, `<n>.state` its state directory.
LEASE_DIR=/var/lib/drover-test/leases
SSH_KEY="$CACHE_DIR/id_ed25519"

BRIDGE=drvbr0
BRIDGE_ADDR=10.77.0.1
# Host slot n has MAC 02:77:00:00:00:<n> (host.sh); the bridge is slot 1.
BRIDGE_MAC=02:77:00:00:00:01
BRIDGE_PREFIX=24
BRIDGE_SUBNET=10.77.0.0/24

log() { echo "drover-test: $*" >&2; }
die() {
    log "error: $*"
    exit 1
}

# Removes the bridges of docker user-defined networks (br-<id>) holding addresses in the address pool
# of docker engine slot $1 (172.30.16*$1.0/20, see docker-engine.sh); prints their names.
remove_pool_bridges() {
    local first=$(($1 * 16)) br
    ip -o -4 addr show | awk -v lo="$first" -v hi="$((first + 15))" '
        $2 ~ /^br-/ { split($4, a, "."); if (a[1] == 172 && a[2] == 30 && a[3] >= lo && a[3] <= hi) print $2 }' |
        sort -u | while read -r br; do
            ip link del "$br" 2>/dev/null && echo "$br"
        done
}
