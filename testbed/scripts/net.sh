#!/bin/bash
# The testbed's network, idempotent: bridge BRIDGE with a fixed MAC (a bridge without one takes
# the lowest MAC of its ports, which changes as hosts come and go, and the hosts' ARP entry for the
# gateway then goes stale), forwarding + masquerade out of the default route in nftables table
# TABLE. Prints the nameservers the hosts should use: the controller's own non-loopback resolvers,
# or a dnsmasq forwarder on the bridge address when it only has a loopback one.
#   net.sh BRIDGE ADDR PREFIX SUBNET MAC TABLE
set -euo pipefail
bridge=$1 addr=$2 prefix=$3 subnet=$4 mac=$5 table=$6
command -v nft >/dev/null || { echo "nft is missing: apt-get install nftables" >&2; exit 1; }
ip link show "$bridge" >/dev/null 2>&1 || ip link add "$bridge" type bridge
ip link set "$bridge" address "$mac"
ip addr replace "$addr/$prefix" dev "$bridge"
ip link set "$bridge" up
sysctl -q -w net.ipv4.ip_forward=1
uplink=$(ip -4 route show default | awk '{for (i = 1; i < NF; i++) if ($i == "dev") {print $(i + 1); exit}}')
[ -n "$uplink" ] || { echo "no IPv4 default route: test hosts could not reach Debian's archive" >&2; exit 1; }
rules="table ip $table {
    chain forward {
        type filter hook forward priority filter; policy accept;
        iifname \"$bridge\" oifname \"$uplink\" accept
        iifname \"$uplink\" oifname \"$bridge\" ct state established,related accept
    }
    chain postrouting {
        type nat hook postrouting priority srcnat; policy accept;
        ip saddr $subnet oifname \"$uplink\" masquerade
    }
}"
# Replaced only when missing or made for another uplink, so parallel runs do not flap the rules.
if ! nft list table ip "$table" 2>/dev/null | grep -q "oifname \"$uplink\" masquerade"; then
    exec 9>"/run/$table.nft.lock"
    flock 9
    nft list table ip "$table" >/dev/null 2>&1 && nft delete table ip "$table"
    echo "$rules" | nft -f -
fi
# A Docker engine run with its iptables rules sets the FORWARD policy of table `ip filter` to DROP;
# the accept above cannot override another base chain's drop, so the bridge's traffic is let
# through there too (rules iptables-nft can show). The policy itself is never changed.
fwd=$(nft list chain ip filter FORWARD 2>/dev/null || true)
if grep -q 'policy drop;' <<<"$fwd"; then
    exec 8>"/run/$table.filter.lock"
    flock 8
    fwd=$(nft list chain ip filter FORWARD)
    grep -q "iifname \"$uplink\" oifname \"$bridge\" ct state established,related accept" <<<"$fwd" ||
        nft insert rule ip filter FORWARD iifname "$uplink" oifname "$bridge" ct state established,related accept
    grep -q "iifname \"$bridge\" oifname \"$uplink\" accept" <<<"$fwd" ||
        nft insert rule ip filter FORWARD iifname "$bridge" oifname "$uplink" accept
    exec 8>&-
fi
for file in /etc/resolv.conf /run/systemd/resolve/resolv.conf; do
    [ -r "$file" ] || continue
    servers=$(awk '$1 == "nameserver" && $2 ~ /^[0-9.]+$/ && $2 !~ /^127\./ {print $2}' "$file")
    if [ -n "$servers" ]; then
        echo "$servers"
        exit 0
    fi
done
pidfile="/run/$table-dnsmasq.pid"
if ! { [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }; then
    dnsmasq --conf-file=/dev/null --no-hosts --bind-interfaces \
        --listen-address="$addr" --except-interface=lo --pid-file="$pidfile" 9>&-
fi
echo "$addr"
