"""Argo v4.1.2's own e2e workflows and examples, run through the engine, against the outcomes Argo's suite expects.

Functional files: the assertions of test/e2e/functional_test.go (test function named per row).
Examples: test/e2e/examples_test.go TestExampleWorkflows runs every example without the
`workflows.argoproj.io/no-test` label and waits for ToBeSucceeded.
The shared folder comes from PORTWAY_SHARED_CONFORMANCE; with CI set, a missing folder fails.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from tests.argo_engine import ArgoEngine
from tests.argo_engine.images import standard_image
from tests.argo_engine_tests.excluded_table import EXCLUDED

ROOT = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("PORTWAY_SHARED_CONFORMANCE",
                             ROOT.parent / "shared" / "conformance" / "argo-workflows" / "v4.1.2"))

# file -> (functional_test.go test, expected workflow phase, {display name: phase}, extra check)
FUNCTIONAL = {
    "dag-omitted-output-ref.yaml": ("TestDAGOmittedOutputRef", "Error",
                                    {"stage-a": "Succeeded", "stage-b": "Omitted", "stage-c": "Error"}),
    "dag-skipped-output-ref.yaml": ("TestDAGSkippedOutputRef", "Error",
                                    {"stage-a": "Succeeded", "stage-b": "Skipped", "stage-c": "Error"}),
    "dag-skipped-producer-default.yaml": ("TestDAGSkippedProducerOutputDefault", "Succeeded",
                                          {"producer": "Skipped", "consumer": "Succeeded"}),
    "dag-skipped-consumer-default.yaml": ("TestDAGSkippedConsumerInputDefault", "Succeeded",
                                          {"producer": "Skipped", "consumer": "Succeeded"}),
    "dag-skipped-withparam-default.yaml": ("TestDAGSkippedWithParamProducerDefault", "Succeeded",
                                           {"producer": "Skipped", "consumer(0:a)": "Succeeded",
                                            "consumer(1:b)": "Succeeded"}),
    "steps-skipped-withparam-ref.yaml": ("TestStepsSkippedWithParamRef", "Failed", {"producer": "Skipped"}),
    "steps-skipped-output-ref.yaml": ("TestStepsSkippedOutputRef", "Failed", {"job1": "Succeeded", "job2": "Skipped"}),
    "steps-skipped-producer-default.yaml": ("TestStepsSkippedProducerOutputDefault", "Succeeded",
                                            {"producer": "Skipped", "consumer": "Succeeded"}),
    "steps-skipped-consumer-default.yaml": ("TestStepsSkippedConsumerInputDefault", "Succeeded",
                                            {"producer": "Skipped", "consumer": "Succeeded"}),
    "steps-when-expr-filter.yaml": ("TestStepsWhenExprFilter", "Succeeded",
                                    {"fst(0:name:first,type:)": "Succeeded", "fst(1:name:second,type:always)":
                                     "Succeeded", "fst(2:name:third,type:test)": "Succeeded",
                                     "fst(3:name:fourth)": "Succeeded"}),
    "dag-when-expr-skip.yaml": ("TestDAGWhenExprSkip", "Succeeded", {"B": "Skipped"}),
    "param-aggregation.yaml": ("TestParameterAggregation", "Succeeded", {"print(0:res:1)": "Succeeded"}),
    "param-aggregation-fromoutputs.yaml": ("TestParameterAggregationFromOutputs", "Succeeded", {
        "task3(0:key1:value1)": "Succeeded", "task3(1:key2:value2)": "Succeeded",
        "task3(2:key3:value3)": "Succeeded", "task3(0:key4:value4)": "Succeeded",
        "task3(1:key5:value5)": "Succeeded"}),
    "parameter-aggregation-dag-with-retry.yaml": ("TestParameterAggregationDAGWithRetry", "Succeeded",
                                                  {"parameter-aggregation-dag-with-retry(0)": "Succeeded"}),
    "parameter-aggregation-steps-with-retry.yaml": ("TestParameterAggregationStepsWithRetry", "Succeeded",
                                                    {"parameter-aggregation-steps-with-retry(0)": "Succeeded"}),
    "dag-depends.yaml": ("TestDAGDepends", "Succeeded", {"should-execute-1": "Succeeded",
                                                         "should-execute-2": "Succeeded",
                                                         "should-not-execute": "Omitted"}),
}
# examples_test.go TestExampleWorkflows: ToBeSucceeded
EXAMPLES = ["archive-location.yaml", "arguments-parameters.yaml", "coinflip-recursive.yaml", "coinflip.yaml",
            "conditional-parameters.yaml", "conditionals-complex.yaml", "dag-conditional-parameters.yaml",
            "dag-custom-metrics.yaml", "dag-diamond-steps.yaml", "dag-diamond.yaml", "dag-enhanced-depends.yaml",
            "dag-inline-workflow.yaml", "dag-multiroot.yaml", "dag-targets.yaml", "hello-world.yaml", "steps.yaml"]


def shared() -> Path:
    if not SHARED.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"conformance folder {SHARED} is missing (set PORTWAY_SHARED_CONFORMANCE)")
        pytest.skip(f"conformance folder {SHARED} not found (set PORTWAY_SHARED_CONFORMANCE)")
    return SHARED


def load(path: Path) -> dict:
    text = path.read_text()
    if "\n" not in text.strip() and text.strip().endswith(".yaml"):  # a git symlink stored as text
        path = (path.parent / text.strip()).resolve()
        text = path.read_text()
    return next(d for d in yaml.safe_load_all(text) if isinstance(d, dict) and d.get("kind") == "Workflow")


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    return ArgoEngine(tmp_path_factory.mktemp("conformance"), standard_image,
                      configmaps={"simple-parameters": {"msg": "hello world"}})


def test_table_covers_every_upstream_file():
    base = shared()
    files = {f"examples/{p.name}" for p in (base / "examples").glob("*.yaml")}
    files |= {f"test/e2e/functional/{p.name}" for p in (base / "test/e2e/functional").iterdir()}
    covered = {f"examples/{f}" for f in EXAMPLES} | {f"test/e2e/functional/{f}" for f in FUNCTIONAL} | set(EXCLUDED)
    assert files - covered == set(), "upstream files with no row in the conformance table"
    assert covered - files == set(), "rows for files that no longer exist upstream"


@pytest.mark.parametrize("name", sorted(FUNCTIONAL))
def test_functional(engine, name):
    test_name, phase, nodes = FUNCTIONAL[name]
    result = engine.run(load(shared() / "test/e2e/functional" / name), timeout=120)
    assert result.phase == phase, f"{test_name}: {result.message}"
    for display, node_phase in nodes.items():
        assert result.node(display).phase == node_phase, f"{test_name}: {display}"
    if phase == "Error" or name.startswith("steps-skipped-") and phase == "Failed":
        assert any("absent optional" in n.message for n in result.nodes if n.phase == "Error"), test_name


def test_functional_values(engine):
    # TestDAGSkippedProducerOutputDefault / TestParameterAggregationDAGWithRetry value assertions
    result = engine.run(load(shared() / "test/e2e/functional/dag-skipped-producer-default.yaml"))
    assert result.node("consumer").inputs["parameters"][0]["value"] == "hello-from-producer"
    result = engine.run(load(shared() / "test/e2e/functional/dag-skipped-consumer-default.yaml"))
    assert result.node("consumer").inputs["parameters"][0]["value"] == "fallback-from-input"
    result = engine.run(load(shared() / "test/e2e/functional/parameter-aggregation-dag-with-retry.yaml"))
    node = result.node("parameter-aggregation-dag-with-retry(0)")
    assert node.outputs["parameters"][0]["value"] == '["1","2","3"]'


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_succeeds(engine, name):
    result = engine.run(load(shared() / "examples" / name), timeout=120)
    assert result.phase == "Succeeded", result.message
