"""The continuous-training pipeline, authored once with the KFP SDK.

    process ──► train ──► evaluate ──► [gate] ──► register        (SageMaker: Processing ►
                                              └─► gate_failed      Training ► JsonGet+Condition ► RegisterModel)

Resources, GPU placement and retries come from portway.config, never from literals here,
so every target (kfp.local, KFP IR, Argo) reads the same spec.
"""

# No `from __future__ import annotations`: KFP reads the pipeline's annotations as types.
from kfp import dsl, kubernetes
from portway.components.process import process
from portway.components.train import train
from portway.pipelines import gated_register
from portway.pipelines.gated_register import PipelineOutputs

from portway import __version__
from portway.config import (
    DEFAULT_RESOURCES,
    GPU_TAINT,
    NODE_POOL_LABEL,
    RETRIES,
    RETRY_BACKOFF_FACTOR,
    RETRY_BACKOFF_MAX_SECONDS,
    RETRY_BACKOFF_SECONDS,
    ResourceSpec,
)
from portway.registry import PENDING
from portway.trainjob.argo import LAUNCHER_LABEL
from portway.trainjob.render import RUNTIME_NAME

PIPELINE_NAME = "continuous-training"
DEFAULT_REGISTRY_ROOT = "s3://portway-models/registry"


def apply_resources(task: dsl.PipelineTask, spec: ResourceSpec) -> dsl.PipelineTask:
    """Requests, limits, GPU and node-pool placement of one step, from its ResourceSpec."""
    cpu_limit, memory_limit = spec.limits
    task.set_cpu_request(spec.cpu).set_memory_request(spec.memory)
    task.set_cpu_limit(cpu_limit).set_memory_limit(memory_limit)
    if spec.gpu:
        task.set_accelerator_type(spec.gpu_type).set_accelerator_limit(spec.gpu)
        kubernetes.add_toleration(task, **GPU_TAINT)
    if spec.node_pool:
        kubernetes.add_node_selector(task, label_key=NODE_POOL_LABEL, label_value=spec.node_pool)
    return task


def apply_retry(
    task: dsl.PipelineTask, step: str, retries: dict[str, int], backoff_seconds: int = RETRY_BACKOFF_SECONDS
) -> dsl.PipelineTask:
    if retries.get(step):
        task.set_retry(
            num_retries=retries[step],
            backoff_duration=f"{backoff_seconds}s",
            backoff_factor=RETRY_BACKOFF_FACTOR,
            backoff_max_duration=f"{RETRY_BACKOFF_MAX_SECONDS}s",
        )
    return task


def step_configurer(resources: dict, retries: dict, backoff_seconds: int = RETRY_BACKOFF_SECONDS):
    """`configured(task, step)`: the step's resources, placement and retries from one spec."""

    def configured(task: dsl.PipelineTask, step: str) -> dsl.PipelineTask:
        return apply_retry(apply_resources(task, resources[step]), step, retries, backoff_seconds)

    return configured


def build_pipeline(
    resources: "dict[str, ResourceSpec] | None" = None,
    retries: "dict[str, int] | None" = None,
    backoff_seconds: int = RETRY_BACKOFF_SECONDS,
):
    """The pipeline with the given resource spec per step and retry backoff (defaults: portway.config)."""
    resources = {**DEFAULT_RESOURCES, **(resources or {})}
    retries = RETRIES if retries is None else retries
    configured = step_configurer(resources, retries, backoff_seconds)

    @dsl.pipeline(
        name=PIPELINE_NAME,
        description="Validate and split data, train XGBoost, evaluate, gate on a metric, register the model.",
    )
    def continuous_training(
        data_uri: str,
        data_fingerprint: str = "",
        target: str = "churned",
        feature_types: str = "{}",
        validation_fraction: float = 0.15,
        test_fraction: float = 0.15,
        seed: int = 42,
        gpus: int = resources["train"].gpu,
        # XGBoost workers for train (1: one process). With N > 1, process writes N shards and
        # train runs N workers: N local processes, or a Kubeflow Trainer TrainJob on a cluster.
        workers: int = 1,
        max_depth: int = 6,
        eta: float = 0.1,
        subsample: float = 0.9,
        colsample_bytree: float = 0.9,
        min_child_weight: float = 1.0,
        num_boost_round: int = 300,
        early_stopping_rounds: int = 20,
        gate_metric: str = "auc",
        threshold: float = 0.8,
        gate_rules: str = "",
        model_group: str = "churn",
        approval_status: str = PENDING,
        registry_root: str = DEFAULT_REGISTRY_ROOT,
        code_version: str = __version__,
        # "group:version" pins the champion and makes it part of evaluate's cache key: the local
        # runner resolves it before the run, so approving a new version re-runs evaluate. "auto"
        # (the default of a compiled pipeline on a cluster) resolves the newest Approved version
        # when evaluate runs; a cached evaluate may then hold an older champion's comparison, so
        # pass the champion explicitly (or disable caching for evaluate) when that matters.
        champion: str = "auto",
        # Register a model whose features differ from its group's (on purpose), or one identical
        # to an existing version (same data, parameters and code): both refused by default.
        new_schema: bool = False,
        allow_duplicate: bool = False,
    ) -> PipelineOutputs:
        process_task = configured(
            process(
                data_uri=data_uri,
                data_fingerprint=data_fingerprint,
                target=target,
                feature_types=feature_types,
                validation_fraction=validation_fraction,
                test_fraction=test_fraction,
                seed=seed,
                workers=workers,
            ),
            "process",
        ).set_display_name("process")
        train_task = configured(
            train(
                train_data=process_task.outputs["train_data"],
                validation_data=process_task.outputs["validation_data"],
                profile=process_task.outputs["profile"],
                gpus=gpus,
                max_depth=max_depth,
                eta=eta,
                subsample=subsample,
                colsample_bytree=colsample_bytree,
                min_child_weight=min_child_weight,
                num_boost_round=num_boost_round,
                early_stopping_rounds=early_stopping_rounds,
                seed=seed,
                workers=workers,
            ),
            "train",
        ).set_display_name("train")
        # With workers > 1 the Argo target turns this task into a TrainJob (portway.trainjob.argo).
        kubernetes.add_pod_label(train_task, LAUNCHER_LABEL, RUNTIME_NAME)
        return gated_register.evaluate_gate_register(
            configured, train_task.outputs["model"], process_task, pipeline_name=PIPELINE_NAME, data_uri=data_uri,
            data_fingerprint=data_fingerprint, gate_metric=gate_metric, threshold=threshold, gate_rules=gate_rules,
            registry_root=registry_root, model_group=model_group, approval_status=approval_status,
            code_version=code_version, champion=champion, new_schema=new_schema, allow_duplicate=allow_duplicate,
        )

    return continuous_training


def __getattr__(name: str):
    """`continuous_training`, the pipeline with the cluster defaults, built on first use:
    building a pipeline costs a few hundred ms, and `portway run` builds its own (with the
    local retry backoff), so importing this module should not build one it will not use."""
    if name == "continuous_training":
        pipeline = build_pipeline()
        globals()[name] = pipeline
        return pipeline
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
