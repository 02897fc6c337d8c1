#!/bin/bash
# Bench hosts: bare sshd daemons, each in its own network namespace on the bench's own bridge, each
# with a private mount namespace in which its own directory is bind-mounted over /root (so every
# host has its own home, authorized_keys and work area, and root's ~/.bashrc is not run).
# Sourced by bench/run.sh. Everything created is recorded under $BENCH_RUN and removed by
# bench_hosts_destroy (run from run.sh's exit trap).

BENCH_BRIDGE=${BENCH_BRIDGE:-dbench0}
BENCH_NS_PREFIX=${BENCH_NS_PREFIX:-dbench}
# First two octets of the bench network (a /16 on the bridge).
BENCH_NET=${BENCH_NET:-10.251}

# bench_host_ip I -> 10.251.X.Y for host I (1-based), up to ~60000 hosts on the /16.
bench_host_ip() {
    local i=$1
    echo "$BENCH_NET.$(( (i + 10) / 250 )).$(( (i + 10) % 250 + 2 ))"
}

bench_bridge_up() {
    if ip link show "$BENCH_BRIDGE" >/dev/null 2>&1; then
        echo "bridge $BENCH_BRIDGE already exists: another bench run? (remove it if stale)" >&2
        return 1
    fi
    ip link add "$BENCH_BRIDGE" type bridge
    echo "$BENCH_BRIDGE" >"$BENCH_RUN/bridge"
    ip addr add "$BENCH_NET.0.1/16" dev "$BENCH_BRIDGE"
    ip link set "$BENCH_BRIDGE" up
}

# bench_key: the controller's key pair and the shared host key, generated once per run.
bench_keys() {
    ssh-keygen -q -t ed25519 -N '' -f "$BENCH_RUN/id_ed25519" -C drover-bench
    ssh-keygen -q -t ed25519 -N '' -f "$BENCH_RUN/hostkey" -C drover-bench-host
}

# bench_host_up I: starts host I (idempotent: does nothing if it is up).
bench_host_up() {
    local i=$1 ns="$BENCH_NS_PREFIX$1" h="$BENCH_RUN/hosts/h$1" ip
    [ -e "$h/up" ] && return 0
    ip=$(bench_host_ip "$i")
    mkdir -p "$h/root/.ssh"
    chmod 700 "$h/root" "$h/root/.ssh"
    cp "$BENCH_RUN/id_ed25519.pub" "$h/root/.ssh/authorized_keys"
    cat >"$h/sshd_config" <<CFG
ListenAddress $ip
HostKey $BENCH_RUN/hostkey
PidFile $h/sshd.pid
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
UseDNS no
MaxSessions 50
MaxStartups 200:30:400
Subsystem sftp internal-sftp
CFG
    # sshd's privilege separation directory (systemd creates it on a booted machine; a fresh
    # container or CI machine may not have it).
    mkdir -p -m 0755 /run/sshd
    ip netns add "$ns"
    echo "$ns" >>"$BENCH_RUN/namespaces"
    ip link add "${BENCH_NS_PREFIX}v$i" type veth peer name eth0 netns "$ns"
    echo "${BENCH_NS_PREFIX}v$i" >>"$BENCH_RUN/links"
    ip link set "${BENCH_NS_PREFIX}v$i" master "$BENCH_BRIDGE" up
    ip -n "$ns" addr add "$ip/16" dev eth0
    ip -n "$ns" link set eth0 up
    ip -n "$ns" link set lo up
    ip netns exec "$ns" unshare -m -u --propagation private sh -c \
        "hostname h$i && mount --bind '$h/root' /root && exec /usr/sbin/sshd -f '$h/sshd_config' -E '$h/sshd.log'"
    touch "$h/up"
}

# bench_hosts_up M: starts hosts 1..M (those not up yet) and waits until each accepts ssh.
bench_hosts_up() {
    local m=$1 i
    for i in $(seq 1 "$m"); do bench_host_up "$i"; done
    for i in $(seq 1 "$m"); do
        local tries=0
        until ssh -q -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
            -o ConnectTimeout=2 -i "$BENCH_RUN/id_ed25519" "root@$(bench_host_ip "$i")" true; do
            tries=$((tries + 1))
            if [ "$tries" -gt 50 ]; then
                echo "bench host h$i did not come up; see $BENCH_RUN/hosts/h$i/sshd.log" >&2
                return 1
            fi
            sleep 0.1
        done
    done
}

# bench_hosts_reset M: wipes the work area of hosts 1..M (fresh hosts for a cold run).
bench_hosts_reset() {
    local m=$1 i
    for i in $(seq 1 "$m"); do
        rm -rf "$BENCH_RUN/hosts/h$i/root/w1" "$BENCH_RUN/hosts/h$i/root/w2" "$BENCH_RUN/hosts/h$i/root/.ansible"
    done
}

# bench_write_inventory M FILE: an INI inventory of hosts 1..M (group `bench`), for drover and Ansible.
bench_write_inventory() {
    local m=$1 file=$2 i
    {
        echo "[bench]"
        for i in $(seq 1 "$m"); do echo "h$i ansible_host=$(bench_host_ip "$i")"; done
        echo
        echo "[bench:vars]"
        echo "ansible_user=root"
        echo "ansible_ssh_private_key_file=$BENCH_RUN/id_ed25519"
        echo "ansible_host_key_checking=false"
        echo "ansible_python_interpreter=/usr/bin/python3"
    } >"$file"
}

# bench_hosts_destroy: stops every sshd (by its recorded PID), removes namespaces and the bridge.
bench_hosts_destroy() {
    local pidfile pid ns link
    [ -n "${BENCH_RUN:-}" ] && [ -d "$BENCH_RUN" ] || return 0
    for pidfile in "$BENCH_RUN"/hosts/h*/sshd.pid; do
        [ -e "$pidfile" ] || continue
        pid=$(cat "$pidfile")
        [ -n "$pid" ] && kill "$pid" 2>/dev/null
    done
    if [ -e "$BENCH_RUN/namespaces" ]; then
        while read -r ns; do
            # Anything still running in the namespace (sessions of a killed sshd) goes too.
            for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null; done
            ip netns del "$ns" 2>/dev/null
        done <"$BENCH_RUN/namespaces"
        rm -f "$BENCH_RUN/namespaces"
    fi
    if [ -e "$BENCH_RUN/links" ]; then
        # Normally gone with their namespace; a namespace kept alive elsewhere must not keep them.
        while read -r link; do
            ip link del "$link" 2>/dev/null
        done <"$BENCH_RUN/links"
        rm -f "$BENCH_RUN/links"
    fi
    if [ -e "$BENCH_RUN/bridge" ]; then
        ip link del "$(cat "$BENCH_RUN/bridge")" 2>/dev/null
        rm -f "$BENCH_RUN/bridge"
    fi
}
