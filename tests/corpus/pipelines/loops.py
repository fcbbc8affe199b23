# ruff: noqa: UP006, UP014, UP035, UP045 -- typing.List/Optional/NamedTuple as KFP's docs write them; the SDK reads them
"""dsl.ParallelFor over constants, pipeline parameters and task outputs (numbers, strings,
dicts with field selectors), over artifacts, nested, with `parallelism`."""

from typing import List

from kfp import dsl
from kfp.dsl import Dataset, Input, Output


@dsl.component(base_image="python:3.11")
def square(x: int) -> int:
    return x * x


@dsl.component(base_image="python:3.11")
def shout(text: str) -> str:
    return text.upper() + "!"


@dsl.pipeline(name="loop-over-constants")
def loop_over_constants():
    with dsl.ParallelFor(items=[1, 2, 3], parallelism=2) as x:
        square(x=x)
    with dsl.ParallelFor(items=["a b", "ü", "it's"]) as word:
        shout(text=word)


@dsl.component(base_image="python:3.11")
def train(lr: float, depth: int, label: str) -> str:
    return f"{label}: lr={lr} depth={depth}"


@dsl.pipeline(name="loop-over-dicts")
def loop_over_dicts(grid: list = [{"lr": 0.1, "depth": 3, "label": "small"},  # noqa: B006
                                  {"lr": 0.01, "depth": 6, "label": "large"}]):
    """A pipeline parameter holding dicts, with field selectors on the loop item."""
    with dsl.ParallelFor(items=grid, parallelism=1) as cfg:
        train(lr=cfg.lr, depth=cfg.depth, label=cfg.label)  # not `.name`: a channel attribute


@dsl.component(base_image="python:3.11")
def make_items(n: int) -> List[int]:
    return list(range(1, n + 1))


@dsl.component(base_image="python:3.11")
def make_configs(prefix: str) -> list:
    return [{"label": f"{prefix}-{i}", "size": i * 10} for i in range(2)]


@dsl.component(base_image="python:3.11")
def describe(label: str, size: int) -> str:
    return f"{label}={size}"


@dsl.pipeline(name="loop-over-task-output")
def loop_over_task_output(n: int = 3, prefix: str = "cfg"):
    """Items from an upstream task: a list of ints, and a list of dicts with field selectors."""
    items = make_items(n=n)
    with dsl.ParallelFor(items=items.output) as x:
        square(x=x)
    configs = make_configs(prefix=prefix)
    with dsl.ParallelFor(items=configs.output) as cfg:
        describe(label=cfg.label, size=cfg.size)


@dsl.pipeline(name="loop-over-parameter")
def loop_over_parameter(words: list = ["alpha", "beta"], rounds: int = 2):  # noqa: B006
    with dsl.ParallelFor(items=words) as word:
        shout(text=word)
        square(x=rounds)


@dsl.component(base_image="python:3.11")
def pair(a: int, b: str) -> str:
    return f"{a}{b}"


@dsl.pipeline(name="nested-loops")
def nested_loops(letters: list = ["x", "y"]):  # noqa: B006
    """A loop inside a loop; the inner task reads both loop items."""
    with dsl.ParallelFor(items=[1, 2]) as number:
        with dsl.ParallelFor(items=letters, parallelism=1) as letter:
            pair(a=number, b=letter)


@dsl.component(base_image="python:3.11")
def make_shard(index: int, shard: Output[Dataset]):
    with open(shard.path, "w") as f:
        f.write(f"shard {index}\n" * (index + 1))
    shard.metadata["index"] = index


@dsl.component(base_image="python:3.11")
def shard_size(shard: Input[Dataset]) -> int:
    with open(shard.path) as f:
        return len(f.read())


@dsl.pipeline(name="loop-over-artifacts")
def loop_over_artifacts():
    """An artifact made in each iteration and read in the same iteration."""
    with dsl.ParallelFor(items=[0, 1, 2], parallelism=2) as index:
        made = make_shard(index=index)
        shard_size(shard=made.outputs["shard"])


@dsl.pipeline(name="loop-item-condition")
def loop_item_condition(threshold: int = 2):
    """A condition on the loop item inside the loop."""
    with dsl.ParallelFor(items=[1, 2, 3]) as x:
        with dsl.If(x > threshold):
            square(x=x)


@dsl.pipeline(name="loop-field-condition")
def loop_field_condition(grid: list = [{"label": "small", "depth": 3},  # noqa: B006
                                       {"label": "large", "depth": 8}]):
    """A condition on a field of the loop item (a string: the KFP compiler quotes the constant it
    compares a loop item's field with, so a number would be compared as text)."""
    with dsl.ParallelFor(items=grid) as cfg:
        with dsl.If(cfg.label == "large"):
            train(lr=0.5, depth=cfg.depth, label=cfg.label)
