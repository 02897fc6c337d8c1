#!/bin/bash
# The Docker driver's setup, idempotent:
#   docker.sh image ENGINE DIR ROOTFS TAG CHANGE...   import the testbed's Debian 12 base (ROOTFS, the
#                                                     one the LXC driver boots) as image TAG, once per engine
#   docker.sh net ENGINE SUBNET NETWORK               forwarding + masquerade for the testbed network
#                                                     NETWORK (SUBNET) out of the default route (nftables
#                                                     table drovertb_docker), for engines run with
#                                                     --iptables=false
# ENGINE is the `docker -H` value, or empty for the CLI's default.
set -euo pipefail
cmd=$1 engine=$2
shift 2
[ -z "$engine" ] || export DOCKER_HOST="$engine"

image() {
    local dir=$1 rootfs=$2 tag=$3
    shift 3
    mkdir -p "$dir"
    exec 9>"$dir/docker-image.lock"
    flock 9
    docker image inspect "$tag" >/dev/null 2>&1 && return 0
    echo "drover test: importing the Debian 12 base into Docker as $tag (once per engine)" >&2
    local changes=() c
    for c in "$@"; do changes+=(--change "$c"); done
    tar -C "$rootfs" --numeric-owner -cf - . | docker import "${changes[@]}" - "$tag" >/dev/null
    # Images of older recipes: unused ones go.
    docker image ls --format '{{.Repository}}:{{.Tag}}' "${tag%%:*}" | while read -r old; do
        [ "$old" = "$tag" ] || docker image rm "$old" >/dev/null 2>&1 || true
    done
}

net() {
    local subnet=$1 network=$2 table=drovertb_docker uplink
    sysctl -q -w net.ipv4.ip_forward=1
    command -v nft >/dev/null || { echo "nft is missing: apt-get install nftables" >&2; exit 1; }
    uplink=$(ip -4 route show default | awk '{for (i = 1; i < NF; i++) if ($i == "dev") {print $(i + 1); exit}}')
    [ -n "$uplink" ] || { echo "no IPv4 default route: test hosts could not reach Debian's archive" >&2; exit 1; }
    exec 9>"/run/$table.nft.lock"
    flock 9
    nft list table ip "$table" >/dev/null 2>&1 ||
        nft -f - <<NFT
table ip $table {
    chain postrouting {
        type nat hook postrouting priority srcnat; policy accept;
    }
}
NFT
    nft list chain ip "$table" postrouting | grep -q "ip saddr $subnet oifname \"$uplink\" masquerade" ||
        nft add rule ip "$table" postrouting ip saddr "$subnet" oifname "$uplink" masquerade
    # An engine with its iptables rules forwards its own networks; one run with --iptables=false
    # on a machine whose FORWARD policy is DROP (set by another engine) needs the bridge let
    # through (the policy itself is never changed).
    local bridge fwd
    fwd=$(nft list chain ip filter FORWARD 2>/dev/null || true)
    if grep -q 'policy drop;' <<<"$fwd"; then
        bridge=$(docker network inspect --format '{{index .Options "com.docker.network.bridge.name"}}' "$network")
        [ -n "$bridge" ] && [ "$bridge" != "<no value>" ] ||
            bridge=br-$(docker network inspect --format '{{.Id}}' "$network" | cut -c1-12)
        grep -q "iifname \"$uplink\" oifname \"$bridge\" ct state established,related accept" <<<"$fwd" ||
            nft insert rule ip filter FORWARD iifname "$uplink" oifname "$bridge" ct state established,related accept
        grep -q "iifname \"$bridge\" oifname \"$uplink\" accept" <<<"$fwd" ||
            nft insert rule ip filter FORWARD iifname "$bridge" oifname "$uplink" accept
    fi
}

case "$cmd" in
image) image "$@" ;;
net) net "$@" ;;
*) echo "usage: docker.sh image|net ENGINE ..." >&2; exit 2 ;;
esac
