"""Artifact folders no version record points at: removal after a failed registration, and `models gc`.

A registration uploads its files under a fresh `groups/<group>/artifacts/<id>/` before it
writes the version record (the commit point). When the record cannot be written (the store
kept failing), `register` removes what it uploaded, best effort; what that could not remove
(the store was down, the process was killed) is found later by `find_unreferenced`.

A folder counts as unreferenced only when every version record of its group could be read
(a corrupt record might be the one pointing at it) and its newest file is older than
`min_age_seconds`, so an upload in progress, whose record is not written yet, is never taken.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import asdict, dataclass

from portway.objectstore import ObjectStore

# A registration uploads, then writes its record within seconds; an hour leaves a wide margin.
DEFAULT_MIN_AGE_SECONDS = 3600


@dataclass
class Orphan:
    group: str
    artifact_id: str
    uri: str
    files: list[str]
    bytes: int | None
    age_seconds: float

    def to_json(self) -> dict:
        return asdict(self)


def remove_uploaded(store: ObjectStore, keys: list[str]) -> list[str]:
    """Delete `keys`, best effort; returns the keys that could not be deleted."""
    left = []
    for key in keys:
        try:
            store.delete(key)
        except Exception:  # the store is failing (that is why we clean up): gc finds the rest later
            left.append(key)
    return left


def find_unreferenced(registry, min_age_seconds: float = DEFAULT_MIN_AGE_SECONDS,
                      now: float | None = None) -> tuple[list[Orphan], list[str]]:
    """(unreferenced artifact folders, one message per group that was not examined)."""
    now = time.time() if now is None else now
    orphans, skipped = [], []
    for group in registry.groups():
        records, problems = registry.records(group)
        if problems:
            skipped.append(f"group {group!r} skipped: {len(problems)} version record(s) cannot be read, so any "
                           f"folder might be theirs ({problems[0]})")
            continue
        referenced = {r["artifact_uri"].rstrip("/").rsplit("/", 1)[-1] for r in records if r.get("artifact_uri")}
        folders: dict[str, dict[str, float]] = {}
        prefix = f"groups/{group}/artifacts/"
        for key, modified in registry.store.list_modified(prefix).items():
            artifact_id, _, name = key[len(prefix):].partition("/")
            if name:
                folders.setdefault(artifact_id, {})[name] = modified
        for artifact_id, files in sorted(folders.items()):
            age = now - max(files.values())
            if artifact_id in referenced or age < min_age_seconds:
                continue
            folder = registry.artifact_prefix(group, artifact_id)
            orphans.append(Orphan(group=group, artifact_id=artifact_id, uri=registry.store.uri(folder) + "/",
                                  files=sorted(files), bytes=_size(registry.store, folder, files), age_seconds=age))
    return orphans, skipped


def _size(store: ObjectStore, folder: str, files: dict) -> int | None:
    root = getattr(store, "root", None)
    if root is None:
        return None  # S3: a HEAD per file is not worth it for a listing
    total = 0
    for name in files:
        with contextlib.suppress(OSError):
            total += (root / folder / name).stat().st_size
    return total


def delete_orphans(registry, orphans: list[Orphan]) -> list[str]:
    """Delete each folder's files; returns the keys that could not be deleted."""
    left = []
    for orphan in orphans:
        folder = registry.artifact_prefix(orphan.group, orphan.artifact_id)
        left += remove_uploaded(registry.store, [f"{folder}/{name}" for name in orphan.files])
    return left
