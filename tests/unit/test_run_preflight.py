"""What `portway run` checks before any step, from the pipeline itself: its parameter types and
the checks its components declare (never a list of the bundled pipeline's names)."""

# No `from __future__ import annotations`: KFP reads the components' annotations as types.
import portway.components.process as process_module
import pytest
from kfp import dsl
from portway.components.process import process

from portway.embedded.preflight import pipeline_spec, run_component_checks, typed_parameters
from portway.embedded.runner import group_from_data
from portway.errors import InputDataError, ParameterError


@dsl.component(base_image="python:3.11", install_kfp_package=False)
def score(threshold: float, label: str) -> str:
    return f"{label}>={threshold}"


# A user's own component that happens to be called `process`: not the bundled one, never checked as it.
@dsl.component(base_image="python:3.11", install_kfp_package=False)
def process_(data_uri: str) -> str:  # noqa: N802 (named like the bundled one on purpose)
    return data_uri


@dsl.pipeline(name="mixed")
def mixed(data_uri: str, rounds: int = 3, ratio: float = 0.5, flags: list = [1, 2]):  # noqa: B006 (a KFP default)
    score(threshold=ratio, label="auc")
    process(data_uri=data_uri, data_fingerprint="", target="churned", feature_types="{}",
            validation_fraction=ratio, test_fraction=0.15, seed=rounds)


def test_values_are_typed_as_the_pipeline_declares_them():
    spec = pipeline_spec(mixed)
    typed = typed_parameters(spec, {"data_uri": "x.csv", "rounds": "7", "ratio": "0.25", "flags": "[3]"})
    assert typed == {"data_uri": "x.csv", "rounds": 7, "ratio": 0.25, "flags": [3]}
    assert typed_parameters(spec, {"data_uri": "x.csv"})["rounds"] == 3  # the pipeline's own default
    with pytest.raises(ParameterError, match="input parameter rounds is declared NUMBER_INTEGER but got '1.5'"):
        typed_parameters(spec, {"data_uri": "x.csv", "rounds": "1.5"})
    with pytest.raises(ParameterError, match=r"pipeline mixed needs a value for data_uri \(STRING\)"):
        typed_parameters(spec, {})
    with pytest.raises(ParameterError, match="pipeline mixed has no parameter max_depth; it takes: data_uri, flags"):
        typed_parameters(spec, {"data_uri": "x.csv", "max_depth": "3"})


def test_declared_checks_run_with_the_values_known_before_the_run(churn_csv):
    spec = pipeline_spec(mixed)
    assert run_component_checks(mixed, spec, typed_parameters(spec, {"data_uri": str(churn_csv)})) == ["process"]
    with pytest.raises(ParameterError, match="validation_fraction"):
        run_component_checks(mixed, spec, typed_parameters(spec, {"data_uri": str(churn_csv), "ratio": "1.5"}))
    with pytest.raises(InputDataError, match="does not exist"):
        run_component_checks(mixed, spec, typed_parameters(spec, {"data_uri": "/nonexistent/x.csv"}))


def test_a_component_named_like_a_bundled_one_is_not_checked_as_it():
    @dsl.pipeline(name="lookalike")
    def lookalike(data_uri: str):
        process_(data_uri=data_uri)

    spec = pipeline_spec(lookalike)
    assert run_component_checks(lookalike, spec, {"data_uri": "/nonexistent/x.csv"}) == []


@pytest.mark.parametrize("uri, group", [
    ("/data/churn.csv", "churn"), ("s3://bucket/in/fraud.2024.parquet", "fraud"), ("/d/My Data (v2).csv", "My-Data-v2"),
])
def test_the_default_model_group_is_the_data_file_name(uri, group):
    assert group_from_data(uri) == group


@dsl.pipeline(name="via-module")
def via_module(data_uri: str):
    process_module.process(data_uri=data_uri, data_fingerprint="", target="churned", feature_types="{}",
                           validation_fraction=0.15, test_fraction=0.15, seed=1)


def test_a_component_reached_through_its_module_is_checked_too():
    with pytest.raises(InputDataError, match="does not exist"):
        run_component_checks(via_module, pipeline_spec(via_module), {"data_uri": "/nonexistent/x.csv"})
