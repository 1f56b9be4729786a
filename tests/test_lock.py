"""The environment is the lock: `make install` puts exactly requirements.lock's versions in .venv.

requirements.txt names the direct dependencies and their bounds; requirements.lock pins every
package resolved from them. torch stays out of the lock (its pin is one file here, the CPU build,
and another, the CUDA build, elsewhere) and is checked against its pin in requirements.txt; the
libraries only a CUDA build brings are torch's own dependencies. The model wheels of
requirements-models.txt are installed without their dependencies and are not compared.
"""

from __future__ import annotations

import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements.lock"
VENV = ROOT / ".venv"
FIX = "`make install` installs the lock, `make lock` resolves it again after requirements.txt changed"


def _requirements(path: Path) -> list[Requirement]:
    """The requirement lines of a pip requirements file, each line's options and hashes dropped."""
    text = re.sub(r"\\\n", " ", path.read_text())  # a requirement continued over several lines
    lines = (line.split("#")[0].split(" --")[0].strip() for line in text.splitlines())
    return [Requirement(line) for line in lines if line and not line.startswith("-")]


def _locked() -> dict[str, Version]:
    """requirements.lock as {name: version}, for the requirements whose markers hold here."""
    pins = {}
    for req in _requirements(LOCK):
        if req.marker is None or req.marker.evaluate():
            (spec,) = req.specifier
            assert spec.operator == "==", f"{req} in {LOCK.name} is not an exact pin"
            pins[canonicalize_name(req.name)] = Version(spec.version)
    return pins


def _torch_pin() -> Version:
    (torch,) = [r for r in _requirements(ROOT / "requirements.txt") if r.name == "torch"]
    (spec,) = torch.specifier
    return Version(spec.version)


def _frozen() -> dict[str, Version]:
    """`pip freeze --all` of the running interpreter as {name: version}."""
    out = subprocess.run(
        [sys.executable, "-m", "pip", "freeze", "--all", "--disable-pip-version-check"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    installed = {}
    for line in out.splitlines():
        name = re.split(r"==| @ ", line)[0].strip()
        if name and not line.startswith(("-e ", "#")):
            installed[canonicalize_name(name)] = Version(metadata.version(name))
    return installed


def _dependencies(name: str, installed: dict[str, Version]) -> set[str]:
    """The installed packages `name` depends on, directly or not, by its installed metadata."""
    found: set[str] = set()
    todo = [name]
    while todo:
        for line in metadata.requires(todo.pop()) or []:
            req = Requirement(line)
            dependency = canonicalize_name(req.name)
            if dependency in installed and dependency not in found:
                if req.marker is None or req.marker.evaluate({"extra": ""}):
                    found.add(dependency)
                    todo.append(dependency)
    return found


def test_the_lock_pins_every_direct_dependency_within_its_bounds():
    locked = _locked()
    outside = []
    for req in _requirements(ROOT / "requirements.txt"):
        name = canonicalize_name(req.name)
        if name == "torch":
            assert name not in locked, "torch is installed by its pin, not from the hashed lock"
        elif name not in locked or locked[name] not in req.specifier:
            outside.append(f"{req}: locked {locked.get(name, 'nowhere')}")
    assert not outside, f"requirements.lock is older than requirements.txt ({FIX}): {outside}"


def test_the_venv_holds_exactly_the_locked_versions():
    if not VENV.is_dir():
        pytest.skip("there is no .venv to compare with the lock")
    if Path(sys.prefix).resolve() != VENV.resolve():
        pytest.skip(f"the tests run in {sys.prefix}, not in .venv")
    locked = _locked()
    installed = _frozen()
    models = {canonicalize_name(r.name) for r in _requirements(ROOT / "requirements-models.txt")}
    torch = installed.get("torch")
    assert torch is not None and torch.public == _torch_pin().public, (
        f"torch {torch} is installed, requirements.txt pins {_torch_pin()}"
    )
    # pip comes with the venv; a CUDA build of torch brings its own libraries.
    unlocked = {"pip", "torch"} | models | (_dependencies("torch", installed) - set(locked))
    wrong = [
        f"{n} {installed[n]} (locked {v})" for n, v in locked.items() if n in installed and installed[n] != v
    ]
    missing = [f"{n} {v}" for n, v in locked.items() if n not in installed]
    extra = [f"{n} {v}" for n, v in installed.items() if n not in locked and n not in unlocked]
    assert not (wrong or missing or extra), (
        f".venv is not the lock ({FIX}; uninstall what the lock does not name): "
        f"other versions {wrong}, missing {missing}, not in the lock {extra}"
    )
