#!/bin/bash
# Running and checking the three tools under the bench's fair settings. Sourced by bench/run.sh.

# Longest a single tool run may take before it counts as a failure.
BENCH_RUN_TIMEOUT=${BENCH_RUN_TIMEOUT:-1800}

# bench_venv PACKAGE VERSION: ensures a venv with PACKAGE==VERSION under $CACHE; prints its path.
bench_venv() {
    local pkg=$1 version=$2 venv="$CACHE/$1-$2"
    (
        exec 9>"$CACHE/venv.lock"
        flock 9
        if [ ! -e "$venv/.complete" ]; then
            rm -rf "$venv"
            /usr/bin/python3 -m venv "$venv" >&2
            "$venv/bin/pip" install -q --disable-pip-version-check "$pkg==$version" >&2
            touch "$venv/.complete"
        fi
    )
    echo "$venv"
}

# bench_write_ansible_cfg M FILE: forks = M, pipelining, ControlMaster/ControlPersist, no facts.
bench_write_ansible_cfg() {
    local m=$1 file=$2
    mkdir -p "$BENCH_RUN/ansible-cp"
    cat >"$file" <<CFG
[defaults]
forks = $m
host_key_checking = False
gathering = explicit
retry_files_enabled = False
interpreter_python = /usr/bin/python3
stdout_callback = default

[ssh_connection]
pipelining = True
ssh_args = -o ControlMaster=auto -o ControlPersist=120s -o UserKnownHostsFile=/dev/null
control_path_dir = $BENCH_RUN/ansible-cp
CFG
}

# bench_ansible_close_masters: ends the ControlPersist masters of the previous Ansible run, so
# every cold run starts without an open connection (as drover's and pyinfra's do).
bench_ansible_close_masters() {
    local sock
    [ -n "${BENCH_RUN:-}" ] && [ -d "$BENCH_RUN/ansible-cp" ] || return 0
    for sock in "$BENCH_RUN"/ansible-cp/*; do
        [ -S "$sock" ] || continue
        ssh -o ControlPath="$sock" -O exit bench-host >/dev/null 2>&1 || true
        rm -f "$sock"
    done
}

# bench_measure OUT CMD...: runs CMD with stdout+stderr to OUT.log; writes "SECONDS PEAK_RSS_KB"
# to OUT.measure and the exit code to OUT.rc; returns the exit code. Peak RSS is the largest
# single process's maximum resident set (getrusage of the waited-for tree, via GNU time).
bench_measure() {
    local out=$1 rc=0 start end rss
    shift
    start=$(date +%s%N)
    /usr/bin/time -f '%M' -o "$out.time" timeout "$BENCH_RUN_TIMEOUT" "$@" >"$out.log" 2>&1 || rc=$?
    end=$(date +%s%N)
    rss=$(tail -1 "$out.time" 2>/dev/null || echo 0)
    case $rss in '' | *[!0-9]*) rss=0 ;; esac
    echo "$(( (end - start) / 1000000 ))e-3 $rss" | awk '{printf "%.3f %d\n", $1, $2}' >"$out.measure"
    echo "$rc" >"$out.rc"
    return "$rc"
}

# bench_run_tool TOOL M WORKDIR OUT: one run of W1 with TOOL on hosts 1..M.
bench_run_tool() {
    local tool=$1 m=$2 work=$3 out=$4
    case $tool in
        drover)
            (cd "$work" && bench_measure "$out" "$DROVER" play -i inventory.ini -f "$m" w1.yml) ;;
        ansible)
            (cd "$work" && ANSIBLE_CONFIG="$work/ansible.cfg" ANSIBLE_NOCOLOR=1 \
                bench_measure "$out" "$ANSIBLE_VENV/bin/ansible-playbook" -i inventory.ini w1.yml) ;;
        pyinfra)
            (cd "$work" && bench_measure "$out" "$PYINFRA_VENV/bin/pyinfra" -y inventory.py w1_deploy.py) ;;
        *) echo "unknown tool $tool" >&2; return 2 ;;
    esac
}

# bench_check_recap LOG M EXPECTED_CHANGED: "ok" when the PLAY RECAP lists M hosts, none failed or
# unreachable, and the changed counts add up to EXPECTED_CHANGED; else what is wrong.
bench_check_recap() {
    local log=$1 m=$2 expected=$3
    awk -v m="$m" -v want="$expected" '
        /: ok=[0-9]+ +changed=[0-9]+ +unreachable=[0-9]+ +failed=[0-9]+/ {
            hosts++
            for (i = 1; i <= NF; i++) {
                split($i, kv, "=")
                if (kv[1] == "changed") changed += kv[2]
                if (kv[1] == "unreachable" || kv[1] == "failed") bad += kv[2]
            }
        }
        END {
            if (hosts != m) { print "recap lists " hosts + 0 " of " m " hosts"; exit }
            if (bad > 0) { print bad " failed/unreachable"; exit }
            if (changed != want) { print "changed=" changed " (expected " want ")"; exit }
            print "ok"
        }' "$log"
}

bench_expected_changed() { [ "$2" = cold ] && echo $((50 * $1)) || echo 0; }
bench_check_drover() { bench_check_recap "$1" "$2" "$(bench_expected_changed "$2" "$3")"; }
bench_check_ansible() { bench_check_recap "$1" "$2" "$(bench_expected_changed "$2" "$3")"; }

# pyinfra's results table ends with "Grand total  OPS  SUCCESS  ERROR  NO-CHANGE" ("-" for 0);
# "Success" counts operations that changed something.
bench_check_pyinfra() {
    local log=$1 m=$2 phase=$3
    awk -v want="$(bench_expected_changed "$m" "$phase")" '
        /Grand total/ {
            found = 1
            changed = ($4 == "-") ? 0 : $4
            errors = ($5 == "-") ? 0 : $5
        }
        END {
            if (!found) { print "no results table"; exit }
            if (errors > 0) { print errors " errors"; exit }
            if (changed != want) { print "changed=" changed " (expected " want ")"; exit }
            print "ok"
        }' "$log"
}
