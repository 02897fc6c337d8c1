#!/bin/bash
# Removes a whole harness installation: destroys every container in its lxcpath (test hosts and
# bases) and deletes its cache and state directories. For throwaway installations made with their
# own DROVER_TEST_CACHE/DROVER_TEST_STATE (fresh mode, the fresh-base test); refuses the defaults,
# and refuses while a running process still holds a host of this state directory.
set -euo pipefail

HARNESS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=common.sh
. "$HARNESS_DIR/common.sh"

[ "$(id -u)" = 0 ] || die "remove-state.sh must run as root"
case "$STATE_DIR:$CACHE_DIR" in
/var/lib/drover-test:* | *:/var/cache/drover-test)
    die "refusing to remove the default harness directories (set DROVER_TEST_STATE and DROVER_TEST_CACHE)" ;;
esac

# Hosts of a live test process: leave everything alone (cleanup.sh says the same about leaks).
for dir in "$LXCPATH"/drvt-*; do
    [ -d "$dir" ] || continue
    slot=${dir##*/drvt-}
    if [ "$(cat "$LEASE_DIR/$slot.state" 2>/dev/null)" = "$STATE_DIR" ] && [ -f "$LEASE_DIR/$slot" ]; then
        read -r pid _ <"$LEASE_DIR/$slot" || pid=
        if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
            die "host $(basename "$dir") of this state directory is still in use (pid $pid)"
        fi
    fi
done
for dir in "$LXCPATH"/*/; do
    [ -d "$dir" ] || continue
    name=$(basename "$dir")
    lxc-stop -P "$LXCPATH" -n "$name" -k >/dev/null 2>&1 || true
    lxc-destroy -P "$LXCPATH" -n "$name" >/dev/null 2>&1 || lxc-destroy -P "$LXCPATH" -n "$name" -f >/dev/null 2>&1 || true
    slot=${name#drvt-}
    if [ "$slot" != "$name" ] && [ "$(cat "$LEASE_DIR/$slot.state" 2>/dev/null)" = "$STATE_DIR" ]; then
        rm -f "$LEASE_DIR/$slot" "$LEASE_DIR/$slot.state"
    fi
done
rm -rf "$STATE_DIR" "$CACHE_DIR"
