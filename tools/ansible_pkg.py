"""The pinned Ansible release the generators in this directory read, fetched from PyPI into a
throwaway directory (never a runtime dependency of drover).

`ensure()` creates, once, under $DROVER_ANSIBLE_PKG_DIR (default /tmp/drover-ansible-pkg-<version>):
  venv/      a virtualenv with ansible-core installed (its modules can be imported there),
  ansible/   the unpacked `ansible` community wheel (ansible_collections/…, not installed).
`reexec_in_venv()` restarts the calling script with that venv's Python.
"""

import os
import subprocess
import sys
import zipfile
from pathlib import Path

# The newest `ansible` 12.x and the ansible-core it requires (the test oracle's version).
ANSIBLE_VERSION = "12.3.0"
ANSIBLE_CORE_VERSION = "2.19.14"

REPO = Path(__file__).resolve().parent.parent


def workdir() -> Path:
    default = f"/tmp/drover-ansible-pkg-{ANSIBLE_VERSION}-{ANSIBLE_CORE_VERSION}"
    return Path(os.environ.get("DROVER_ANSIBLE_PKG_DIR", default))


def venv_python() -> Path:
    return workdir() / "venv" / "bin" / "python"


def _run(*cmd):
    print("+", " ".join(str(c) for c in cmd), file=sys.stderr)
    subprocess.run([str(c) for c in cmd], check=True)


def ensure():
    """Creates the venv and unpacks the community package, unless already done."""
    work = workdir()
    work.mkdir(parents=True, exist_ok=True)
    venv = work / "venv"
    if not (venv / ".complete").exists():
        _run(sys.executable, "-m", "venv", "--clear", venv)
        _run(venv / "bin" / "pip", "install", "-q", "--disable-pip-version-check",
             f"ansible-core=={ANSIBLE_CORE_VERSION}")
        (venv / ".complete").touch()
    pkg = work / "ansible"
    if not (pkg / ".complete").exists():
        dl = work / "download"
        dl.mkdir(exist_ok=True)
        _run(venv / "bin" / "pip", "download", "-q", "--disable-pip-version-check", "--no-deps",
             "--only-binary", ":all:", "-d", dl, f"ansible=={ANSIBLE_VERSION}")
        wheels = list(dl.glob(f"ansible-{ANSIBLE_VERSION}-*.whl"))
        if len(wheels) != 1:
            sys.exit(f"expected one ansible {ANSIBLE_VERSION} wheel in {dl}, found {wheels}")
        with zipfile.ZipFile(wheels[0]) as z:
            z.extractall(pkg)
        (pkg / ".complete").touch()


def reexec_in_venv():
    """Makes sure the package is there, then runs the calling script again inside the venv."""
    if Path(sys.prefix).resolve() == (workdir() / "venv").resolve():
        return
    ensure()
    os.execv(str(venv_python()), [str(venv_python()), sys.argv[0], *sys.argv[1:]])


def core_root() -> Path:
    """The installed ansible-core package directory (…/site-packages/ansible)."""
    import ansible  # only inside the venv

    return Path(ansible.__file__).parent


def collections_root() -> Path:
    return workdir() / "ansible" / "ansible_collections"


def check_versions():
    """Fails unless the unpacked releases are the pinned ones."""
    from ansible.release import __version__ as core

    text = (collections_root() / "ansible_release.py").read_text()
    if core != ANSIBLE_CORE_VERSION or f"'{ANSIBLE_VERSION}'" not in text:
        sys.exit(f"unexpected versions: ansible-core {core}; ansible_release.py: {text!r}")


def rust_str(s: str) -> str:
    """A Rust string literal."""
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'
