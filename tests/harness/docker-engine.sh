#!/bin/bash
# A private Docker engine for the integration tests, never the machine's default one.
#
#   docker-engine.sh up N         start engine slot N (0-15): dockerd on /var/lib/drover-test/docker/N/docker.sock,
#                                 its own data and exec roots, bridge drvdk<N> (172.29.N.1/24), address
#                                 pool 172.30.(16N).0/20, its own containerd namespace, --iptables=false;
#                                 the test image drover-test/debian:bookworm imported from the harness's
#                                 cached mmdebstrap tarball (no registry is reachable)
#   docker-engine.sh registry N   start a local registry (Debian's docker-registry) for slot N on
#                                 127.0.0.1:(5100+N); prints its address
#   docker-engine.sh down N       stop slot N's registry and engine, remove its bridge and files
#
# dockerd normally sets the iptables FORWARD policy to DROP, which cuts the LXC test hosts off Debian's
# archive. The engine runs with --iptables=false, and `down` restores the FORWARD policy anyway if it
# is DROP now and was not before `up` (recorded in the slot's directory).
set -euo pipefail

HARNESS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=common.sh
. "$HARNESS_DIR/common.sh"

[ "$(id -u)" = 0 ] || die "docker-engine.sh must run as root"
cmd=${1:-}
slot=${2:-}
case "$slot" in [0-9] | 1[0-5]) ;; *) die "usage: docker-engine.sh up|registry|down N (N in 0-15)" ;; esac

# Machine-wide like the slots themselves (bridge names and ports are), whatever DROVER_TEST_STATE says.
DIR="/var/lib/drover-test/docker/$slot"
SOCK="$DIR/docker.sock"
ENGINE_BRIDGE="drvdk$slot"
IMAGE=drover-test/debian:bookworm
REGISTRY_PORT=$((5100 + slot))
export DOCKER_HOST="unix://$SOCK"

forward_policy() {
    { nft list chain ip filter FORWARD 2>/dev/null || true; } | sed -n 's/.*policy \([a-z]*\);.*/\1/p' | head -n1
}

kill_pidfile() {
    local pidfile=$1 pid i
    [ -f "$pidfile" ] || return 0
    pid=$(cat "$pidfile" 2>/dev/null || true)
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        kill "$pid" 2>/dev/null || true
        for i in $(seq 1 100); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$pidfile"
}

down() {
    [ -d "$DIR" ] || return 0
    if [ -S "$SOCK" ]; then
        # Containers first, so their shims and docker-proxies go with them.
        ids=$(timeout 20 docker ps -aq 2>/dev/null || true)
        # shellcheck disable=SC2086  # ids are words
        if [ -n "$ids" ]; then timeout 60 docker rm -f -v $ids >/dev/null 2>&1 || true; fi
        # dockerd keeps the bridges of user-defined networks (br-<id>) when it stops: removing the
        # networks removes them.
        timeout 20 docker network prune -f >/dev/null 2>&1 || true
    fi
    kill_pidfile "$DIR/registry.pid"
    kill_pidfile "$DIR/dockerd.pid"
    # Mounts dockerd left (overlay2, netns, shm) must go before the files.
    { grep -o " $DIR/[^ ]*" /proc/self/mounts || true; } | sort -r | while read -r mnt; do
        umount -l "$mnt" 2>/dev/null || true
    done
    if ip link show "$ENGINE_BRIDGE" >/dev/null 2>&1; then ip link del "$ENGINE_BRIDGE"; fi
    # After a crash, bridges of user-defined networks may remain: remove those in this slot's pool.
    remove_pool_bridges "$slot"
    if [ "$(forward_policy)" = drop ] && [ "$(cat "$DIR/forward-policy" 2>/dev/null)" != drop ]; then
        nft chain ip filter FORWARD '{ policy accept; }'
        log "restored the FORWARD policy to accept (dockerd had set it to drop)"
    fi
    # Lazily unmounted filesystems may still be going away: retry briefly.
    local try
    for try in 1 2 3 4 5; do
        rm -rf "$DIR" 2>/dev/null && return 0
        sleep 0.5
    done
    rm -rf "$DIR"
}

up() {
    command -v dockerd >/dev/null || die "dockerd not found: run tests/harness/setup.sh (it installs docker.io)"
    down
    mkdir -p "$DIR"
    forward_policy >"$DIR/forward-policy"
    ip link add "$ENGINE_BRIDGE" type bridge
    ip addr add "172.29.$slot.1/24" dev "$ENGINE_BRIDGE"
    ip link set "$ENGINE_BRIDGE" up
    dockerd --data-root "$DIR/data" --exec-root "$DIR/exec" -H "$DOCKER_HOST" --pidfile "$DIR/dockerd.pid" \
        --iptables=false --ip6tables=false --bridge "$ENGINE_BRIDGE" \
        --default-address-pool "base=172.30.$((slot * 16)).0/20,size=24" \
        --containerd-namespace "drvdk$slot" --containerd-plugins-namespace "drvdk$slot-plugins" \
        >"$DIR/dockerd.log" 2>&1 </dev/null &
    local i
    for i in $(seq 1 200); do
        docker version >/dev/null 2>&1 && break
        kill -0 "$!" 2>/dev/null || { cat "$DIR/dockerd.log" >&2; die "dockerd exited"; }
        sleep 0.1
    done
    docker version >/dev/null || { cat "$DIR/dockerd.log" >&2; die "dockerd did not answer on $SOCK"; }
    local tar
    tar=$(find "$CACHE_DIR" -maxdepth 1 -name 'mmdebstrap-*.tar' -print -quit)
    [ -n "$tar" ] || die "no cached base tarball in $CACHE_DIR: run tests/harness/setup.sh first"
    docker import --change 'CMD ["/bin/bash"]' "$tar" "$IMAGE" >/dev/null
    echo "$SOCK"
}

registry() {
    [ -S "$SOCK" ] || die "engine slot $slot is not up"
    if [ -f "$DIR/registry.pid" ] && kill -0 "$(cat "$DIR/registry.pid")" 2>/dev/null; then
        echo "127.0.0.1:$REGISTRY_PORT"
        return 0
    fi
    command -v docker-registry >/dev/null || die "docker-registry not found: run tests/harness/setup.sh"
    mkdir -p "$DIR/registry"
    cat >"$DIR/registry.yml" <<EOF
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $DIR/registry
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$REGISTRY_PORT
EOF
    docker-registry serve "$DIR/registry.yml" >"$DIR/registry.log" 2>&1 </dev/null &
    echo $! >"$DIR/registry.pid"
    local i
    for i in $(seq 1 100); do
        (exec 3<>"/dev/tcp/127.0.0.1/$REGISTRY_PORT") 2>/dev/null && break
        sleep 0.1
    done
    (exec 3<>"/dev/tcp/127.0.0.1/$REGISTRY_PORT") 2>/dev/null ||
        { cat "$DIR/registry.log" >&2; die "registry did not listen on 127.0.0.1:$REGISTRY_PORT"; }
    echo "127.0.0.1:$REGISTRY_PORT"
}

case "$cmd" in
up) up ;;
registry) registry ;;
down) down ;;
*) die "usage: docker-engine.sh up|registry|down N" ;;
esac
