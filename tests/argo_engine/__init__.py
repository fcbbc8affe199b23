"""A local Argo Workflows v4 engine for tests: a Workflow in, node statuses out.

A test double that follows Argo's documented rules (each module cites the Argo source or doc it
implements): expressions.py, functions.py (expr-lang and Argo's functions), govaluate_when.py,
substitution.py, validate.py, dag.py + dag_runner.py, steps.py, loops.py, retry.py, memoize.py,
outputs.py, artifacts.py (S3 via boto3), pods.py (private mount namespaces), resources.py (fake
controllers), engine.py (executeTemplate, exit handlers, hooks). images.py holds stand-ins for
common images.
"""

from .engine import ArgoEngine
from .model import ImageEnvironment, NodeResult, WorkflowResult

__all__ = ["ArgoEngine", "ImageEnvironment", "NodeResult", "WorkflowResult"]
