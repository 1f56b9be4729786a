"""A per-user cache of converted models, so that a model shipped in a slow format is converted once.

The cache lives in `$FORECAST_MODEL_CACHE` when that is set, else in
`$XDG_CACHE_HOME/forecast-dashboard/models`, else in `~/.cache/forecast-dashboard/models`. Deleting
the folder (or one entry in it) is always safe: what is missing is converted again on the next read.

An entry is a folder `<root>/<model>/<version>-<digest>-v<layout>`: the version of the package that
ships the model and the start of the SHA-256 of the file it was converted from, so a new package or
a changed file gets an entry of its own, never a stale one. It holds whatever the converter wrote
and, last, `manifest.json`: the key in full and each file's size and SHA-256.

Writes are atomic: the files go into a hidden temporary folder beside the entry's place, which is
renamed into place only once the manifest is written, so a reader never sees half an entry. An entry
is read only after it is verified (its key, its files, their sizes and hashes); one that fails is
removed (`discard`) and the caller converts again. Hashing costs about 0.1 s per 100 MB; a verified
entry is not hashed again in the same process while its files are unchanged.

Plain Python: nothing here imports torch or transformers.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ENVIRONMENT = "FORECAST_MODEL_CACHE"
LAYOUT = 1  # raised when what an entry holds changes: older entries are then never read
MANIFEST = "manifest.json"
_PARTIAL = ".partial"  # the suffix of a folder being written
_REMOVED = ".removed"  # and of one being deleted
_STALE_S = 3600  # a temporary folder untouched this long was left by a process that died
_log = logging.getLogger(__name__)

# Entries verified in this process, with the (size, mtime, inode) of each file then.
_verified: dict[Path, dict[str, tuple[int, int, int]]] = {}


def cache_root() -> Path:
    """Where converted models are kept (the folder need not exist yet)."""
    chosen = os.environ.get(ENVIRONMENT)
    if chosen:
        return Path(chosen).expanduser()
    base = os.environ.get("XDG_CACHE_HOME", "")
    # The XDG specification ignores a relative path; Path.home raises when there is no home at all.
    home_cache = Path(base) if os.path.isabs(base) else Path.home() / ".cache"
    return home_cache / "forecast-dashboard" / "models"


def file_sha256(path: Path) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


@dataclass(frozen=True)
class EntryKey:
    """What a converted copy is valid for: a model, the version of the package that ships it and the
    SHA-256 of the file it was converted from."""

    model: str
    version: str
    digest: str

    def folder(self, root: Path) -> Path:
        return root / self.model / f"{self.version}-{self.digest[:16]}-v{LAYOUT}"

    def fields(self) -> dict:
        return {"layout": LAYOUT, "model": self.model, "version": self.version, "source_sha256": self.digest}


def _signature(path: Path) -> tuple[int, int, int]:
    status = path.stat()
    return status.st_size, status.st_mtime_ns, status.st_ino


def _problem(folder: Path, key: EntryKey) -> str | None:
    """Why the entry in `folder` may not be read, or None when it is whole and belongs to `key`."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return "it has no manifest"
    except (OSError, ValueError) as error:
        return f"its manifest cannot be read ({error})"
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), dict):
        return "its manifest is malformed"
    if any(manifest.get(name) != value for name, value in key.fields().items()):
        return "its manifest belongs to another model, version or source file"
    files = manifest["files"]
    if not files:
        return "its manifest lists no files"
    try:
        present = {entry.name for entry in folder.iterdir()} - {MANIFEST}
    except OSError as error:
        return f"its folder cannot be listed ({error})"
    if present != set(files):
        return f"its files differ from its manifest's ({', '.join(sorted(present ^ set(files)))})"
    signatures = {}
    for name, recorded in files.items():
        path = folder / name
        try:
            signatures[name] = _signature(path)
            if not isinstance(recorded, dict) or signatures[name][0] != recorded.get("size"):
                return f"{name} is not the size its manifest records"
            if _verified.get(folder, {}).get(name) != signatures[name] and file_sha256(path) != recorded.get(
                "sha256"
            ):
                return f"{name} does not match its manifest's SHA-256"
        except OSError as error:
            return f"{name} cannot be read ({error})"
    _verified[folder] = signatures
    return None


def find_entry(key: EntryKey, root: Path | None = None) -> Path | None:
    """The entry's folder when it exists and is verified, else None; an entry that fails is said
    (through `logging`) and left for `commit` to replace."""
    folder = key.folder(cache_root() if root is None else root)
    if not folder.is_dir():
        return None
    problem = _problem(folder, key)
    if problem is not None:
        _log.warning(
            "Not reading the cached %s in %s: %s. It will be converted again.", key.model, folder, problem
        )
        return None
    return folder


def stage(key: EntryKey, root: Path | None = None) -> Path:
    """A new empty temporary folder, beside the entry's place, to write the entry's files into.

    Raises OSError when the cache cannot be written (or PermissionError, a kind of OSError): the caller
    then goes on without the cache.
    """
    place = key.folder(cache_root() if root is None else root)
    place.parent.mkdir(parents=True, exist_ok=True)
    _sweep(place.parent)
    return Path(tempfile.mkdtemp(prefix=f".{place.name}.", suffix=_PARTIAL, dir=place.parent))


def commit(staging: Path, key: EntryKey, root: Path | None = None, about: dict | None = None) -> Path:
    """Write the manifest of the files in `staging` (a folder from `stage`), then rename the folder into
    the entry's place; the entry's folder. `about` goes into the manifest for people reading it.

    When another process put a verified entry there first, that one stays and `staging` is removed;
    a damaged entry in the way is removed first. Raises OSError when the manifest cannot be written or
    the folder cannot be renamed (`staging` is then left for the caller to `abandon`).
    """
    place = key.folder(cache_root() if root is None else root)
    files, signatures = {}, {}
    for path in sorted(staging.rglob("*")):
        if path.is_dir():
            raise OSError(f"an entry holds files only, not folders: {path.name}")
        signatures[path.name] = _signature(path)
        files[path.name] = {"size": signatures[path.name][0], "sha256": file_sha256(path)}
    manifest = key.fields() | {"files": files} | ({"about": about} if about else {})
    (staging / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    if place.exists() and _problem(place, key) is not None:
        discard(place)
    try:
        os.rename(staging, place)
    except OSError:
        if _problem(place, key) is None:  # another process finished the same entry first
            abandon(staging)
            return place
        raise
    _verified[place] = signatures  # just hashed; a rename keeps each file's inode and time
    return place


def _sweep(parent: Path) -> None:
    """Remove the temporary folders that processes which died while writing or removing left behind."""
    for path in parent.glob(".*"):
        try:
            if path.name.endswith((_PARTIAL, _REMOVED)) and time.time() - path.stat().st_mtime > _STALE_S:
                shutil.rmtree(path, ignore_errors=True)
        except OSError:
            continue


def abandon(staging: Path) -> None:
    """Remove a temporary folder from `stage` (nothing happens when it was committed)."""
    shutil.rmtree(staging, ignore_errors=True)


def discard(folder: Path) -> None:
    """Remove an entry: first renamed aside (so no reader meets it half-deleted), then deleted."""
    _verified.pop(folder, None)
    aside = folder.with_name(f".{folder.name}.{os.getpid()}{_REMOVED}")
    try:
        os.rename(folder, aside)
    except OSError:
        aside = folder
    shutil.rmtree(aside, ignore_errors=True)
