"""Pipelines used as components, several levels deep, with parameter and artifact inputs and
outputs; `.after()` across groups; `ignore_upstream_failure()`."""

from kfp import dsl
from kfp.dsl import Dataset, Input, Output


@dsl.component(base_image="python:3.11")
def add_one(x: int) -> int:
    return x + 1


@dsl.component(base_image="python:3.11")
def save_number(x: int, out: Output[Dataset]):
    with open(out.path, "w") as f:
        f.write(str(x))
    out.metadata["x"] = x


@dsl.component(base_image="python:3.11")
def load_number(data: Input[Dataset]) -> int:
    with open(data.path) as f:
        return int(f.read())


@dsl.pipeline(name="inner")
def inner(x: int) -> int:
    return add_one(x=add_one(x=x).output).output


@dsl.pipeline(name="middle")
def middle(x: int) -> Dataset:
    plus_two = inner(x=x)
    return save_number(x=plus_two.output).outputs["out"]


@dsl.pipeline(name="nested-pipelines")
def nested_pipelines(x: int = 10) -> int:
    """Three levels: outer -> middle -> inner, an int in and a Dataset out of the middle level."""
    data = middle(x=x)
    return load_number(data=data.output).output


@dsl.component(base_image="python:3.11")
def tag(text: str) -> str:
    return f"<{text}>"


@dsl.pipeline(name="tagged")
def tagged(text: str) -> str:
    return tag(text=tag(text=text).output).output


@dsl.pipeline(name="after-across-groups")
def after_across_groups(items: list = ["a", "b"]):  # noqa: B006
    """`.after()` on a whole loop and on a nested pipeline, from outside both, and from inside a
    loop on a task outside it."""
    first = tag(text="first")
    with dsl.ParallelFor(items=items) as item:
        looped = tag(text=item).after(first)
    inner = tagged(text="inner")
    last = tag(text="last")
    last.after(looped)
    last.after(inner)


@dsl.component(base_image="python:3.11")
def may_fail(should_fail: bool) -> str:
    if should_fail:
        raise RuntimeError("failed on purpose")
    return "fine"


@dsl.component(base_image="python:3.11")
def always_report(text: str) -> str:
    return f"report: {text}"


@dsl.pipeline(name="ignore-upstream-failure")
def ignore_upstream_failure(should_fail: bool = True):
    """A clean-up task that runs after an upstream failure (the run still fails)."""
    upstream = may_fail(should_fail=should_fail)
    always_report(text="after upstream").after(upstream).ignore_upstream_failure()
