"""Exit 0 when every pinned dependency of pyproject.toml (with the dev extra) is installed at
its pinned version, so `make` does not reinstall a virtualenv that is already complete."""

import re
import sys
import tomllib
from importlib import metadata
from pathlib import Path

project = tomllib.loads(
    Path(__file__).resolve().parent.parent.joinpath("pyproject.toml").read_text()
)["project"]
wanted = project["dependencies"] + project["optional-dependencies"]["dev"]
missing = []
for spec in wanted:
    m = re.match(r"^([A-Za-z0-9_.\-]+)(\[[^\]]*\])?==([^;\s]+)", spec)
    if not m:
        continue
    name, version = m.group(1), m.group(3)
    try:
        installed = metadata.version(name)
    except metadata.PackageNotFoundError:
        missing.append(f"{name} (missing)")
        continue
    if installed != version:
        missing.append(f"{name} {installed} != {version}")
if missing:
    print("to install: " + ", ".join(missing))
    sys.exit(1)
