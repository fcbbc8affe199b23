"""Registration checks against the model group: one feature schema per group, no exact duplicates;
and `models compare` refusing versions trained on different features."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from portway.cli import main
from portway.registry import open_registry
from portway.registry.schema import SchemaMismatch, schema_differences
from portway.steps.register import register_model

LINEAGE = {"data_sha256": "sha256:abc", "parameters": {"max_depth": 6}, "code_version": "1.0"}


def register(tmp_path, trained, model_dir=None, lineage=None, group="churn", **flags) -> dict:
    return register_model(str(tmp_path / "registry"), group, model_dir or trained["model_dir"],
                          trained["evaluation_path"], "PendingManualApproval", dict(lineage or LINEAGE), **flags)


def other_features(tmp_path: Path, trained) -> str:
    """The trained model's files with another feature schema: a fraud model's features."""
    model_dir = tmp_path / "fraud-model"
    shutil.copytree(trained["model_dir"], model_dir, dirs_exist_ok=True)
    schema = json.loads((model_dir / "feature_schema.json").read_text())
    schema["features"] = [{"name": "amount", "type": "numeric"}, {"name": "merchant", "type": "categorical"},
                          *schema["features"][:2]]
    schema["target"] = "is_fraud"
    (model_dir / "feature_schema.json").write_text(json.dumps(schema))
    return str(model_dir)


def test_another_feature_schema_is_refused_with_the_differences_and_the_way_out(tmp_path, trained):
    assert register(tmp_path, trained)["version"] == 1
    with pytest.raises(SchemaMismatch) as refused:
        register(tmp_path, trained, model_dir=other_features(tmp_path, trained), lineage={**LINEAGE, "data_sha256": "x"})
    message = str(refused.value)
    assert refused.value.exit_code == 2
    assert "model group 'churn'" in message and "compared with churn:1" in message
    assert "new feature(s) amount, merchant" in message and "missing feature(s) " in message
    assert "target 'churned' -> 'is_fraud'" in message and "--model-group" in message and "--new-schema" in message
    assert open_registry(str(tmp_path / "registry")).versions("churn") == [1]

    record = register(tmp_path, trained, model_dir=other_features(tmp_path, trained),
                      lineage={**LINEAGE, "data_sha256": "x"}, new_schema=True)
    assert record["registered"] and record["version"] == 2


def test_an_exact_duplicate_is_skipped_unless_allowed(tmp_path, trained):
    first = register(tmp_path, trained)
    again = register(tmp_path, trained)
    assert again == {"registered": False, "duplicate_of": "churn:1", "group": "churn",
                     "reason": "same data, parameters and code as churn:1 (PendingManualApproval); "
                               "not registered again (--allow-duplicate registers it anyway)"}
    # Other parameters, other data or other code make another model.
    for change in ({"parameters": {"max_depth": 3}}, {"data_sha256": "sha256:def"}, {"code_version": "1.1"}):
        assert register(tmp_path, trained, lineage={**LINEAGE, **change})["registered"], change
    assert register(tmp_path, trained, allow_duplicate=True)["registered"]
    assert open_registry(str(tmp_path / "registry")).versions("churn") == [first["version"], 2, 3, 4, 5]


def test_compare_refuses_versions_of_different_features_unless_told(tmp_path, trained, capsys):
    register(tmp_path, trained)
    register(tmp_path, trained, model_dir=other_features(tmp_path, trained), group="fraud")
    root = str(tmp_path / "registry")
    assert main(["models", "compare", "churn:1", "fraud:1", "--registry", root]) == 2
    err = capsys.readouterr().err
    assert "churn:1 and fraud:1 were trained on different features" in err and "--allow-schema-mismatch" in err
    assert main(["models", "compare", "churn:1", "fraud:1", "--registry", root, "--allow-schema-mismatch"]) == 0
    assert "churn:1" in capsys.readouterr().out


def test_schema_differences_name_types_too():
    a = {"target": "y", "features": [{"name": "age", "type": "numeric"}, {"name": "plan", "type": "categorical"}]}
    b = {"target": "y", "features": [{"name": "age", "type": "categorical"}, {"name": "plan", "type": "categorical"}]}
    assert schema_differences(a, b) == ["other type for age (numeric -> categorical)"]
    assert schema_differences(a, a) == []


def test_integer_settings_come_back_as_integers_after_kfp_metadata():
    """KFP metadata is a protobuf Struct (numbers are doubles): the registry's lineage shows max_depth 6, not 6.0."""
    from portway.steps.train import whole_number_settings

    through_metadata = {"max_depth": 6.0, "eta": 1.0, "num_boost_round": 300.0, "seed": 42.0, "subsample": 0.9,
                        "objective": "binary:logistic"}
    restored = whole_number_settings(through_metadata)
    assert restored == {"max_depth": 6, "eta": 1.0, "num_boost_round": 300, "seed": 42, "subsample": 0.9,
                        "objective": "binary:logistic"}
    assert type(restored["max_depth"]) is int and type(restored["eta"]) is float
