"""withItems / withParam / withSequence expansion, with Argo's child names and `item` values.

Source: argo-workflows workflow/controller/steps.go expandStep/processItem, dag.go expandTask,
docs/walk-through/loops.md. A string, number or bool item is `{{item}}` as printed; a map item
gives `{{item.key}}` per key and `{{item}}` as its JSON; a child is named `name(i:value)`, a map's
value being its sorted `key:value` pairs joined by commas. withParam must be a JSON list
("withParam value could not be parsed as a JSON list"). withSequence: `count` or `start`/`end`
(inclusive, counting down when end < start), `format` as printf.
"""

from __future__ import annotations

import json

from .expressions import to_json


class LoopError(Exception):
    pass


def item_text(value) -> str:
    """wfv1.Item.String(): JSON, without the quotes of a string."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value == int(value) and "e" not in repr(value):
        return repr(value)
    return to_json(value)


def items_of(holder: dict) -> list | None:
    """The loop's items, or None when the task/step has no loop."""
    if "withItems" in holder:
        return list(holder["withItems"] or [])
    if "withParam" in holder:
        raw = holder["withParam"]
        if isinstance(raw, list):
            return raw
        try:
            items = json.loads(raw)
        except (TypeError, ValueError):
            raise LoopError(f"withParam value could not be parsed as a JSON list: {raw}") from None
        if not isinstance(items, list):
            raise LoopError(f"withParam value could not be parsed as a JSON list: {raw}")
        return items
    if "withSequence" in holder:
        return sequence(holder["withSequence"])
    return None


def sequence(spec: dict) -> list[str]:
    fmt = spec.get("format") or "%d"
    if spec.get("count") not in (None, ""):
        if spec.get("end") not in (None, ""):
            raise LoopError("only one of count or end can be defined in withSequence")
        start = int(str(spec.get("start") or 0))
        count = int(str(spec["count"]))
        numbers = list(range(start, start + count))
    elif spec.get("end") not in (None, ""):
        start, end = int(str(spec.get("start") or 0)), int(str(spec["end"]))
        numbers = list(range(start, end + 1)) if end >= start else list(range(start, end - 1, -1))
    else:
        raise LoopError("either count or end must be defined in withSequence")
    return [fmt % n for n in numbers]


def expansions(name: str, items: list) -> list[tuple[str, dict[str, str], dict]]:
    """(child name, simple-tag values, raw expression values) per item."""
    out = []
    for index, item in enumerate(items):
        values: dict[str, str] = {}
        if isinstance(item, dict):
            pairs = []
            for key, val in item.items():
                values[f"item.{key}"] = item_text(val)
                pairs.append(f"{key}:{item_text(val)}")
            values["item"] = to_json(item)
            child = f"{name}({index}:{','.join(sorted(pairs))})"
        elif isinstance(item, (str, int, float, bool)):
            values["item"] = item_text(item)
            child = f"{name}({index}:{item_text(item)})"
        elif isinstance(item, list):
            values["item"] = to_json(item)
            child = f"{name}({index}:{to_json(item)})"
        else:
            raise LoopError(f"withItems[{index}] expected string, number, list, or map. received: {item!r}")
        out.append((child, values, {"item": item}))
    return out
