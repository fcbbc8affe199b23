"""Checks a component declares for its inputs, run before any step starts.

A component opts in with `component.portway_check = "portway.steps.preflight:<function>"`
(see components/*.py); the local runner finds the components a pipeline uses, works out
which of their inputs are known before the run (pipeline parameters and constants) and calls
the check with those, by name. An input that only exists at run time (another step's output,
a ParallelFor item) is absent, and the check skips what needs it.

Each check raises the step's own PortwayError, so a bad value fails before anything runs
with the same message the step would give.
"""

from __future__ import annotations


def _known(inputs: dict, *names: str) -> bool:
    return all(name in inputs for name in names)


def process(**inputs) -> None:
    from portway.errors import ParameterError
    from portway.steps.process import check_input_header, parse_feature_types, validate_fractions

    if "target" in inputs and not inputs["target"]:
        raise ParameterError("target must name the label column, got an empty string.")
    if "feature_types" in inputs:
        parse_feature_types(inputs["feature_types"])
    if _known(inputs, "validation_fraction", "test_fraction"):
        validate_fractions(inputs["validation_fraction"], inputs["test_fraction"])
    if _known(inputs, "data_uri", "target"):
        check_input_header(inputs["data_uri"], inputs["target"], inputs.get("feature_types"))


def train(**inputs) -> None:
    from portway.steps.train import choose_device, validate_hyperparameters

    if "gpus" in inputs:
        choose_device(inputs["gpus"], cuda_present=False)
    names = ("max_depth", "eta", "subsample", "colsample_bytree", "min_child_weight")
    if _known(inputs, *names, "num_boost_round", "early_stopping_rounds"):
        validate_hyperparameters({k: inputs[k] for k in names}, inputs["num_boost_round"],
                                 inputs["early_stopping_rounds"])


def evaluate(**inputs) -> None:
    from portway.names import validate_name
    from portway.steps.champion import parse_champion
    from portway.steps.gate import build_rules

    if _known(inputs, "gate_metric", "threshold"):
        build_rules(inputs["gate_metric"], inputs["threshold"], inputs.get("gate_rules", ""))
    if "model_group" in inputs:
        validate_name(inputs["model_group"], "model group")
        if "champion" in inputs:
            parse_champion(inputs["champion"], inputs["model_group"])


def register(**inputs) -> None:
    from portway.names import validate_name
    from portway.registry import check_approval_status

    if "approval_status" in inputs:
        check_approval_status(inputs["approval_status"])
    if "model_group" in inputs:
        validate_name(inputs["model_group"], "model group")
