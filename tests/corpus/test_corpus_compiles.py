"""Every corpus pipeline compiles to an Argo Workflow that validates strictly against Argo
v4.1.2's CRD and JSON schema, or is refused with the reason support.REFUSED records; and the
corpus covers what issues 11 and 12 ask for."""

from __future__ import annotations

import re

import pytest
from schema_tools import crd_validator, schema_json_validator, validate_strict

from corpus import support
from corpus.index import BY_NAME, CASES, FAILED, SUCCEEDED

pytestmark = pytest.mark.corpus

ARGO = "argo-workflows/v4.1.2"

# Issue 11's component forms and data, and issue 12's constructs: each must be covered.
ISSUE_11_FEATURES = {
    "default-kfp-install", "packages-to-install", "pip-index-urls", "install-kfp-package-false", "target-image",
    "base-image:python:3.11", "base-image:python:3.12-slim", "base-image:python:3.13", "container-component",
    "input-value", "input-path", "input-uri", "output-path", "output-uri", "output-parameter-file", "concat",
    "if-present", "input-metadata", "output-metadata", "importer", "importer-reimport", "importer-metadata",
    "artifact-pipeline-input", "optional-input", "default-values", "optional-pipeline-input-without-value",
    "env-vars", "cpu-request", "memory-limit", "accelerator", "display-name", "caching-on", "caching-off", "cache-key", "retry",
    "dataset", "model", "metrics", "classification-metrics", "html", "markdown", "artifact-metadata",
    "directory-artifact", "list-parameter", "dict-parameter", "bool-parameter", "float-parameter", "big-int",
    "unicode", "quotes", "template-braces", "dollar"}
ISSUE_12_FEATURES = {
    "if", "elif", "else", "string-compare", "int-compare", "float-compare", "bool-compare", "nested-conditions",
    "condition-on-loop-item", "condition-on-loop-item-field", "condition-on-task-output", "runtime-value-never-evaluated", "parallel-for",
    "constant-items", "parameter-items", "task-output-items", "dict-items", "field-selector", "artifact-in-loop",
    "artifact-iterator", "nested-loops", "parallelism", "collected-parameters", "collected-artifacts",
    "one-of-parameters", "one-of-artifacts", "exit-handler", "final-status", "exit-task-pipeline", "nested-pipeline", "three-levels",
    "after-loop", "after-nested-pipeline", "ignore-upstream-failure", "failure", "secret-as-env",
    "configmap-as-env", "secret-as-volume", "configmap-as-volume", "pvc-create", "pvc-mount", "pvc-delete",
    "empty-dir", "field-path-env", "node-selector", "node-affinity", "toleration", "image-pull-secret",
    "pod-label", "pod-annotation", "timeout", "image-pull-policy"}


def test_the_corpus_is_as_large_as_the_issues_ask():
    assert len([c for c in CASES if c.issue == 11]) >= 30
    assert len(CASES) >= 60


@pytest.mark.parametrize(("issue", "wanted"), [(11, ISSUE_11_FEATURES), (12, ISSUE_12_FEATURES)])
def test_every_feature_the_issue_names_is_covered(issue, wanted):
    covered = {f for c in CASES if c.issue <= issue for f in c.features}
    assert not wanted - covered, f"issue {issue}: no corpus pipeline covers {sorted(wanted - covered)}"


def test_the_index_is_consistent():
    for case in CASES:
        assert case.issue in (11, 12) and case.status in (SUCCEEDED, FAILED), case.name
        assert case.pipeline.name, case.name  # importable from its module
        if case.expected is not None:
            assert case.why_expected, f"{case.name}: an expected result needs the reason kfp.local cannot run it"
            assert case.expected["status"] == case.status, case.name
    for table in (support.REFUSED, support.DIVERGES):
        assert set(table) <= set(BY_NAME), sorted(set(table) - set(BY_NAME))
    assert not set(support.REFUSED) & set(support.DIVERGES)


@pytest.fixture(scope="session")
def validators(schemas_dir):
    return [crd_validator(schemas_dir / f"{ARGO}/crds-full/argoproj.io_workflows.yaml"),
            schema_json_validator(schemas_dir / f"{ARGO}/schema.json", "io.argoproj.workflow.v1alpha1.Workflow")]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_compiles_and_validates_strictly_or_is_refused_with_its_reason(case, compiled, validators):
    outcome = compiled[case.name]
    if case.name in support.REFUSED:
        assert outcome.refusal is not None, (
            f"{case.name} now compiles: delete it from corpus/support.py REFUSED (its differential test runs it)")
        assert re.search(support.REFUSED[case.name], outcome.refusal), outcome.refusal
        assert "\n" not in outcome.refusal.strip(), f"a refusal is one line: {outcome.refusal!r}"
        return
    assert outcome.refusal is None, f"{case.name} is refused: {outcome.refusal}"
    assert outcome.document["kind"] == "Workflow"
    for validator in validators:
        validate_strict(outcome.document, validator)


@pytest.mark.parametrize("name", sorted(support.DIVERGES))
def test_every_known_divergence_is_warned_about_by_name_when_compiling(name, compiled):
    """A workflow that would run differently from KFP is a bug unless Argo truly cannot express it;
    then the compile says so by name (issue 11)."""
    assert name in support.WARNED, f"{name} runs differently from KFP without a compile warning"
    assert any(support.WARNED[name] in note for note in compiled[name].warnings), compiled[name].warnings
