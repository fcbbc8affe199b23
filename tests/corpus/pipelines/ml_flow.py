# ruff: noqa: UP006, UP014, UP035, UP045 -- typing.List/Optional/NamedTuple as KFP's docs write them; the SDK reads them
"""Ordinary ML-shaped pipelines (pure Python, tiny data): split, train, evaluate, pipeline
outputs that are artifacts, directories of files, one component used several times."""

from typing import NamedTuple

from kfp import dsl
from kfp.dsl import Artifact, Dataset, Input, Metrics, Model, Output


@dsl.component(base_image="python:3.11")
def generate(n: int, seed: int, table: Output[Dataset]):
    import random

    rng = random.Random(seed)
    with open(table.path, "w") as f:
        f.write("feature,label\n")
        for _ in range(n):
            x = rng.randint(0, 100)
            f.write(f"{x},{int(x > 50)}\n")
    table.metadata["rows"] = n


@dsl.component(base_image="python:3.11")
def split(table: Input[Dataset], test_fraction: float, train: Output[Dataset], test: Output[Dataset]):
    with open(table.path) as f:
        header, *rows = f.read().splitlines()
    cut = int(len(rows) * (1 - test_fraction))
    for artifact, part in ((train, rows[:cut]), (test, rows[cut:])):
        with open(artifact.path, "w") as f:
            f.write("\n".join([header, *part]) + "\n")
        artifact.metadata["rows"] = len(part)


@dsl.component(base_image="python:3.11")
def fit_threshold(train: Input[Dataset], model: Output[Model]):
    import json

    with open(train.path) as f:
        rows = [tuple(map(int, line.split(","))) for line in f.read().splitlines()[1:]]
    positives = [x for x, y in rows if y == 1] or [50]
    threshold = min(positives)
    with open(model.path, "w") as f:
        json.dump({"threshold": threshold}, f)
    model.metadata["threshold"] = threshold


@dsl.component(base_image="python:3.11")
def score_model(model: Input[Model], test: Input[Dataset], metrics: Output[Metrics]) -> float:
    import json

    with open(model.path) as f:
        threshold = json.load(f)["threshold"]
    with open(test.path) as f:
        rows = [tuple(map(int, line.split(","))) for line in f.read().splitlines()[1:]]
    accuracy = sum(int(x >= threshold) == y for x, y in rows) / max(1, len(rows))
    metrics.log_metric("accuracy", accuracy)
    metrics.log_metric("test_rows", len(rows))
    return accuracy


@dsl.pipeline(name="train-and-evaluate")
def train_and_evaluate(n: int = 40, seed: int = 7, test_fraction: float = 0.25) -> float:
    table = generate(n=n, seed=seed)
    parts = split(table=table.outputs["table"], test_fraction=test_fraction)
    model = fit_threshold(train=parts.outputs["train"])
    return score_model(model=model.outputs["model"], test=parts.outputs["test"]).outputs["Output"]


@dsl.pipeline(name="pipeline-artifact-outputs")
def pipeline_artifact_outputs(n: int = 20) -> NamedTuple("Outputs", [("model", Model), ("metrics", Metrics)]):
    """A pipeline whose outputs are artifacts (a NamedTuple of Model and Metrics)."""
    table = generate(n=n, seed=1)
    parts = split(table=table.outputs["table"], test_fraction=0.5)
    model = fit_threshold(train=parts.outputs["train"])
    scored = score_model(model=model.outputs["model"], test=parts.outputs["test"])
    outputs = NamedTuple("Outputs", [("model", Model), ("metrics", Metrics)])
    return outputs(model=model.outputs["model"], metrics=scored.outputs["metrics"])


@dsl.component(base_image="python:3.11")
def write_tree(depth: int, tree: Output[Artifact]):
    import os

    for level in range(depth):
        folder = os.path.join(tree.path, *[f"level{i}" for i in range(level + 1)])
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, "data.txt"), "w") as f:
            f.write(f"level {level}\n")
    with open(os.path.join(tree.path, "bytes.bin"), "wb") as f:
        f.write(bytes(range(256)))
    tree.metadata["depth"] = depth


@dsl.component(base_image="python:3.11")
def list_tree(tree: Input[Artifact]) -> list:
    import os

    found = []
    for root, _, files in os.walk(tree.path):
        for name in files:
            found.append(os.path.relpath(os.path.join(root, name), tree.path))
    return sorted(found)


@dsl.pipeline(name="directory-artifacts")
def directory_artifacts(depth: int = 3) -> list:
    """An artifact that is a directory tree (with binary bytes), listed downstream."""
    tree = write_tree(depth=depth)
    return list_tree(tree=tree.outputs["tree"]).output


@dsl.component(base_image="python:3.11")
def append(text: str, suffix: str) -> str:
    return text + suffix


@dsl.pipeline(name="reused-component")
def reused_component(start: str = "a") -> str:
    """One component used four times (KFP names the tasks append, append-2, ...)."""
    one = append(text=start, suffix="b")
    two = append(text=one.output, suffix="c")
    three = append(text=two.output, suffix="d")
    return append(text=three.output, suffix="e").output


@dsl.component(base_image="python:3.11")
def stats(values: list) -> NamedTuple("Stats", [("mean", float), ("maximum", int), ("empty", bool), ("name", str)]):
    from collections import namedtuple

    out = namedtuple("Stats", ["mean", "maximum", "empty", "name"])
    return out(sum(values) / len(values), int(max(values)), not values, "stats")  # list numbers arrive as floats


@dsl.component(base_image="python:3.11")
def format_stats(mean: float, maximum: int, empty: bool, name: str) -> str:
    return f"{name}: mean={mean} max={maximum} empty={empty}"


@dsl.pipeline(name="named-tuple-outputs")
def named_tuple_outputs(values: list = [3, 1, 4, 1, 5]) -> str:  # noqa: B006
    """A NamedTuple of typed outputs, each consumed by name."""
    s = stats(values=values)
    return format_stats(mean=s.outputs["mean"], maximum=s.outputs["maximum"], empty=s.outputs["empty"],
                        name=s.outputs["name"]).output


@dsl.component(base_image="python:3.11")
def count_rows(table: Input[Dataset], label: str) -> str:
    with open(table.path) as f:
        return f"{label}: {len(f.read().splitlines()) - 1} rows"


@dsl.component(base_image="python:3.11")
def pair(left: str, right: str) -> NamedTuple("Pair", [("first", str), ("second", str)]):
    from collections import namedtuple

    return namedtuple("Pair", ["first", "second"])(left.upper(), right.upper())


@dsl.pipeline(name="one-component-on-each-output")
def one_component_on_each_output(n: int = 20) -> str:
    """One component reading a different output of the same upstream in each of its tasks (a large
    document shares one Argo template between them, each task picking its own output)."""
    table = generate(n=n, seed=7)
    parts = split(table=table.outputs["table"], test_fraction=0.25)
    train_rows = count_rows(table=parts.outputs["train"], label="train")
    test_rows = count_rows(table=parts.outputs["test"], label="test")
    names = pair(left=train_rows.output, right=test_rows.output)
    first = append(text=names.outputs["first"], suffix="!")
    second = append(text=names.outputs["second"], suffix="!")
    return append(text=first.output, suffix=second.output).output
