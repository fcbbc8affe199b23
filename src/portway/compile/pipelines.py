"""The pipelines `portway compile` knows by name, and loading any other by `module:attribute`."""

from __future__ import annotations

import importlib

from portway.errors import ParameterError

PIPELINES = {
    "continuous-training": "portway.pipelines.continuous_training:continuous_training",
    "hyperparameter-search": "portway.pipelines.hyperparameter_search:hyperparameter_search",
}


def load_pipeline(name: str):
    """A @dsl.pipeline by short name (PIPELINES) or as "package.module:attribute"."""
    target = PIPELINES.get(name, name)
    if ":" not in target:
        raise ParameterError(
            f"--pipeline {name!r} is not known; use one of {', '.join(PIPELINES)} or module:attribute."
        )
    module_name, attribute = target.split(":", 1)
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ParameterError(f"--pipeline {name!r}: cannot import {module_name}: {exc}.") from None
    pipeline = getattr(module, attribute, None)
    if pipeline is None or not hasattr(pipeline, "pipeline_spec"):
        raise ParameterError(f"--pipeline {name!r}: {module_name}.{attribute} is not a @dsl.pipeline.")
    return pipeline
