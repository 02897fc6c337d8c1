#!/bin/bash
# drover's test command — what CI runs (`.ci/run`) and what the README documents:
#
#     bash tests/run.sh
#
# Run as root on Debian 12. It installs the OS prerequisites and prepares the real-host test harness
# (tests/harness/setup.sh: bridge drvbr0, cached Debian base rootfs), then runs
#   cargo fmt --all --check
#   cargo test --workspace --all-targets --no-fail-fast   (its binaries run 3 at a time by
#                                                          tests/run-test-binaries.sh; DROVER_TEST_JOBS)
#   cargo clippy --workspace --all-targets -- -D warnings
#   RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps
# and finally checks that no test host was leaked. Every step runs; the exit status is non-zero if any
# step failed, with a summary at the end.
#
#     DROVER_TEST_FRESH=1 bash tests/run.sh
#
# runs the same steps as on a machine the harness has never seen: every harness cache is ignored (a
# new throwaway DROVER_TEST_CACHE and DROVER_TEST_STATE: the base rootfs is built from nothing with
# mmdebstrap, a new harness key, a new oracle venv, new hosts), and all of it is removed at the end.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [ "$(id -u)" != 0 ]; then
    echo "tests/run.sh must run as root: the integration tests start real Debian hosts in LXC containers" >&2
    exit 1
fi
for tool in cargo rustc; do
    command -v "$tool" >/dev/null || { echo "tests/run.sh: $tool not found (install a Rust toolchain)" >&2; exit 1; }
done
for component in fmt clippy; do
    cargo "$component" --version >/dev/null 2>&1 ||
        { echo "tests/run.sh: cargo $component missing (rustup component add ${component/fmt/rustfmt})" >&2; exit 1; }
done

failed=()
step() {
    local name=$1 start=$SECONDS
    shift
    echo "==> $name: $*"
    if "$@"; then
        echo "==> $name: ok ($((SECONDS - start)) s)"
    else
        echo "==> $name: FAILED ($((SECONDS - start)) s)"
        failed+=("$name")
    fi
}

if [ "${DROVER_TEST_FRESH:-}" = 1 ]; then
    fresh=$(mktemp -d /var/tmp/drover-test-fresh.XXXXXX)
    export DROVER_TEST_CACHE="$fresh/cache" DROVER_TEST_STATE="$fresh/state"
    trap 'bash tests/harness/remove-state.sh; rmdir "$fresh"' EXIT
    echo "==> fresh mode: every harness cache ignored (cache $DROVER_TEST_CACHE, state $DROVER_TEST_STATE)"
fi

# Prerequisites and harness setup must work for anything else to be meaningful.
step setup bash tests/harness/setup.sh
if [ ${#failed[@]} -gt 0 ]; then
    echo "==> test harness setup failed; not running the tests" >&2
    exit 1
fi

step fmt cargo fmt --all --check
step test bash tests/run-test-binaries.sh
step clippy cargo clippy --workspace --all-targets -- -D warnings
step doc env RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps
step leaks bash tests/harness/cleanup.sh

if [ ${#failed[@]} -gt 0 ]; then
    echo "==> FAILED: ${failed[*]}"
    exit 1
fi
echo "==> all steps passed"
