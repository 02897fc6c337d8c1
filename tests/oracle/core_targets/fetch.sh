#!/bin/bash
# Fetches ansible-core's source distribution (the sdist holds test/integration/targets/) into the
# harness cache and extracts the integration targets named on the command line, plus every support
# role they depend on (their meta/main.yml `dependencies`, recursively). Prints the directory that
# holds the extracted targets (a roles path). Nothing here is committed to the repository: the
# targets are ansible-core's files, read at test time only.
#
# Usage: fetch.sh TARGET...   (e.g. fetch.sh stat copy)
set -euo pipefail
[ $# -gt 0 ] || { echo "usage: $0 TARGET..." >&2; exit 2; }
HERE=$(cd "$(dirname "$0")" && pwd)
CACHE_DIR=${DROVER_TEST_CACHE:-/var/cache/drover-test}
VERSION=${DROVER_ORACLE_ANSIBLE_CORE:-2.19.14}
# The oracle venv has pip and PyYAML (ansible-core's own dependency) to read the roles' metadata.
PLAYBOOK=$(bash "$HERE/../ansible.sh")
PYTHON=$(dirname "$PLAYBOOK")/python3
SDIST_DIR="$CACHE_DIR/ansible-core-$VERSION-sdist"
TARGETS_DIR="$CACHE_DIR/ansible-core-$VERSION-targets"
mkdir -p "$CACHE_DIR"
exec 9>"$CACHE_DIR/core-targets.lock"
flock 9
if [ ! -e "$SDIST_DIR/.complete" ]; then
    rm -rf "$SDIST_DIR"
    "$PYTHON" -m pip download -q --disable-pip-version-check --no-deps --no-binary :all: \
        -d "$SDIST_DIR" "ansible-core==$VERSION" >&2
    touch "$SDIST_DIR/.complete"
fi
# ansible-test installs passlib on the controller for the targets that create a test user
# (their aliases say `setup/always/setup_passlib_controller`: setup_test_user's password_hash).
if ! "$PYTHON" -c 'import passlib' 2>/dev/null; then
    "$PYTHON" -m pip install -q --disable-pip-version-check passlib >&2
fi
ARCHIVE=$(ls "$SDIST_DIR"/ansible_core-"$VERSION".tar.gz)
PREFIX="ansible_core-$VERSION/test/integration/targets"
mkdir -p "$TARGETS_DIR"
# Extract each wanted role (once), then follow its dependencies.
"$PYTHON" - "$ARCHIVE" "$PREFIX" "$TARGETS_DIR" "$@" <<'PY' >&2
import os, sys, tarfile, yaml

archive, prefix, out, *wanted = sys.argv[1:]
with tarfile.open(archive) as tar:
    members = tar.getmembers()
    seen = set()
    while wanted:
        role = wanted.pop()
        if role in seen:
            continue
        seen.add(role)
        done = os.path.join(out, role, ".extracted")
        if not os.path.exists(done):
            picked = [m for m in members if m.name.startswith(f"{prefix}/{role}/")]
            if not picked:
                sys.exit(f"no target {role!r} in {archive}")
            for m in picked:
                m.name = m.name[len(prefix) + 1:]
            tar.extractall(out, members=picked, filter="data")
            open(done, "w").close()
        meta = os.path.join(out, role, "meta", "main.yml")
        if os.path.exists(meta):
            with open(meta) as f:
                data = yaml.safe_load(f) or {}
            for dep in data.get("dependencies") or []:
                wanted.append(dep["role"] if isinstance(dep, dict) else dep)
PY
echo "$TARGETS_DIR"
