"""Failing pipelines: what ran, what was never started, and the final status."""

from kfp import dsl


@dsl.component(base_image="python:3.11")
def step(text: str) -> str:
    return text + "."


@dsl.component(base_image="python:3.11")
def explode(code: int):
    import sys

    print(f"exiting with {code}")
    sys.exit(code)


@dsl.pipeline(name="failing-step")
def failing_step(code: int = 3):
    """A step fails: its downstream never runs; an independent branch still completes."""
    before = step(text="before")
    failed = explode(code=code).after(before)
    step(text="downstream").after(failed)
    step(text="independent")


@dsl.component(base_image="python:3.11")
def check_positive(x: int) -> int:
    if x <= 0:
        raise ValueError(f"{x} is not positive")
    return x


@dsl.pipeline(name="failing-loop-iteration")
def failing_loop_iteration(values: list = [3, -1, 2]):  # noqa: B006
    """One iteration of a loop fails; the others complete; the run fails."""
    with dsl.ParallelFor(items=values) as x:
        check_positive(x=x)


@dsl.pipeline(name="failing-inner")
def failing_inner(code: int) -> str:
    explode(code=code)
    return step(text="inner").output


@dsl.pipeline(name="failing-nested-pipeline")
def failing_nested_pipeline(code: int = 1):
    """A nested pipeline fails; the task that consumes its output never runs."""
    inner = failing_inner(code=code)
    step(text=inner.output)


@dsl.component(base_image="python:3.11")
def wrong_output_type() -> int:
    return "not an int"  # a component bug KFP's executor reports at run time


@dsl.pipeline(name="failing-output-type")
def failing_output_type():
    step(text="ok")
    wrong_output_type()
