"""Argo v4.1.2's own e2e workflows and examples, run through the engine, against the outcomes Argo's suite expects.

Three sources of expected outcomes, each row saying which:
- FUNCTIONAL: test/e2e/functional_test.go, the named test (line of its `func`) and its assertions;
- FOLDER: test/e2e/functional/ files that no test of v4.1.2's functional_test.go names (other e2e
  suites, not shipped here, use them). Expected Succeeded by the folder's convention: Argo's own
  test/e2e/auto_test.go (v2) asserted Succeeded for every functional/ file, expected failures living
  in expectedfailures/; many are links to examples that examples_test.go expects to succeed. This
  is weaker evidence than a named test, hence its own table;
- EXAMPLES: test/e2e/examples_test.go TestExampleWorkflows submits every example without the
  `workflows.argoproj.io/no-test` label and waits for ToBeSucceeded (with the
  configmaps/simple-parameters-configmap.yaml ConfigMap applied first).
Every other upstream file is in excluded_table.EXCLUDED with its reason; a test checks that the table
covers the folder, so a new upstream file cannot be skipped silently.
The folder comes from PORTWAY_SHARED_CONFORMANCE; with CI set, a missing folder fails.
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

import boto3
import pytest
import yaml
from argo_engine import ArgoEngine
from argo_engine.images import standard_image
from argo_engine.resources import KubernetesObjects

from argo_engine_tests.excluded_table import EXCLUDED
from tests.conftest import TEST_AWS_ACCESS_KEY_ID, TEST_AWS_SECRET_ACCESS_KEY

ROOT = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("PORTWAY_SHARED_CONFORMANCE",
                             ROOT.parent / "shared" / "conformance" / "argo-workflows" / "v4.1.2"))

NOT_SKIPPED = "not Skipped"
# file -> (functional_test.go test, line, expected workflow phase, {display name: node phase})
FUNCTIONAL = {
    "conditionals.yaml": ("TestWhenExpressions", 105, "Succeeded", {
        "print-hello-govaluate": NOT_SKIPPED, "print-hello-expr": NOT_SKIPPED, "print-hello-expr-json": NOT_SKIPPED}),
    "dag-omitted-output-ref.yaml": ("TestDAGOmittedOutputRef", 471, "Error",
                                    {"stage-a": "Succeeded", "stage-b": "Omitted", "stage-c": "Error"}),
    "dag-skipped-output-ref.yaml": ("TestDAGSkippedOutputRef", 499, "Error",
                                    {"stage-a": "Succeeded", "stage-b": "Skipped", "stage-c": "Error"}),
    "dag-skipped-producer-default.yaml": ("TestDAGSkippedProducerOutputDefault", 526, "Succeeded",
                                          {"producer": "Skipped", "consumer": "Succeeded"}),
    "dag-skipped-consumer-default.yaml": ("TestDAGSkippedConsumerInputDefault", 552, "Succeeded",
                                          {"producer": "Skipped", "consumer": "Succeeded"}),
    "dag-skipped-volume-default.yaml": ("TestDAGSkippedVolumeRefProducerDefault", 578, "Succeeded",
                                        {"producer": "Skipped", "consumer": "Succeeded"}),
    "dag-skipped-artifact-subpath-ref.yaml": ("TestDAGSkippedArtifactSubPathRef", 601, "Error",
                                              {"param-producer": "Skipped", "consumer": "Error"}),
    "dag-skipped-withparam-default.yaml": ("TestDAGSkippedWithParamProducerDefault", 624, "Succeeded", {
        "producer": "Skipped", "consumer(0:a)": "Succeeded", "consumer(1:b)": "Succeeded"}),
    "steps-skipped-withparam-ref.yaml": ("TestStepsSkippedWithParamRef", 652, "Failed", {"producer": "Skipped"}),
    "steps-skipped-output-ref.yaml": ("TestStepsSkippedOutputRef", 684, "Failed",
                                      {"job1": "Succeeded", "job2": "Skipped"}),
    "steps-skipped-producer-default.yaml": ("TestStepsSkippedProducerOutputDefault", 719, "Succeeded",
                                            {"producer": "Skipped", "consumer": "Succeeded"}),
    "steps-skipped-consumer-default.yaml": ("TestStepsSkippedConsumerInputDefault", 745, "Succeeded",
                                            {"producer": "Skipped", "consumer": "Succeeded"}),
    "steps-when-expr-filter.yaml": ("TestStepsWhenExprFilter", 768, "Succeeded", {
        "fst(0:name:first,type:)": "Succeeded", "fst(1:name:second,type:always)": "Succeeded",
        "fst(2:name:third,type:test)": "Succeeded", "fst(3:name:fourth)": "Succeeded"}),
    "dag-when-expr-skip.yaml": ("TestDAGWhenExprSkip", 800, "Succeeded", {"B": "Skipped"}),
    "param-aggregation.yaml": ("TestParameterAggregation", 904, "Succeeded", {"print(0:res:1)": "Succeeded"}),
    "param-aggregation-fromoutputs.yaml": ("TestParameterAggregationFromOutputs", 919, "Succeeded", {
        "task3(0:key1:value1)": "Succeeded", "task3(1:key2:value2)": "Succeeded",
        "task3(2:key3:value3)": "Succeeded", "task3(0:key4:value4)": "Succeeded",
        "task3(1:key5:value5)": "Succeeded"}),
    "parameter-aggregation-dag-with-retry.yaml": ("TestParameterAggregationDAGWithRetry", 936, "Succeeded",
                                                  {"parameter-aggregation-dag-with-retry(0)": "Succeeded"}),
    "parameter-aggregation-steps-with-retry.yaml": ("TestParameterAggregationStepsWithRetry", 954, "Succeeded",
                                                    {"parameter-aggregation-steps-with-retry(0)": "Succeeded"}),
    "dag-depends.yaml": ("TestDAGDepends", 972, "Succeeded", {
        "should-execute-1": "Succeeded", "should-execute-2": "Succeeded", "should-not-execute": "Omitted"}),
    "output-artifact-optional.yaml": ("TestOptionalOutputArtifacts", 998, "Succeeded", {}),
    "template-default-image.yaml": ("TestTemplateDefaultImage", 1719, "Succeeded", {}),
    "entrypointName-workflow.yaml": ("TestEntrypointName", 1727, None, {"step": "Succeeded"}),
    "missing-steps.yaml": ("TestMissingStepsInUI", 1742, "Succeeded", {}),
}
# the tests above that also assert a message of an errored node
ABSENT_OPTIONAL = {"dag-omitted-output-ref.yaml", "dag-skipped-output-ref.yaml", "dag-skipped-artifact-subpath-ref.yaml",
                   "steps-skipped-withparam-ref.yaml", "steps-skipped-output-ref.yaml"}

FOLDER = [
    "arguments-parameters.yaml", "artifact-input-output-samedir.yaml", "artifact-passing.yaml",
    "coinflip-recursive.yaml", "coinflip.yaml", "continue-on-fail.yaml", "continue-on-failed.yaml",
    "custom_template_variable.yaml", "dag-argument-passing.yaml", "dag-coinflip.yaml", "dag-diamond-steps.yaml",
    "dag-diamond.yaml", "dag-multiroot.yaml", "dag-nested.yaml", "dag-targets-input-param.yaml", "dag-targets.yaml",
    "global-outputs-dag.yaml", "global-outputs-variable.yaml", "global-outputs.yaml",
    "global-parameters-complex.yaml", "global-parameters.yaml", "hello-world.json", "hello-world.yaml",
    "init-container.yaml", "input-artifact-raw.yaml", "loop-sequence-empty.yaml", "loops-dag.yaml",
    "loops-maps.yaml", "loops-param-argument.yaml", "loops-sequence-dag.yaml", "loops-sequence.yaml", "loops.yaml",
    "nested-dag-outputs.yaml", "nested-workflow.yaml", "node-selector.yaml", "output-input-artifact-optional.yaml",
    "output-param-different-uid.yaml", "output-parameter.yaml", "parameter-aggregation-dag.yaml",
    "parameter-aggregation-script.yaml", "pns-output-params.yaml", "retry-container-to-completion.yaml",
    "retry-with-artifacts.yaml", "script-with-volume.yaml", "scripts-bash.yaml", "scripts-javascript.yaml",
    "scripts-python.yaml", "secrets.yaml", "sidecar-force-kill.yaml", "steps.yaml", "volumes-emptydir.yaml",
    "volumes-existing.yaml", "volumes-pvc.yaml",
]

EXAMPLES = [
    "archive-location.yaml", "arguments-parameters-from-configmap.yaml", "arguments-parameters.yaml",
    "artifact-gc-workflow.yaml", "artifact-passing-subpath.yaml", "artifact-passing.yaml",
    "artifact-path-placeholders.yaml", "artifact-repository-ref.yaml", "coinflip-recursive.yaml", "coinflip.yaml",
    "conditional-artifacts.yaml", "conditional-parameters.yaml", "conditionals-complex.yaml", "conditionals.yaml",
    "dag-conditional-artifacts.yaml", "dag-conditional-parameters.yaml", "dag-custom-metrics.yaml",
    "dag-diamond-steps.yaml", "dag-diamond.yaml", "dag-enhanced-depends.yaml", "dag-inline-workflow.yaml",
    "dag-multiroot.yaml", "dag-targets.yaml", "default-pdb-support.yaml", "dns-config.yaml",
    "exit-code-output-variable.yaml", "exit-handler-step-level.yaml", "exit-handler-with-artifacts.yaml",
    "exit-handler-with-param.yaml", "expression-destructure-json-complex.yaml", "expression-destructure-json.yaml",
    "expression-reusing-verbose-snippets.yaml", "expression-tag-template-workflow.yaml", "gc-ttl.yaml",
    "global-outputs.yaml", "global-parameters-from-configmap-referenced-as-local-variable.yaml",
    "global-parameters-from-configmap.yaml", "global-parameters.yaml", "hello-world.yaml", "init-container.yaml",
    "input-artifact-raw.yaml", "k8s-owner-reference.yaml", "key-only-artifact.yaml", "label-value-from-workflow.yaml",
    "life-cycle-hooks-tmpl-level.yaml", "loops.yaml", "map-reduce.yaml", "memoize-simple.yaml",
    "output-parameter.yaml", "parameter-aggregation-dag.yaml", "parameter-aggregation-script.yaml",
    "parameter-aggregation.yaml", "pod-metadata-wf-field.yaml", "pod-metadata.yaml",
    "pod-resources-template-override.yaml", "pod-resources.yaml", "pod-spec-from-previous-step.yaml",
    "pod-spec-patch-wf-tmpl.yaml", "pod-spec-patch.yaml", "pod-spec-yaml-patch.yaml", "scripts-bash.yaml", "scripts-javascript.yaml", "scripts-python.yaml",
    "status-reference.yaml", "steps-inline-workflow.yaml", "steps.yaml", "synchronization-mutex-wf-level.yaml",
    "title-and-description-with-markdown.yaml", "volumes-emptydir.yaml", "volumes-existing.yaml",
    "volumes-pvc.yaml", "withsequence-nested-result.yaml",
]


def shared() -> Path:
    if not SHARED.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"conformance folder {SHARED} is missing (set PORTWAY_SHARED_CONFORMANCE)")
        pytest.skip(f"conformance folder {SHARED} not found (set PORTWAY_SHARED_CONFORMANCE)")
    return SHARED


def load(path: Path) -> dict:
    text = path.read_text()
    if "\n" not in text.strip() and text.strip().endswith(".yaml"):  # a git symlink stored as text
        text = (path.parent / text.strip()).resolve().read_text()
    return next(d for d in yaml.safe_load_all(text) if isinstance(d, dict) and d.get("kind") == "Workflow")


@pytest.fixture(scope="module")
def engine(tmp_path_factory, s3_server):
    """The e2e cluster's fixtures: the quick-start MinIO bucket and credentials as S3 on loopback, the
    simple-parameters ConfigMap, the artifact-repositories ConfigMap, a WorkflowTemplate, object stores
    for the kinds resource templates create."""
    bucket = f"my-bucket-{uuid.uuid4().hex[:6]}"
    boto3.client("s3", endpoint_url=s3_server, aws_access_key_id=TEST_AWS_ACCESS_KEY_ID,
                 aws_secret_access_key=TEST_AWS_SECRET_ACCESS_KEY, region_name="us-east-1").create_bucket(Bucket=bucket)
    repo = {"s3": {"bucket": bucket, "endpoint": s3_server.removeprefix("http://"), "insecure": True,
                   "accessKeySecret": {"name": "my-minio-cred", "key": "accesskey"},
                   "secretKeySecret": {"name": "my-minio-cred", "key": "secretkey"}}}
    templates = []
    if SHARED.is_dir():
        templates.append(yaml.safe_load((SHARED / "test/e2e/functional/entrypointName-template.yaml").read_text()))
    return ArgoEngine(
        tmp_path_factory.mktemp("conformance"), standard_image, artifact_repository=repo,
        secrets={"my-minio-cred": {"accesskey": TEST_AWS_ACCESS_KEY_ID, "secretkey": TEST_AWS_SECRET_ACCESS_KEY},
                 "my-secret": {"mypassword": "S00perS3cretPa55word"}},
        configmaps={"simple-parameters": {"msg": "hello world"}, "artifact-repositories": {"my-key": json.dumps(repo)}},
        resource_controllers={"v1/ConfigMap": KubernetesObjects(), "argoproj.io/v1alpha1/Workflow": KubernetesObjects()},
        workflow_templates=templates, parallelism=2)


def test_table_covers_every_upstream_file():
    base = shared()
    files = {f"examples/{p.name}" for p in (base / "examples").glob("*.yaml")}
    files |= {f"test/e2e/functional/{p.name}" for p in (base / "test/e2e/functional").iterdir()}
    rows = ([f"examples/{f}" for f in EXAMPLES] + [f"test/e2e/functional/{f}" for f in [*FUNCTIONAL, *FOLDER]]
            + list(EXCLUDED))
    assert len(rows) == len(set(rows)), "a file has two rows"
    assert files - set(rows) == set(), "upstream files with no row in the conformance table"
    assert set(rows) - files == set(), "rows for files that no longer exist upstream"


@pytest.mark.parametrize("name", sorted(FUNCTIONAL))
def test_functional(engine, name):
    test_name, line, phase, nodes = FUNCTIONAL[name]
    where = f"{test_name} (functional_test.go:{line})"
    result = engine.run(load(shared() / "test/e2e/functional" / name), timeout=120)
    if phase:
        assert result.phase == phase, f"{where}: {result.message}"
    for display, node_phase in nodes.items():
        node = result.node(display)
        if node_phase == NOT_SKIPPED:
            assert node.type != "Skipped", where
        else:
            assert node.phase == node_phase, f"{where}: {display} {node.message}"
    if name in ABSENT_OPTIONAL:
        assert any("absent optional" in n.message for n in result.nodes if n.phase == "Error"), where


def test_functional_values(engine):
    base = shared() / "test/e2e/functional"
    # TestDAGSkippedProducerOutputDefault / ConsumerInputDefault (functional_test.go:526, 552)
    result = engine.run(load(base / "dag-skipped-producer-default.yaml"))
    assert result.node("consumer").inputs["parameters"][0]["value"] == "hello-from-producer"
    result = engine.run(load(base / "dag-skipped-consumer-default.yaml"))
    assert result.node("consumer").inputs["parameters"][0]["value"] == "fallback-from-input"
    # TestDAGSkippedWithParamProducerDefault (functional_test.go:624)
    result = engine.run(load(base / "dag-skipped-withparam-default.yaml"))
    assert [result.node(f"consumer({i}:{v})").inputs["parameters"][0]["value"] for i, v in enumerate("ab")] == ["a", "b"]
    # TestParameterAggregationDAGWithRetry (functional_test.go:936)
    result = engine.run(load(base / "parameter-aggregation-dag-with-retry.yaml"))
    node = result.node("parameter-aggregation-dag-with-retry(0)")
    assert node.outputs["parameters"][0]["value"] == '["1","2","3"]'
    # TestEntrypointName (functional_test.go:1727): the template input defaults to workflow.mainEntrypoint
    result = engine.run(load(base / "entrypointName-workflow.yaml"))
    assert result.node("step").inputs["parameters"][0]["value"] == "bar"
    # TestMissingStepsInUI (functional_test.go:1742): the nested step's pod links to the next group
    result = engine.run(load(base / "missing-steps.yaml"))
    assert len(result.node("missing-steps[0].step1[0].execute-script").children) == 1
    # TestDAGDepends (functional_test.go:972) is in FUNCTIONAL; TestLoopEmptyParam's message rule is
    # unit-tested in test_engine_runs


@pytest.mark.parametrize("name", FOLDER)
def test_functional_folder_succeeds(engine, name):
    result = engine.run(load(shared() / "test/e2e/functional" / name), timeout=120)
    assert result.phase == "Succeeded", result.message


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_succeeds(engine, name):
    result = engine.run(load(shared() / "examples" / name), timeout=120)
    assert result.phase == "Succeeded", result.message
