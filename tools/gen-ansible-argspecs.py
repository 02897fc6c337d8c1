#!/usr/bin/env python3
"""Generates modules/tests/data/ansible_argspecs.json (test data for modules/tests/argspec_parity.rs,
not compiled into drover): the parameter names (aliases included)
that ansible-core accepts for each module drover implements, read from the pinned release's own
sources (see ansible_pkg.py for the versions).

A module's keys are the union of:
  * its argument spec, for modules that build an `AnsibleModule`: the module is imported and its
    `main()` run with `AnsibleModule.__init__` patched to capture `argument_spec` (and
    `add_file_common_args`, which adds ansible-core's FILE_COMMON_ARGUMENTS) and stop. Internal
    options (`_diff_peek`, `_original_basename`, `_uses_shell`) are part of it.
  * its documented options, documentation fragments merged, as ansible-core's `get_docstring`
    reads them (`free_form` is the `_raw_params` key). This is the only source for action-only
    modules (ansible/modules/<name>.py holds only documentation, e.g. `template`, `debug`) and
    adds the options an action plugin handles before the module runs (`service`'s `use`,
    `copy`'s `decrypt`); ansible-core's sanity tests keep the two in step otherwise.
  * DELEGATES: action plugins that run another module with the arguments they are given, so they
    accept that module's keys except those the action refuses (`shell` runs `command` with
    `_uses_shell`, after failing on `expand_argument_vars`: ansible/plugins/action/shell.py).

The modules read are those in DROVER_MODULES (drover's modules, under the name ansible-core
resolves them to); the Rust test `argspec_parity` fails if drover has a module missing here.

Usage: python3 tools/gen-ansible-argspecs.py   (creates a throwaway venv on first use)
"""

import importlib
import io
import json
import os
import sys
import types

import ansible_pkg

ansible_pkg.reexec_in_venv()

OUT = ansible_pkg.REPO / "modules" / "tests" / "data" / "ansible_argspecs.json"

DROVER_MODULES = [
    "ansible.builtin.apt",
    "ansible.builtin.async_status",
    "ansible.builtin.apt_key",
    "ansible.builtin.apt_repository",
    "ansible.builtin.assert",
    "ansible.builtin.blockinfile",
    "ansible.builtin.command",
    "ansible.builtin.copy",
    "ansible.builtin.cron",
    "ansible.builtin.deb822_repository",
    "ansible.builtin.debconf",
    "ansible.builtin.dpkg_selections",
    "ansible.builtin.package_facts",
    "ansible.builtin.service_facts",
    "ansible.builtin.debug",
    "ansible.builtin.dnf",
    "ansible.builtin.fail",
    "ansible.builtin.fetch",
    "ansible.builtin.file",
    "ansible.builtin.find",
    "ansible.builtin.gather_facts",
    "ansible.builtin.get_url",
    "ansible.builtin.getent",
    "ansible.builtin.git",
    "ansible.builtin.group",
    "ansible.builtin.hostname",
    "ansible.builtin.include_vars",
    "ansible.builtin.known_hosts",
    "ansible.builtin.lineinfile",
    "ansible.builtin.package",
    "ansible.builtin.pause",
    "ansible.builtin.ping",
    "ansible.builtin.pip",
    "ansible.builtin.raw",
    "ansible.builtin.reboot",
    "ansible.builtin.replace",
    "ansible.builtin.service",
    "ansible.builtin.set_fact",
    "ansible.builtin.setup",
    "ansible.builtin.shell",
    "ansible.builtin.slurp",
    "ansible.builtin.stat",
    "ansible.builtin.systemd",
    "ansible.builtin.tempfile",
    "ansible.builtin.template",
    "ansible.builtin.unarchive",
    "ansible.builtin.uri",
    "ansible.builtin.user",
    "ansible.builtin.wait_for",
    "ansible.builtin.wait_for_connection",
    "ansible.posix.authorized_key",
    "ansible.posix.synchronize",
    "ansible.posix.sysctl",
    "community.docker.docker_container",
    "community.docker.docker_container_copy_into",
    "community.docker.docker_container_exec",
    "community.docker.docker_container_info",
    "community.docker.docker_image",
    "community.docker.docker_image_info",
    "community.docker.docker_image_pull",
    "community.docker.docker_image_push",
    "community.docker.docker_image_remove",
    "community.docker.docker_image_tag",
    "community.docker.docker_login",
    "community.docker.docker_network",
    "community.docker.docker_network_info",
    "community.docker.docker_prune",
    "community.docker.docker_volume",
    "community.docker.docker_volume_info",
    "community.general.archive",
    "community.general.ini_file",
    "community.general.locale_gen",
    "community.general.lxc_container",
    "community.general.pam_limits",
    "community.general.supervisorctl",
    "community.general.timezone",
    "community.postgresql.postgresql_db",
    "community.postgresql.postgresql_pg_hba",
    "community.postgresql.postgresql_ping",
    "community.postgresql.postgresql_privs",
    "community.postgresql.postgresql_query",
    "community.postgresql.postgresql_set",
    "community.postgresql.postgresql_user",
]

DELEGATES = {"ansible.builtin.shell": ("ansible.builtin.command", {"expand_argument_vars"})}


class Captured(Exception):
    def __init__(self, kwargs):
        super().__init__("captured")
        self.kwargs = kwargs


def setup_imports():
    sys.path.insert(0, str(ansible_pkg.collections_root().parent))
    os.environ["ANSIBLE_COLLECTIONS_PATH"] = str(ansible_pkg.collections_root().parent)
    from ansible.utils.collection_loader._collection_finder import _AnsibleCollectionFinder

    _AnsibleCollectionFinder(paths=[str(ansible_pkg.collections_root().parent)])._install()
    from ansible.module_utils import basic

    def capture(self, *args, **kwargs):
        if args:
            kwargs["argument_spec"] = args[0]
        raise Captured(kwargs)

    basic.AnsibleModule.__init__ = capture


def python_module(fqcn):
    ns, coll, name = fqcn.split(".", 2)
    if (ns, coll) == ("ansible", "builtin"):
        return f"ansible.modules.{name}"
    return f"ansible_collections.{ns}.{coll}.plugins.modules.{name}"


def keys_of_spec(spec):
    keys = set()
    for name, opts in spec.items():
        keys.add(name)
        keys.update((opts or {}).get("aliases") or [])
    return keys


def from_code(fqcn):
    """Keys from the AnsibleModule the module builds, or None if it builds none."""
    from ansible.module_utils.basic import FILE_COMMON_ARGUMENTS

    mod = importlib.import_module(python_module(fqcn))
    if not hasattr(mod, "main"):
        return None
    stdin, sys.stdin = sys.stdin, io.StringIO("{}")
    try:
        mod.main()
    except Captured as c:
        spec = dict(c.kwargs.get("argument_spec") or {})
        if c.kwargs.get("add_file_common_args"):
            spec.update(FILE_COMMON_ARGUMENTS)
        return keys_of_spec(spec)
    except SystemExit:
        return None
    finally:
        sys.stdin = stdin
    return None


def from_docs(fqcn):
    from ansible.plugins.loader import fragment_loader
    from ansible.utils.plugin_docs import get_docstring

    mod = importlib.import_module(python_module(fqcn))
    doc, _, _, _ = get_docstring(mod.__file__, fragment_loader, collection_name=fqcn.rsplit(".", 1)[0])
    keys = keys_of_spec((doc or {}).get("options") or {})
    for free_form in ("free_form", "free-form"):
        if free_form in keys:
            keys.discard(free_form)
            keys.add("_raw_params")
    return keys


def main():
    ansible_pkg.check_versions()
    setup_imports()
    specs = {}
    for fqcn in DROVER_MODULES:
        source, refused = DELEGATES.get(fqcn, (fqcn, set()))
        code, docs = from_code(source), from_docs(source)
        how = "documentation" if code is None else "argument_spec + documentation"
        keys = ((code or set()) | docs) - refused
        if source != fqcn:
            how += f" of {source}"
        specs[fqcn] = (how, sorted(keys))
    data = {
        "generated_by": "tools/gen-ansible-argspecs.py (do not edit; run the script instead)",
        "ansible": ansible_pkg.ANSIBLE_VERSION,
        "ansible_core": ansible_pkg.ANSIBLE_CORE_VERSION,
        "modules": {fqcn: {"read_from": how, "keys": keys} for fqcn, (how, keys) in specs.items()},
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    print(f"{OUT}: {len(specs)} modules", file=sys.stderr)


if __name__ == "__main__":
    main()
