#!/bin/bash
# Ensures the collections community.general, ansible.posix, community.docker and community.postgresql, as the pinned `ansible` community
# package on PyPI ships them, are unpacked in the harness cache, and prints the directory to give
# ansible-core as ANSIBLE_COLLECTIONS_PATH (it holds ansible_collections/<ns>/<name>). Test oracle
# only: the collections are never part of drover and their files are never committed.
set -euo pipefail
CACHE_DIR=${DROVER_TEST_CACHE:-/var/cache/drover-test}
VERSION=${DROVER_ORACLE_ANSIBLE:-12.3.0}
# The suffix names the set of collections kept: a new set unpacks again.
DEST="$CACHE_DIR/ansible-collections-$VERSION-gpdp"
mkdir -p "$CACHE_DIR"
exec 9>"$CACHE_DIR/oracle-collections.lock"
flock 9
if [ ! -e "$DEST/.complete" ]; then
    rm -rf "$DEST" "$DEST.download"
    mkdir -p "$DEST.download"
    # The oracle venv's pip (tests/oracle/ansible.sh) fetches the wheel; nothing is installed.
    PLAYBOOK=$(bash "$(dirname "$0")/ansible.sh")
    "$(dirname "$PLAYBOOK")/pip" download -q --disable-pip-version-check --no-deps \
        --only-binary :all: -d "$DEST.download" "ansible==$VERSION" >&2
    WHEEL=$(ls "$DEST.download"/ansible-"$VERSION"-*.whl)
    mkdir -p "$DEST"
    "$(dirname "$PLAYBOOK")/python" - "$WHEEL" "$DEST" <<'PY'
import sys, zipfile
wheel, dest = sys.argv[1], sys.argv[2]
keep = ("ansible_collections/community/general/", "ansible_collections/ansible/posix/",
        "ansible_collections/community/docker/", "ansible_collections/community/postgresql/")
with zipfile.ZipFile(wheel) as z:
    z.extractall(dest, [n for n in z.namelist() if n.startswith(keep)])
PY
    rm -rf "$DEST.download"
    touch "$DEST/.complete"
fi
echo "$DEST"
