"""W1 for pyinfra: the same 50 tasks per host as bench w1.yml, written the pyinfra way.

`command ... creates=` has no direct pyinfra argument: the idiom is to check the File fact and only
add the shell operation when the file is missing (one fact round trip, as Ansible's stat).
"""

from io import StringIO

from pyinfra import host
from pyinfra.facts.files import File
from pyinfra.operations import files, server

DIRS = [f"{i:02d}" for i in range(1, 11)]

for i in DIRS:
    files.directory(name=f"dir {i}", path=f"/root/w1/d{i}", mode="755")
for i in DIRS:
    files.put(
        name=f"copy {i}",
        src=StringIO(f"content of file {i}\n"),
        dest=f"/root/w1/d{i}/copy.txt",
        mode="644",
    )
for i in DIRS:
    files.template(
        name=f"template {i}",
        src="w1.j2",
        dest=f"/root/w1/d{i}/tmpl.txt",
        mode="644",
        n=int(i),
        total=10,
    )
for i in DIRS:
    files.file(name=f"touch {i}", path=f"/root/w1/d{i}/touched", mode="600")
for i in DIRS:
    made = f"/root/w1/d{i}/made"
    if not host.get_fact(File, path=made):
        server.shell(name=f"command {i}", commands=[f"touch {made}"])
