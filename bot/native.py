"""Which build of the digests core runs: the mypyc-compiled one, or its sources.

`make native` compiles the hot digests modules in place (setup.py). Python prefers an
extension module to a source file of the same name, so after an edit a compiled module
would go on running the code from before it. The build records a hash of each source it
compiled (digests/native-build.json); when any source differs from its record, or there
is no record, every module of the group is imported from its source instead (they call
each other natively, so mixing builds would also run old code), and a warning says so.
``DIGESTBOT_PURE=1`` runs the sources without a warning (to compare the two builds).
"""

from __future__ import annotations

import hashlib
import importlib.abc
import importlib.machinery
import importlib.util
import json
import os
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

PACKAGE = "digests"
GROUP = "native__mypyc"  # the library that holds the group's code (setup.py's group name)
RECORD = "native-build.json"  # module -> sha256 of the source it was compiled from


class StaleBuildWarning(UserWarning):
    """The compiled digests modules are older than their sources."""


class _SourcesFirst(importlib.abc.MetaPathFinder):
    def __init__(self, folder: Path, names: frozenset[str]) -> None:
        self.folder = folder
        self.names = names

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        package, _, name = fullname.partition(".")
        if package != PACKAGE or name not in self.names:
            return None
        return importlib.util.spec_from_file_location(fullname, self.folder / f"{name}.py")


def _compiled(folder: Path) -> dict[str, Path]:
    """Module name → its extension file, for the modules that also have a source."""
    found: dict[str, Path] = {}
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        for lib in folder.glob(f"*{suffix}"):
            name = lib.name[: -len(suffix)]
            if name == GROUP or (folder / f"{name}.py").exists():
                found.setdefault(name, lib)
    return found


def choose_build() -> str:
    """Install the source-first finder if the build is stale; say which build runs."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or spec.origin is None:
        return "sources"
    folder = Path(spec.origin).parent
    libs = _compiled(folder)
    group = libs.pop(GROUP, None)
    if group is None or not libs:
        return "sources"
    try:
        record = json.loads((folder / RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        record = {}
    changed = sorted(
        n
        for n in libs
        if record.get(n) != hashlib.sha256((folder / f"{n}.py").read_bytes()).hexdigest()
    )
    pure = os.environ.get("DIGESTBOT_PURE") == "1"
    if not changed and not pure:
        return "compiled"
    names = ", ".join(f"{n}.py" for n in changed)
    if any(f"{PACKAGE}.{n}" in sys.modules for n in libs):
        # Too late to choose: the core was imported before the shell.
        if changed:
            warnings.warn(
                f"{names} changed after `make native` compiled the digests core, which was "
                "imported before bot: running the old build (run `make native`)",
                StaleBuildWarning,
                stacklevel=2,
            )
        return "compiled"
    sys.meta_path.insert(0, _SourcesFirst(folder, frozenset(libs)))
    if not changed:
        return "sources (DIGESTBOT_PURE=1)"
    warnings.warn(
        f"{names} changed after `make native` compiled the digests core; running its "
        "sources (run `make native` to compile it again)",
        StaleBuildWarning,
        stacklevel=2,
    )
    return "sources (compiled build is stale)"


BUILD = choose_build()

__all__ = ["BUILD", "StaleBuildWarning", "choose_build"]
