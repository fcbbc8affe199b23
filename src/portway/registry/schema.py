"""A model group holds one feature schema: the names and types of the features its versions read.

A version trained on other features (another dataset sent to the same group by mistake)
cannot replace or be compared with the group's versions: `register` refuses it unless told the
schema changes on purpose (`--new-schema`), and `models compare` refuses such a pair unless
told (`--allow-schema-mismatch`). The group's schema is that of its newest version.
"""

from __future__ import annotations

from portway.errors import RegistryError

FEATURE_SCHEMA_FILE = "feature_schema.json"  # written by portway.steps.train


class SchemaMismatch(RegistryError):
    """The feature schema differs from the model group's."""


def feature_types(feature_schema: dict | None) -> dict[str, str]:
    """{feature name: type} of a feature_schema.json (its `features`, in order)."""
    return {f["name"]: f.get("type", "?") for f in (feature_schema or {}).get("features", [])}


def schema_differences(theirs: dict | None, ours: dict | None) -> list[str]:
    """What differs between two feature schemas, in words; empty when names and types agree."""
    a, b = feature_types(theirs), feature_types(ours)
    differences = []
    missing = [n for n in a if n not in b]
    added = [n for n in b if n not in a]
    retyped = [f"{n} ({a[n]} -> {b[n]})" for n in a if n in b and a[n] != b[n]]
    if missing:
        differences.append(f"missing feature(s) {_names(missing)}")
    if added:
        differences.append(f"new feature(s) {_names(added)}")
    if retyped:
        differences.append(f"other type for {_names(retyped)}")
    if (theirs or {}).get("target") != (ours or {}).get("target"):
        differences.append(f"target {(theirs or {}).get('target')!r} -> {(ours or {}).get('target')!r}")
    return differences


def _names(names: list[str], limit: int = 8) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def group_schema(registry, group: str) -> tuple[str, dict] | None:
    """("group:version", feature schema) of the group's newest version that has one, or None."""
    records, _ = registry.records(group)
    for record in reversed(records):
        schema = registry.read_artifact_json(record, FEATURE_SCHEMA_FILE)
        if schema is not None:
            return f"{group}:{record['version']}", schema
    return None


def check_group_schema(registry, group: str, feature_schema: dict) -> None:
    """Refuse a version whose feature schema differs from the group's (SchemaMismatch, exit 2)."""
    found = group_schema(registry, group)
    if found is None:
        return
    reference, theirs = found
    differences = schema_differences(theirs, feature_schema)
    if differences:
        raise SchemaMismatch(
            f"model group {group!r} holds models of another feature schema than this one (compared with "
            f"{reference}): {'; '.join(differences)}. Register into another group with --model-group NAME "
            "(pipeline parameter model_group; by default the data file's name), or pass --new-schema "
            "(pipeline parameter new_schema=true) if the group's features change on purpose."
        )


def check_comparable(registry, first: dict, second: dict) -> None:
    """Refuse to compare two versions trained on different features (SchemaMismatch, exit 2):
    their metrics come from different data, so "better" would mean nothing."""
    schemas = [registry.read_artifact_json(record, FEATURE_SCHEMA_FILE) for record in (first, second)]
    if None in schemas:
        return  # a version without a schema file (registered by hand): nothing to compare
    differences = schema_differences(*schemas)
    if differences:
        a, b = (f"{r['group']}:{r['version']}" for r in (first, second))
        raise SchemaMismatch(
            f"{a} and {b} were trained on different features ({'; '.join(differences)}), so their metrics "
            "are not comparable; pass --allow-schema-mismatch to compare them anyway."
        )
