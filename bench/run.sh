#!/bin/bash
# drover benchmark: drover vs ansible-core vs pyinfra on W1 (50 tasks/host) for M = 1, 10, 50,
# the russh floor, and W2 (1 task on 200 hosts). See docs/PERFORMANCE.md.
#
#   bash bench/run.sh [--hosts "1 10 50"] [--reps 3] [--large-reps N] [--tools "drover ansible pyinfra"]
#                     [--w2-hosts 200] [--no-w2] [--no-floor] [--keep-logs] [--no-build]
#
# Needs root (network namespaces). Creates its own bridge (dbench0, 10.251.0.0/16), namespaces and
# sshd daemons, and removes all of them on exit. ansible-core and pyinfra are installed from PyPI
# into venvs under $DROVER_BENCH_CACHE (default /var/cache/drover-bench).
set -euo pipefail

BENCH_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(dirname "$BENCH_SRC")
CACHE=${DROVER_BENCH_CACHE:-/var/cache/drover-bench}
ANSIBLE_CORE_VERSION=${DROVER_BENCH_ANSIBLE_CORE:-2.19.14}
PYINFRA_VERSION=${DROVER_BENCH_PYINFRA:-3.10.0}
HOSTS_LIST="1 10 50"
REPS=3
LARGE_REPS=""
TOOLS="drover ansible pyinfra"
W2_HOSTS=200
DO_W2=1
DO_FLOOR=1
KEEP_LOGS=0
BUILD=1
while [ $# -gt 0 ]; do
    case $1 in
        --hosts) HOSTS_LIST=$2; shift 2 ;;
        --reps) REPS=$2; shift 2 ;;
        --large-reps) LARGE_REPS=$2; shift 2 ;;
        --tools) TOOLS=$2; shift 2 ;;
        --w2-hosts) W2_HOSTS=$2; shift 2 ;;
        --no-w2) DO_W2=0; shift ;;
        --no-floor) DO_FLOOR=0; shift ;;
        --keep-logs) KEEP_LOGS=1; shift ;;
        --no-build) BUILD=0; shift ;;
        -h | --help) sed -n 2,12p "$0"; exit 0 ;;
        *) echo "unknown argument: $1" >&2; exit 2 ;;
    esac
done
[ "$(id -u)" = 0 ] || { echo "bench/run.sh needs root (network namespaces)" >&2; exit 1; }

# shellcheck source=bench/lib/hosts.sh
source "$BENCH_SRC/lib/hosts.sh"
# shellcheck source=bench/lib/workloads.sh
source "$BENCH_SRC/lib/workloads.sh"
# shellcheck source=bench/lib/tools.sh
source "$BENCH_SRC/lib/tools.sh"

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# --- tools -------------------------------------------------------------------------------------
if [ "$BUILD" = 1 ]; then
    log "building drover and the floor probe (--release)"
    (cd "$REPO" && cargo build --release -q -p drover-cli -p drover-bench-floor)
fi
TARGET_DIR=$(cd "$REPO" && cargo metadata --format-version 1 --no-deps 2>/dev/null |
    /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
DROVER="$TARGET_DIR/release/drover"
FLOOR="$TARGET_DIR/release/drover-bench-floor"
mkdir -p "$CACHE"
[ -e "$CACHE/CACHEDIR.TAG" ] || echo "Signature: 8a477f597d28d172789f06886806bc55" >"$CACHE/CACHEDIR.TAG"
case " $TOOLS " in *" ansible "*) ANSIBLE_VENV=$(bench_venv "ansible-core" "$ANSIBLE_CORE_VERSION") ;; esac
case " $TOOLS " in *" pyinfra "*) PYINFRA_VENV=$(bench_venv "pyinfra" "$PYINFRA_VERSION") ;; esac

# --- hosts -------------------------------------------------------------------------------------
BENCH_RUN=$(mktemp -d /tmp/drover-bench.XXXXXX)
export BENCH_RUN
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    bench_ansible_close_masters || true
    bench_hosts_destroy || true
    if [ "$KEEP_LOGS" = 1 ] || [ "$rc" != 0 ]; then
        log "logs kept in $BENCH_RUN"
    else
        rm -rf "$BENCH_RUN"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

bench_bridge_up
bench_keys
RESULTS="$BENCH_RUN/results.tsv"
printf 'workload\ttool\tM\trep\tphase\tseconds\tpeak_rss_kb\tstatus\n' >"$RESULTS"

# record WORKLOAD TOOL M REP PHASE SECONDS RSS STATUS
record() { printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$RESULTS"; }

max_m=0
for m in $HOSTS_LIST; do [ "$m" -gt "$max_m" ] && max_m=$m; done

# --- W1 ----------------------------------------------------------------------------------------
for m in $HOSTS_LIST; do
    log "W1: starting $m host(s)"
    bench_hosts_up "$m"
    work="$BENCH_RUN/w1-m$m"
    mkdir -p "$work"
    bench_write_w1_playbook "$work"
    bench_write_w1_pyinfra "$work"
    bench_write_inventory "$m" "$work/inventory.ini"
    bench_write_pyinfra_inventory "$m" "$work/inventory.py"
    bench_write_ansible_cfg "$m" "$work/ansible.cfg"
    reps=$REPS
    if [ "$m" -ge 50 ] && [ -n "$LARGE_REPS" ]; then reps=$LARGE_REPS; fi
    for rep in $(seq 1 "$reps"); do
        for tool in $TOOLS; do
            bench_hosts_reset "$m"
            for phase in cold warm; do
                out="$work/$tool-$rep-$phase"
                if bench_run_tool "$tool" "$m" "$work" "$out"; then
                    status=$(bench_check_"$tool" "$out.log" "$m" "$phase")
                else
                    status="exit $(cat "$out.rc")"
                fi
                read -r secs rss <"$out.measure"
                record W1 "$tool" "$m" "$rep" "$phase" "$secs" "$rss" "$status"
                log "W1 M=$m rep $rep $tool $phase: ${secs}s ${rss}KB $status"
            done
            [ "$tool" = ansible ] && bench_ansible_close_masters
        done
        if [ "$DO_FLOOR" = 1 ]; then
            hosts=()
            for i in $(seq 1 "$m"); do hosts+=("$(bench_host_ip "$i")"); done
            out="$work/floor-$rep"
            if bench_measure "$out" "$FLOOR" "$BENCH_RUN/id_ed25519" 50 "${hosts[@]}"; then
                read -r _ rss <"$out.measure"
                secs=$(tail -1 "$out.log")
                status=ok
            else
                secs=0 rss=0 status="exit $(cat "$out.rc")"
            fi
            record W1 floor "$m" "$rep" warm "$secs" "$rss" "$status"
            log "W1 M=$m rep $rep floor: ${secs}s $status"
            if [ "$status" = ok ]; then
                secs=$(sed -n 's/^connect //p' "$out.log")
                record W1 connect "$m" "$rep" warm "$secs" 0 ok
                log "W1 M=$m rep $rep connect (all hosts, in parallel): ${secs}s"
            fi
        fi
    done
done

# --- W2 ----------------------------------------------------------------------------------------
if [ "$DO_W2" = 1 ]; then
    m=$W2_HOSTS
    log "W2: starting $m hosts"
    bench_hosts_up "$m"
    work="$BENCH_RUN/w2-m$m"
    mkdir -p "$work"
    bench_write_w2_playbook "$work"
    bench_write_inventory "$m" "$work/inventory.ini"
    for rep in $(seq 1 "$REPS"); do
        bench_hosts_reset "$m"
        for phase in cold warm; do
            out="$work/drover-$rep-$phase"
            if bench_measure "$out" "$DROVER" play -i "$work/inventory.ini" -f "$m" "$work/w2.yml"; then
                status=$(bench_check_recap "$out.log" "$m" "$([ $phase = cold ] && echo "$m" || echo 0)")
            else
                status="exit $(cat "$out.rc")"
            fi
            read -r secs rss <"$out.measure"
            record W2 drover "$m" "$rep" "$phase" "$secs" "$rss" "$status"
            log "W2 M=$m rep $rep drover $phase: ${secs}s ${rss}KB $status"
        done
    done
fi

/usr/bin/python3 "$BENCH_SRC/lib/report.py" "$RESULTS" | tee "$BENCH_RUN/table.txt"
if [ "$KEEP_LOGS" = 1 ]; then log "results: $RESULTS"; fi
