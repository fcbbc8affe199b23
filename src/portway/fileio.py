"""Small local-file helpers: atomic JSON writes and content hashes."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path


def write_json_atomic(path: str | os.PathLike, document: object) -> None:
    """Write JSON so that readers see the old file or the whole new one, never a part."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.partial")
    tmp.write_text(json.dumps(document, indent=2))
    os.replace(tmp, path)


def read_json(path: str | os.PathLike) -> dict:
    return json.loads(Path(path).read_text())


def sha256_file(path: str | os.PathLike, chunk_bytes: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(chunk_bytes):
            digest.update(chunk)
    return digest.hexdigest()
