#!/bin/bash
# Ensures a throwaway venv with ansible-core (the test oracle) exists in the harness cache and prints
# the path of its ansible-playbook. ansible-core is never a runtime dependency of drover: it is only
# used by differential tests that compare drover's results with Ansible's on identical fresh hosts.
set -euo pipefail
CACHE_DIR=${DROVER_TEST_CACHE:-/var/cache/drover-test}
VERSION=${DROVER_ORACLE_ANSIBLE_CORE:-2.19.14}
# `requests` is what community.docker's modules need to reach the engine (the docker oracle tests).
VENV="$CACHE_DIR/ansible-core-$VERSION-requests"
mkdir -p "$CACHE_DIR"
exec 9>"$CACHE_DIR/oracle.lock"
flock 9
# venvs hard-code their path in scripts: build in place, and mark completion.
if [ ! -e "$VENV/.complete" ]; then
    rm -rf "$VENV"
    python3 -m venv "$VENV" >&2
    "$VENV/bin/pip" install -q --disable-pip-version-check "ansible-core==$VERSION" requests >&2
    touch "$VENV/.complete"
fi
echo "$VENV/bin/ansible-playbook"
