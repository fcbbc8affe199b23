"""evaluate component: test-split metrics, the champion on the same rows, the gate decision
and the HTML report.

Logic: portway.steps.champion (candidate vs champion, gate, report), portway.steps.evaluate
(metrics), portway.steps.gate (the decision), portway.report (the HTML).
"""

from typing import NamedTuple

from kfp import dsl
from kfp.dsl import HTML, Artifact, ClassificationMetrics, Dataset, Input, Metrics, Model, Output

from portway.config import DEFAULT_IMAGE


@dsl.component(base_image=DEFAULT_IMAGE, install_kfp_package=False)
def evaluate(
    model: Input[Model],
    test_data: Input[Dataset],
    profile: Input[Artifact],
    gate_metric: str,
    threshold: float,
    gate_rules: str,
    registry_root: str,
    model_group: str,
    champion: str,
    metrics: Output[Metrics],
    classification_metrics: Output[ClassificationMetrics],
    evaluation: Output[Artifact],
    report: Output[HTML],
) -> NamedTuple("EvaluateOutputs", [("passed", bool), ("decision", str)]):
    """Score the model and the champion; `passed` drives the pipeline's gate (SageMaker's ConditionStep).

    `champion` is "group:version" (pinned before the run, so it is part of the cache key),
    "none", or "auto" (resolved here, when the step runs)."""
    import json
    from collections import namedtuple

    from portway.steps.champion import evaluate_against_champion
    from portway.steps.exit_codes import exit_codes
    from portway.steps.gate import build_rules

    with exit_codes():
        result = evaluate_against_champion(
            model_dir=model.path,
            test_path=test_data.path,
            profile_path=profile.path,
            evaluation_path=evaluation.path,
            report_path=report.path,
            rules=build_rules(gate_metric, threshold, gate_rules),
            registry_root=registry_root,
            model_group=model_group,
            champion=champion,
        )
    decision = result["decision"]
    for name, value in result["metrics"].items():
        metrics.log_metric(name, round(value, 6))
    # KFP's local cache treats an output without a file as missing; the metrics file is also handy.
    with open(metrics.path, "w") as f:
        json.dump(result["metrics"], f)
    classification_metrics.log_confusion_matrix(result["classes"], result["confusion_matrix"])
    if "roc" in result["curves"]:
        roc = result["curves"]["roc"]
        classification_metrics.log_roc_curve(roc["fpr"], roc["tpr"], roc["thresholds"])
    with open(classification_metrics.path, "w") as f:
        json.dump({"confusion_matrix": result["confusion_matrix"], "classes": result["classes"]}, f)
    # Metadata stays small (metrics and the gate, no curves): it travels through the KFP metadata store.
    evaluation.metadata.update({"metrics": result["metrics"], "gate": decision, "test_rows": result["test_rows"],
                                "classes": result["classes"], "champion": decision["champion"]})
    report.metadata.update({"model_group": model_group, "champion": decision["champion"],
                            "passed": decision["passed"]})
    outputs = namedtuple("EvaluateOutputs", ["passed", "decision"])
    return outputs(decision["passed"], json.dumps(decision))


# Checked before a local run starts, with the inputs known then (portway.steps.preflight).
evaluate.portway_check = "portway.steps.preflight:evaluate"
