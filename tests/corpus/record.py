"""One shape for a run's result (see index.py), whoever ran it, and the comparison of two."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path


def file_value(data: bytes):
    """Text as text; anything that is not UTF-8 as hex."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return {"hex": data.hex()}


def artifact_files(path: str | Path) -> dict:
    """A file artifact as {".": content}; a directory as {relative path: content} for every file."""
    path = Path(path)
    if path.is_file():
        return {".": file_value(path.read_bytes())}
    if not path.is_dir():
        return {}
    return {str(p.relative_to(path)): file_value(p.read_bytes()) for p in sorted(path.rglob("*")) if p.is_file()}


def canonical(value):
    """JSON-equal values compare equal (1 == 1.0 as KFP's protobuf Struct makes them)."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    if isinstance(value, int | float):
        return value
    if isinstance(value, dict):
        return {str(k): canonical(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [canonical(v) for v in value]
    return value


def _sort_key(execution: dict) -> str:
    return json.dumps(canonical(execution), sort_keys=True, default=str)


def normalized(result: dict) -> dict:
    """Executions of each task in a stable order (loop iterations finish in any order)."""
    return {"status": result["status"],
            "tasks": {name: sorted((canonical(e) for e in executions), key=_sort_key)
                      for name, executions in sorted(result["tasks"].items())}}


def differences(expected, actual, where: str = "") -> list[str]:
    """Every place where `actual` differs from `expected` ({"re": pattern} in expected matches a string)."""
    if isinstance(expected, dict) and set(expected) == {"re"}:
        if isinstance(actual, str) and re.fullmatch(expected["re"], actual, re.S):
            return []
        return [f"{where or '<root>'}: {actual!r} does not match /{expected['re']}/"]
    if isinstance(expected, dict) and isinstance(actual, dict):
        out = []
        for key in sorted(set(expected) | set(actual), key=str):
            here = f"{where}/{key}"
            if key not in actual:
                out.append(f"{here}: missing (expected {_short(expected[key])})")
            elif key not in expected:
                out.append(f"{here}: unexpected {_short(actual[key])}")
            else:
                out.extend(differences(expected[key], actual[key], here))
        return out
    if isinstance(expected, list) and isinstance(actual, list):
        if len(expected) != len(actual):
            return [f"{where}: {len(actual)} items, expected {len(expected)}: {_short(actual)} vs {_short(expected)}"]
        return [d for i, (e, a) in enumerate(zip(expected, actual, strict=True)) for d in differences(e, a, f"{where}[{i}]")]
    if canonical(expected) != canonical(actual) or isinstance(expected, bool) != isinstance(actual, bool):
        return [f"{where or '<root>'}: {_short(actual)} != expected {_short(expected)}"]
    return []


def _short(value) -> str:
    text = json.dumps(value, default=str, ensure_ascii=False)
    return text if len(text) <= 160 else text[:157] + "..."


def fill(value, slots: dict):
    """Replace {workdir}-style slots in argument values (strings only, recursively)."""
    if isinstance(value, str):
        for key, replacement in slots.items():
            value = value.replace("{" + key + "}", replacement)
        return value
    if isinstance(value, dict):
        return {k: fill(v, slots) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v, slots) for v in value]
    return value


def ensure_dir(path: str | Path) -> str:
    os.makedirs(path, exist_ok=True)
    return str(path)
