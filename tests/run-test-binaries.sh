#!/bin/bash
# The test step of tests/run.sh: what `cargo test --workspace --all-targets --no-fail-fast` does,
# with the test binaries run DROVER_TEST_JOBS at a time (default 3) instead of one after another.
#
# Most of the suite waits on real hosts (package downloads, container boots, ansible-core runs), so
# one binary at a time leaves the machine idle; side by side the suite takes a fraction of the time.
# Tests in one binary still share their process (as under `cargo test`), so per-process setup such
# as a Docker engine or the oracle venv is made once per binary. Slow binaries start first. Each
# binary's output is printed when it ends (in full if it failed); the exit status is non-zero if any
# binary failed.
#
#     DROVER_TEST_JOBS=1 bash tests/run-test-binaries.sh      # one at a time
#     bash tests/run-test-binaries.sh -- --nocapture           # arguments after -- go to every binary
#     DROVER_TEST_ONLY='^lib/|harness' bash tests/run-test-binaries.sh   # binaries whose kind/name match
set -uo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
jobs=${DROVER_TEST_JOBS:-3}
args=()
if [ "${1:-}" = -- ]; then
    shift
    args=("$@")
fi

work=$(mktemp -d /tmp/drover-test-binaries.XXXXXX)
trap 'rm -rf "$work"' EXIT

if ! cargo test --workspace --all-targets --no-run --message-format=json-render-diagnostics >"$work/build.json"; then
    echo "run-test-binaries: the test build failed" >&2
    exit 1
fi

# The binaries slowest in earlier runs start first (tests/README.md has their times).
slow="rhaptos_roles rhaptos_lan drover_test drover_test_docker ome_prerequisites oracle_apt_options oracle_core_targets
docker_container oracle_docker_container postgresql_modules postgresql_users language_ome_prerequisites
lxc_container oracle_realworld oracle_every_module docker_release oracle_lxc_container packages_apt"

python3 - "$work/build.json" "$slow" >"$work/list" <<'PY'
import json, os, sys
slow = sys.argv[2].split()
tests, drover = [], None
for line in open(sys.argv[1]):
    try:
        m = json.loads(line)
    except ValueError:
        continue
    if m.get("reason") != "compiler-artifact" or not m.get("executable"):
        continue
    target = m["target"]
    if target["name"] == "drover" and "bin" in target["kind"] and not m["profile"]["test"]:
        drover = m["executable"]
    if m["profile"]["test"]:
        rank = slow.index(target["name"]) if target["name"] in slow else len(slow)
        label = "%s/%s" % (target["kind"][0], target["name"])
        tests.append((rank, label, os.path.dirname(m["manifest_path"]), m["executable"]))
print("drover\t%s" % (drover or ""))
for rank, label, cwd, exe in sorted(tests, key=lambda t: (t[0], t[1])):
    print("%s\t%s\t%s" % (label, cwd, exe))
PY

# One drover binary for every test process (tests/harness/drover.rs would otherwise run
# `cargo build` once per binary, all at the same time).
drover=$(sed -n 's/^drover\t//p' "$work/list")
[ -n "$drover" ] && export DROVER_BIN="$drover"

# A proc-macro crate's test binary links the toolchain's libstd dynamically; cargo puts its
# directory on the library path for it, and so does this script (for those binaries only: other
# tests run cargo themselves, which must not inherit it).
libdir=$(rustc --print target-libdir)
export libdir

run_one() {
    local label=$1 cwd=$2 exe=$3 start=$SECONDS rc log
    log="$work/$(echo "$label" | tr '/' '_').log"
    if [[ $label == proc-macro/* ]]; then
        (cd "$cwd" && LD_LIBRARY_PATH="$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" "$exe" "${args[@]}") >"$log" 2>&1
    else
        (cd "$cwd" && "$exe" "${args[@]}") >"$log" 2>&1
    fi
    rc=$?
    local summary
    summary=$(grep -E '^test result:' "$log" | tail -n 1)
    if [ $rc -eq 0 ]; then
        echo "==> $label: ok ($((SECONDS - start)) s) ${summary#test result: }"
    else
        echo "==> $label: FAILED (exit $rc, $((SECONDS - start)) s)"
        cat "$log"
        echo "==> end of $label"
        echo "$label" >>"$work/failed"
    fi
}
export -f run_one
export work
export args_file="$work/args"
printf '%s\0' "${args[@]}" >"$args_file"

start=$SECONDS
grep -v '^drover	' "$work/list" | while IFS=$'\t' read -r label cwd exe; do
    [[ $label =~ ${DROVER_TEST_ONLY:-.} ]] || continue
    printf '%s\0%s\0%s\0' "$label" "$cwd" "$exe"
done | xargs -0 -n 3 -P "$jobs" bash -c '
    mapfile -d "" args <"$args_file"
    run_one "$@"' _
echo "==> test binaries: $jobs at a time, all done in $((SECONDS - start)) s"
if [ -s "$work/failed" ]; then
    echo "==> failed binaries: $(tr '\n' ' ' <"$work/failed")"
    exit 1
fi
