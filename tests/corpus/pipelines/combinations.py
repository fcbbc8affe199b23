# ruff: noqa: UP006, UP014, UP035, UP045 -- typing.List/Optional/NamedTuple as KFP's docs write them; the SDK reads them
"""Constructs combined: a loop inside a condition inside a nested pipeline guarded by an exit
handler; fan-in of a conditional loop; a nested pipeline inside a loop."""

from typing import List

from kfp import dsl
from kfp.dsl import PipelineTaskFinalStatus


@dsl.component(base_image="python:3.11")
def score(x: int) -> int:
    return x * 10


@dsl.component(base_image="python:3.11")
def best(scores: List[int]) -> int:
    return int(max(scores))


@dsl.component(base_image="python:3.11")
def final_report(status: PipelineTaskFinalStatus) -> str:
    return f"final: {status.state}"


@dsl.pipeline(name="conditional-sweep")
def conditional_sweep(run_sweep: bool, values: list) -> int:
    with dsl.If(run_sweep == True):  # noqa: E712
        with dsl.ParallelFor(items=values, parallelism=2) as x:
            scored = score(x=x)
        top = best(scores=dsl.Collected(scored.output))
    with dsl.Else():
        skipped = score(x=0)
    return dsl.OneOf(top.output, skipped.output)


@dsl.pipeline(name="loop-in-condition-in-nested-with-exit-handler")
def loop_in_condition_in_nested_with_exit_handler(run_sweep: bool = True,
                                                  values: list = [1, 5, 3]):  # noqa: B006
    """The combination issue 12 names: loop in a condition in a nested pipeline, with an exit handler."""
    exit_task = final_report()
    with dsl.ExitHandler(exit_task=exit_task):
        sweep = conditional_sweep(run_sweep=run_sweep, values=values)
        score(x=sweep.output)


@dsl.pipeline(name="scaled")
def scaled(x: int) -> int:
    return score(x=score(x=x).output).output


@dsl.pipeline(name="nested-pipeline-in-loop")
def nested_pipeline_in_loop() -> int:
    """A nested pipeline per loop iteration, fanned in."""
    with dsl.ParallelFor(items=[1, 2, 3]) as x:
        each = scaled(x=x)
    return best(scores=dsl.Collected(each.output)).output


@dsl.component(base_image="python:3.11")
def keep_if_big(x: int, limit: int) -> int:
    return x if x > limit else 0


@dsl.pipeline(name="condition-in-loop-on-task-output")
def condition_in_loop_on_task_output(limit: int = 15):
    """Inside a loop: a condition on the iteration's own task output."""
    with dsl.ParallelFor(items=[1, 2, 3]) as x:
        scored = score(x=x)
        with dsl.If(scored.output > limit):
            keep_if_big(x=scored.output, limit=limit)
