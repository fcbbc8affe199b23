"""Champion/challenger: score the newest Approved version on the candidate's test split.

The champion is never judged by the numbers it earned on its own, older test split: its
model is loaded and scored on the same rows as the candidate, so the relative gate rule
(`auc>=champion+0.005`) compares like with like.

Which champion a run uses is a pipeline parameter, `champion`:
    "group:version"  exactly that version (the local runner resolves it before the run, so that
                     approving a new version changes evaluate's cache key);
    "none"           no comparison;
    "auto"           resolve the newest Approved version when evaluate runs (compiled pipelines
                     on a cluster; no cache guarantee there, see pipelines/continuous_training.py).

If an approved champion exists but cannot be scored (its files are missing or corrupt, its
features or classes do not fit the candidate's data, it is no longer Approved), the error is
recorded and every relative rule fails: the gate fails closed, the run does not crash.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from portway.errors import ParameterError, PortwayError, RegistryError

AUTO = "auto"
NONE = "none"


class ChampionError(RegistryError):
    """The champion exists but cannot be scored on the candidate's test split."""


@dataclass
class ChampionScore:
    """The champion's figures on the candidate's test split, or why there are none."""

    reference: str  # "group:version", or the `champion` parameter when it never resolved
    version: int | None = None
    metrics: dict = field(default_factory=dict)
    confusion_matrix: list = field(default_factory=list)
    curves: dict = field(default_factory=dict)
    error: str = ""

    def summary(self) -> dict:
        """What the gate decision and the registry's lineage keep (no curves: they stay small).
        The version travels inside `reference`: KFP metadata is a protobuf Struct, where a bare
        integer would come back as a float (1.0)."""
        return {"reference": self.reference, "metrics": self.metrics, "error": self.error}


def parse_champion(value: str, model_group: str) -> tuple[str, int | None]:
    """Check the `champion` parameter: (mode, version) with mode in auto, none, version."""
    value = (value or AUTO).strip()
    if value in (AUTO, NONE):
        return value, None
    group, _, version = value.partition(":")
    if group != model_group or not version.isdigit() or int(version) < 1:
        raise ParameterError(
            f"champion {value!r} is not understood; expected 'auto', 'none' or "
            f"'{model_group}:VERSION' (a version of the model group being trained)."
        )
    return "version", int(version)


def current_champion(registry_root: str, model_group: str) -> str:
    """'group:version' of the newest Approved version of `model_group`, or 'none'."""
    from portway.registry import open_registry

    record = open_registry(registry_root).newest_approved(model_group)
    return f"{model_group}:{record['version']}" if record else NONE


def find_champion(registry_root: str, model_group: str, champion: str) -> dict | None:
    """The champion's version record, or None when there is none (or `champion` is 'none')."""
    from portway.registry import APPROVED, open_registry

    mode, version = parse_champion(champion, model_group)
    if mode == NONE:
        return None
    registry = open_registry(registry_root)
    if mode == AUTO:
        return registry.newest_approved(model_group)
    record = registry.get(model_group, version)
    if record.get("approval_status") != APPROVED:
        raise ChampionError(
            f"champion {model_group}:{version} was chosen when the run started but is now "
            f"{record.get('approval_status')}, not Approved; rerun to compare against the current champion."
        )
    return record


def download_champion(registry, record: dict, into: str | Path) -> Path:
    """Copy the champion's model.json and feature_schema.json from the registry into `into`."""
    from portway.steps.train import FEATURE_SCHEMA_FILE, MODEL_FILE

    into = Path(into)
    for name in (MODEL_FILE, FEATURE_SCHEMA_FILE):
        registry.store.download_file(registry.artifact_key(record, name), into / name)
    return into


def champion_features(champion_schema: dict, candidate_schema: dict, X, reference: str):
    """The candidate's test matrix X rearranged into the champion's columns and category codes.

    Columns are matched by name (a candidate may add features the champion never used);
    category codes are translated by category name, since each run numbers categories in
    the order it met them. A category the champion never saw becomes missing."""
    import numpy as np

    if list(champion_schema.get("classes", [])) != list(candidate_schema["classes"]):
        raise ChampionError(
            f"champion {reference} predicts classes {champion_schema.get('classes')} but the candidate's test "
            f"split has {candidate_schema['classes']}; they cannot be compared on the same rows."
        )
    candidate = {f["name"]: (j, f) for j, f in enumerate(candidate_schema["features"])}
    needed = champion_schema.get("features", [])
    missing = [f["name"] for f in needed if f["name"] not in candidate]
    if missing:
        raise ChampionError(
            f"champion {reference} needs feature(s) {', '.join(missing[:10])} that the candidate's test split "
            "lacks; it cannot be scored on the candidate's data."
        )
    columns = []
    for feature in needed:
        j, theirs = candidate[feature["name"]]
        if feature["type"] != theirs["type"]:
            raise ChampionError(
                f"champion {reference} reads feature {feature['name']!r} as {feature['type']} but the candidate's "
                f"data has it as {theirs['type']}."
            )
        column = X[:, j]
        if feature["type"] == "categorical":
            champion_code = {name: code for code, name in enumerate(feature.get("categories", []))}
            lookup = np.array([champion_code.get(name, np.nan) for name in theirs.get("categories", [])] or [np.nan],
                              dtype=np.float32)
            valid = ~np.isnan(column)
            translated = np.full(column.shape, np.nan, dtype=np.float32)
            translated[valid] = lookup[column[valid].astype(np.int64)]
            column = translated
        columns.append(column)
    return np.column_stack(columns).astype(np.float32) if columns else X[:, :0]


def score_champion(registry, record: dict, candidate_schema: dict, X, y) -> ChampionScore:
    """Load the champion (JSON only, never pickle) and score it on the candidate's (X, y)."""
    from xgboost.core import XGBoostError

    from portway.fileio import read_json
    from portway.steps.evaluate import score
    from portway.steps.train import FEATURE_SCHEMA_FILE, load_booster

    reference = f"{record['group']}:{record['version']}"
    with tempfile.TemporaryDirectory(prefix="portway-champion-") as tmp:
        try:
            download_champion(registry, record, tmp)
            schema = read_json(Path(tmp) / FEATURE_SCHEMA_FILE)
            booster = load_booster(tmp)
            matrix = champion_features(schema, candidate_schema, X, reference)
            scored = score(booster, matrix, y, candidate_schema["classes"])
        except PortwayError as exc:
            return ChampionScore(reference, record["version"], error=f"champion {reference} cannot be scored: {exc}")
        except (OSError, ValueError, KeyError, XGBoostError) as exc:  # a corrupt file: fail closed, say what
            detail = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
            return ChampionScore(reference, record["version"],
                                 error=f"champion {reference} cannot be scored: {type(exc).__name__}: {detail}")
    return ChampionScore(reference, record["version"], scored["metrics"], scored["confusion_matrix"], scored["curves"])


def evaluate_against_champion(
    model_dir: str,
    test_path: str,
    profile_path: str,
    evaluation_path: str,
    report_path: str,
    rules: list,
    registry_root: str,
    model_group: str,
    champion: str = AUTO,
) -> dict:
    """The evaluate step: score the candidate (evaluation.json), score the champion on the same
    test split, decide the gate and write the HTML report. Returns what the component publishes."""
    from portway.fileio import read_json
    from portway.registry import open_registry
    from portway.report import build_report
    from portway.steps.evaluate import evaluate_model
    from portway.steps.gate import decide
    from portway.steps.splits import load_split
    from portway.steps.train import FEATURE_SCHEMA_FILE

    result = evaluate_model(model_dir, test_path, evaluation_path)
    record, scored = None, None
    try:
        record = find_champion(registry_root, model_group, champion)
    except ParameterError:
        raise
    except PortwayError as exc:  # the registry is unreachable or the chosen version changed: fail closed
        reference = champion if champion not in (AUTO, NONE) else f"{model_group}:approved"
        scored = ChampionScore(reference, error=f"champion {reference} cannot be scored: {exc}")
    if record is not None:
        candidate_schema = read_json(Path(model_dir) / FEATURE_SCHEMA_FILE)
        X, y = load_split(test_path, candidate_schema)
        scored = score_champion(open_registry(registry_root), record, candidate_schema, X, y)

    decision = decide(rules, result["metrics"], scored.metrics if scored and not scored.error else None,
                      champion_error=scored.error if scored else "")
    decision["champion"] = scored.summary() if scored else None
    profile = read_json(profile_path)
    build_report(report_path, model_group=model_group, candidate=result, champion=scored, decision=decision,
                 profile=profile)
    return {**result, "decision": decision, "champion": scored}

