"""Hyperparameter search: one split, one model per candidate, the best one through the gate.

    process ──► ParallelFor(candidates) { train } ──► select ──► evaluate ──► [gate] ──► register
                                                  (validation split)   (test split)   └─► gate_failed

(`build_search_pipeline(register_best=False)`: `process ──► ParallelFor(candidates) { train ──► evaluate }`.)

`candidates` is a pipeline parameter (a JSON list of hyperparameter dicts), so the compiled
loop stays one loop whatever the fan-out: KFP's iterator over an input parameter, Argo's
`withParam`. The best candidate is chosen on the validation split (dsl.Collected over the
loop's models), then scored on the test split, compared with the champion and gated exactly
as in continuous-training. `build_search_pipeline(n)` makes the default a grid of n
candidates, for benchmarks and for the 200-way fan-out test.
"""

# No `from __future__ import annotations`: KFP reads the pipeline's annotations as types.
import itertools

from kfp import dsl
from portway.components.process import process
from portway.components.select import select_best
from portway.components.train import train
from portway.pipelines import gated_register
from portway.pipelines.continuous_training import DEFAULT_REGISTRY_ROOT, step_configurer
from portway.pipelines.gated_register import PipelineOutputs

from portway import __version__
from portway.config import DEFAULT_RESOURCES, RETRIES, RETRY_BACKOFF_SECONDS, ResourceSpec
from portway.registry import PENDING

PIPELINE_NAME = "hyperparameter-search"
DEFAULT_CANDIDATE_COUNT = 8
DEFAULT_PARALLELISM = 4


def candidate_grid(count: int) -> list[dict]:
    """`count` distinct hyperparameter dicts (max_depth x eta x subsample), in a stable order."""
    if count < 1:
        raise ValueError(f"candidate count must be at least 1, got {count}")
    depths, etas, subsamples = range(2, 12), (0.3, 0.2, 0.1, 0.05, 0.02), (1.0, 0.9, 0.8, 0.7, 0.6)
    grid = itertools.product(subsamples, etas, depths)
    if count > len(depths) * len(etas) * len(subsamples):
        grid = itertools.chain(grid, ((1.0, 0.1, 2 + i) for i in itertools.count(len(depths))))
    return [{"max_depth": d, "eta": e, "subsample": s} for s, e, d in itertools.islice(grid, count)]


def split(configured, data_uri, data_fingerprint, target, seed) -> dsl.PipelineTask:
    """The one process step of a search: train, validation and test splits, 70/15/15."""
    return configured(
        process(data_uri=data_uri, data_fingerprint=data_fingerprint, target=target, feature_types="{}",
                validation_fraction=0.15, test_fraction=0.15, seed=seed),
        "process",
    )


def train_candidate(configured, process_task: dsl.PipelineTask, candidate, *, gpus, num_boost_round,
                    early_stopping_rounds, seed) -> dsl.PipelineTask:
    """One loop iteration's train step, with the candidate's hyperparameters."""
    return configured(
        train(
            train_data=process_task.outputs["train_data"],
            validation_data=process_task.outputs["validation_data"],
            profile=process_task.outputs["profile"],
            gpus=gpus,
            max_depth=candidate.max_depth,
            eta=candidate.eta,
            subsample=candidate.subsample,
            colsample_bytree=0.9,
            min_child_weight=1.0,
            num_boost_round=num_boost_round,
            early_stopping_rounds=early_stopping_rounds,
            seed=seed,
        ),
        "train",
    )


def build_search_pipeline(
    candidate_count: int = DEFAULT_CANDIDATE_COUNT,
    parallelism: int = DEFAULT_PARALLELISM,
    resources: "dict[str, ResourceSpec] | None" = None,
    backoff_seconds: int = RETRY_BACKOFF_SECONDS,
    register_best: bool = True,
):
    """The search pipeline. With `register_best` (the default), the loop's models are collected
    (dsl.Collected) and the best goes through evaluate, the gate and register. Without, each
    candidate is only trained and evaluated, nothing registered."""
    # `select` scores a few small models: it asks what `evaluate` asks.
    resources = {**DEFAULT_RESOURCES, "select": DEFAULT_RESOURCES["evaluate"], **(resources or {})}
    default_candidates = candidate_grid(candidate_count)
    configured = step_configurer(resources, RETRIES, backoff_seconds)

    if register_best:
        @dsl.pipeline(
            name=PIPELINE_NAME,
            description="Split once, train one XGBoost model per hyperparameter candidate, gate and register the best.",
        )
        def hyperparameter_search(
            data_uri: str,
            data_fingerprint: str = "",
            target: str = "churned",
            seed: int = 42,
            gpus: int = resources["train"].gpu,
            candidates: list = default_candidates,
            num_boost_round: int = 300,
            early_stopping_rounds: int = 20,
            gate_metric: str = "auc",
            threshold: float = 0.8,
            gate_rules: str = "",
            registry_root: str = DEFAULT_REGISTRY_ROOT,
            model_group: str = "churn",
            approval_status: str = PENDING,
            code_version: str = __version__,
            champion: str = "auto",
            new_schema: bool = False,
            allow_duplicate: bool = False,
        ) -> PipelineOutputs:
            process_task = split(configured, data_uri, data_fingerprint, target, seed)
            with dsl.ParallelFor(candidates, parallelism=parallelism, name="candidates") as candidate:
                train_task = train_candidate(
                    configured, process_task, candidate, gpus=gpus, num_boost_round=num_boost_round,
                    early_stopping_rounds=early_stopping_rounds, seed=seed,
                ).set_caching_options(False)
                # Not cached, on every target alike: the Argo target cannot cache a task whose
                # artifacts are collected (a cached iteration's model would lie under an earlier
                # run's prefix, where the collector does not look; compile/argo/executors/container.py).
            select_task = configured(
                select_best(models=dsl.Collected(train_task.outputs["model"]),
                            validation_data=process_task.outputs["validation_data"], metric=gate_metric),
                "select",
            ).set_display_name("select")
            return gated_register.evaluate_gate_register(
                configured, select_task.outputs["best_model"], process_task, pipeline_name=PIPELINE_NAME,
                data_uri=data_uri, data_fingerprint=data_fingerprint, gate_metric=gate_metric, threshold=threshold,
                gate_rules=gate_rules, registry_root=registry_root, model_group=model_group,
                approval_status=approval_status, code_version=code_version, champion=champion,
                new_schema=new_schema, allow_duplicate=allow_duplicate,
            )
        return hyperparameter_search

    @dsl.pipeline(
        name=PIPELINE_NAME,
        description="Split once, then train and evaluate one XGBoost model per hyperparameter candidate.",
    )
    def hyperparameter_search(
        data_uri: str,
        data_fingerprint: str = "",
        target: str = "churned",
        seed: int = 42,
        gpus: int = resources["train"].gpu,
        candidates: list = default_candidates,
        num_boost_round: int = 300,
        early_stopping_rounds: int = 20,
        gate_metric: str = "auc",
        threshold: float = 0.8,
        registry_root: str = DEFAULT_REGISTRY_ROOT,
        model_group: str = "churn",
    ):
        process_task = split(configured, data_uri, data_fingerprint, target, seed)
        with dsl.ParallelFor(candidates, parallelism=parallelism, name="candidates") as candidate:
            train_task = train_candidate(
                configured, process_task, candidate, gpus=gpus, num_boost_round=num_boost_round,
                early_stopping_rounds=early_stopping_rounds, seed=seed,
            )
            gated_register.evaluate_step(
                configured, train_task.outputs["model"], process_task, gate_metric=gate_metric,
                threshold=threshold, gate_rules="", registry_root=registry_root, model_group=model_group,
                champion="none",
            )
    return hyperparameter_search


hyperparameter_search = build_search_pipeline()
