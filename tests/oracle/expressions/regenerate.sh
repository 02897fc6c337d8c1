#!/bin/bash
# Regenerates the expression differential test's playbook, template files and expected values
# with the pinned ansible-core oracle (tests/oracle/ansible.sh). Never edit the outputs by hand.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
playbook=$(bash "$here/../ansible.sh")
"$(dirname "$playbook")/python" "$here/generate.py" "$playbook"
