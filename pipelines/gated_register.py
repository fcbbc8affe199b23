"""The tail both bundled pipelines end with: evaluate ──► [gate] ──► register
                                                             └─► gate_failed

Built once here so continuous-training and hyperparameter-search gate and register a model
the same way (SageMaker: JsonGet+Condition ► RegisterModel). A pipeline imports this module
itself, not only its functions: `portway run` finds the components' own checks (evaluate's,
register's) among the attributes of the modules a pipeline's module imports
(portway.embedded.preflight.declared_checks).
"""

# No `from __future__ import annotations`: KFP reads the pipeline's annotations as types.
from typing import NamedTuple

from kfp import dsl
from kfp.dsl import HTML, Artifact, Metrics
from portway.components.evaluate import evaluate
from portway.components.register import gate_failed, register


class PipelineOutputs(NamedTuple):
    registration: str
    metrics: Metrics
    evaluation: Artifact
    report: HTML


def evaluate_step(configured, model, process_task: dsl.PipelineTask, *, gate_metric, threshold, gate_rules,
                  registry_root, model_group, champion) -> dsl.PipelineTask:
    """`model` scored on process's test split and compared with the champion."""
    return configured(
        evaluate(
            model=model,
            test_data=process_task.outputs["test_data"],
            profile=process_task.outputs["profile"],
            gate_metric=gate_metric,
            threshold=threshold,
            gate_rules=gate_rules,
            registry_root=registry_root,
            model_group=model_group,
            champion=champion,
        ),
        "evaluate",
    )


def evaluate_gate_register(
    configured, model, process_task: dsl.PipelineTask, *, pipeline_name: str, data_uri, data_fingerprint,
    gate_metric, threshold, gate_rules, registry_root, model_group, approval_status, code_version, champion,
    new_schema, allow_duplicate,
) -> PipelineOutputs:
    """Evaluate `model`; register it if it passes the gate, else run gate_failed. Called inside a
    pipeline function with that pipeline's parameters; returns the pipeline's outputs."""
    evaluate_task = evaluate_step(
        configured, model, process_task, gate_metric=gate_metric, threshold=threshold, gate_rules=gate_rules,
        registry_root=registry_root, model_group=model_group, champion=champion,
    ).set_display_name("evaluate")
    with dsl.If(evaluate_task.outputs["passed"] == True, name="metric-gate"):  # noqa: E712 (KFP condition)
        register_task = configured(
            register(
                model=model,
                evaluation=evaluate_task.outputs["evaluation"],
                report=evaluate_task.outputs["report"],
                data_uri=data_uri,
                data_fingerprint=data_fingerprint,
                model_group=model_group,
                approval_status=approval_status,
                registry_root=registry_root,
                code_version=code_version,
                pipeline_name=pipeline_name,
                run_id=dsl.PIPELINE_JOB_NAME_PLACEHOLDER,
                new_schema=new_schema,
                allow_duplicate=allow_duplicate,
            ),
            "register",
        ).set_display_name("register")
    with dsl.Else(name="metric-gate-failed"):
        failed_task = configured(gate_failed(decision=evaluate_task.outputs["decision"]), "gate-failed")
    return PipelineOutputs(
        registration=dsl.OneOf(register_task.output, failed_task.output),
        metrics=evaluate_task.outputs["metrics"],
        evaluation=evaluate_task.outputs["evaluation"],
        report=evaluate_task.outputs["report"],
    )
