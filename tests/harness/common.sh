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
BRIDGE_PREFIX=24
BRIDGE_SUBNET=10.77.0.0/24

log() { echo "drover-test: $*" >&2; }
die() {
    log "error: $*"
    exit 1
}
