"""A user's own pipelines, written the way a new user would: bundled components plus their own.

Reused by the tests that run them through `portway run` (tests/local), `portway compile` and
the local Argo interpreter. Tests copy this file into a temporary folder and name it as
`path/to/file.py:attribute`.

- `training`: the user's own `gate_rule` step turns a number into a gate rule, then the bundled
  process, train, evaluate and register (through the gate) do the rest;
- `pinned`: a step that pins numpy and pandas versions other than Portway's;
- `unavailable`: a step whose package cannot be installed;
- `waits`: a step that runs until a file appears (to watch live progress).
"""

from typing import NamedTuple

from kfp import dsl
from kfp.dsl import HTML, Artifact
from portway.components.evaluate import evaluate
from portway.components.process import process
from portway.components.register import gate_failed, register
from portway.components.train import train

from portway.config import DEFAULT_IMAGE


class Outputs(NamedTuple):
    registration: str
    evaluation: Artifact
    report: HTML


# The user's own step runs in the platform image (which has kfp), a common choice for small glue steps.
@dsl.component(base_image=DEFAULT_IMAGE, install_kfp_package=False)
def gate_rule(min_auc: float) -> str:
    """The user's own step: the extra gate rule, from a number."""
    print(f"requiring auc >= {min_auc}")
    return f"auc>={min_auc}"


@dsl.pipeline(name="user-training")
def training(
    data_uri: str,
    target: str = "churned",
    min_auc: float = 0.75,
    num_boost_round: int = 30,
    model_group: str = "user-model",
    registry_root: str = "runs/registry",
    data_fingerprint: str = "",
) -> Outputs:
    rule = gate_rule(min_auc=min_auc)
    split = process(data_uri=data_uri, data_fingerprint=data_fingerprint, target=target, feature_types="{}",
                    validation_fraction=0.15, test_fraction=0.15, seed=7)
    model = train(train_data=split.outputs["train_data"], validation_data=split.outputs["validation_data"],
                  profile=split.outputs["profile"], gpus=0, max_depth=4, eta=0.2, subsample=0.9,
                  colsample_bytree=0.9, min_child_weight=1.0, num_boost_round=num_boost_round,
                  early_stopping_rounds=10, seed=7)
    scored = evaluate(model=model.outputs["model"], test_data=split.outputs["test_data"],
                      profile=split.outputs["profile"], gate_metric="auc", threshold=0.5, gate_rules=rule.output,
                      registry_root=registry_root, model_group=model_group, champion="auto")
    with dsl.If(scored.outputs["passed"] == True):  # noqa: E712 (a KFP condition)
        registered = register(model=model.outputs["model"], evaluation=scored.outputs["evaluation"],
                              report=scored.outputs["report"], data_uri=data_uri, data_fingerprint=data_fingerprint,
                              model_group=model_group, approval_status="PendingManualApproval",
                              registry_root=registry_root, code_version="user-1", pipeline_name="user-training",
                              run_id=dsl.PIPELINE_JOB_NAME_PLACEHOLDER)
    with dsl.Else():
        refused = gate_failed(decision=scored.outputs["decision"])
    return Outputs(registration=dsl.OneOf(registered.output, refused.output),
                   evaluation=scored.outputs["evaluation"], report=scored.outputs["report"])


# Versions other than Portway's own (numpy 2, pandas 3), available as wheels for Python 3.11.
PINNED_PACKAGES = ["numpy==1.26.4", "pandas==2.2.3"]


@dsl.component(base_image="python:3.11", packages_to_install=PINNED_PACKAGES)
def versions() -> str:
    import sys

    import numpy
    import pandas

    return f"numpy {numpy.__version__} pandas {pandas.__version__} in {sys.prefix}"


@dsl.pipeline(name="user-pinned")
def pinned() -> str:
    return versions().output


@dsl.component(base_image="python:3.11", packages_to_install=["portway-test-no-such-package==0.0.1"])
def needs_missing_package() -> str:
    return "unreachable"


@dsl.pipeline(name="user-unavailable")
def unavailable() -> str:
    return needs_missing_package().output


@dsl.component(base_image="python:3.11", install_kfp_package=False)
def wait_for(path: str, timeout_seconds: float = 120.0) -> str:
    import os
    import time

    print(f"waiting for {path}", flush=True)
    deadline = time.monotonic() + timeout_seconds
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{path} did not appear")
        time.sleep(0.05)
    print("the file is there", flush=True)
    return path


@dsl.pipeline(name="user-waits")
def waits(path: str) -> str:
    return wait_for(path=path).output
