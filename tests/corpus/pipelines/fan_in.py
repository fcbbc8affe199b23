# ruff: noqa: UP006, UP014, UP035, UP045 -- typing.List/Optional/NamedTuple as KFP's docs write them; the SDK reads them
"""dsl.Collected (fan-in of parameters and artifacts, also from nested loops and into a nested
pipeline), loops over collected artifacts, and dsl.OneOf of parameters and artifacts."""

from typing import List

from kfp import dsl
from kfp.dsl import Dataset, Input, Output


@dsl.component(base_image="python:3.11")
def double(x: int) -> int:
    return 2 * x


@dsl.component(base_image="python:3.11")
def total(numbers: List[int]) -> int:
    return int(sum(numbers))  # numbers in a list travel as JSON numbers


@dsl.pipeline(name="collected-parameters")
def collected_parameters() -> int:
    """KFP docs' fan-in example: sum the outputs of every iteration."""
    with dsl.ParallelFor(items=[1, 2, 3, 4]) as x:
        doubled = double(x=x)
    return total(numbers=dsl.Collected(doubled.output)).output


@dsl.component(base_image="python:3.11")
def write_part(text: str, part: Output[Dataset]):
    with open(part.path, "w") as f:
        f.write(text)
    part.metadata["text"] = text


@dsl.component(base_image="python:3.11")
def concatenate(parts: Input[List[Dataset]], merged: Output[Dataset]) -> int:
    texts = []
    for part in parts:
        with open(part.path) as f:
            texts.append(f.read())
    with open(merged.path, "w") as f:
        f.write("+".join(sorted(texts)))
    merged.metadata["parts"] = len(parts)
    return len(parts)


@dsl.pipeline(name="collected-artifacts")
def collected_artifacts(words: list = ["red", "green", "blue"]):  # noqa: B006
    with dsl.ParallelFor(items=words) as word:
        part = write_part(text=word)
    concatenate(parts=dsl.Collected(part.outputs["part"]))


@dsl.component(base_image="python:3.11")
def count_all(values: list) -> str:
    # Collected from a loop in a loop: a list per outer iteration.
    flat = [v for inner in values for v in (inner if isinstance(inner, list) else [inner])]
    return ",".join(sorted(flat))


@dsl.component(base_image="python:3.11")
def label(a: int, b: str) -> str:
    return f"{a}-{b}"


@dsl.pipeline(name="collected-nested-loops")
def collected_nested_loops():
    """Collected from a loop nested in a loop (a list of lists, flattened by the consumer)."""
    with dsl.ParallelFor(items=[1, 2]) as a:
        with dsl.ParallelFor(items=["p", "q"]) as b:
            labelled = label(a=a, b=b)
    count_all(values=dsl.Collected(labelled.output))


@dsl.component(base_image="python:3.11")
def dataset_length(dataset: Input[Dataset]) -> int:
    with open(dataset.path) as f:
        return len(f.read())


@dsl.pipeline(name="sizes-of-datasets")
def sizes_of_datasets(datasets: Input[List[Dataset]]) -> List[int]:
    """A pipeline used as a component: it loops over a list of artifacts."""
    with dsl.ParallelFor(items=datasets) as dataset:
        length = dataset_length(dataset=dataset)
    return dsl.Collected(length.output)


@dsl.component(base_image="python:3.11")
def largest(sizes: List[int]) -> int:
    return int(max(sizes))


@dsl.pipeline(name="collected-into-nested-pipeline")
def collected_into_nested_pipeline(words: list = ["a", "bb", "cccc"]) -> int:  # noqa: B006
    """Collected artifacts passed into a nested pipeline that loops over them and fans in again."""
    with dsl.ParallelFor(items=words) as word:
        part = write_part(text=word)
    sizes = sizes_of_datasets(datasets=dsl.Collected(part.outputs["part"]))
    return largest(sizes=sizes.output).output


@dsl.component(base_image="python:3.11")
def pick(mode: str) -> str:
    return mode


@dsl.component(base_image="python:3.11")
def fast_path() -> str:
    return "fast result"


@dsl.component(base_image="python:3.11")
def slow_path(extra: str) -> str:
    return f"slow result ({extra})"


@dsl.component(base_image="python:3.11")
def report_choice(choice: str) -> str:
    return f"chose: {choice}"


@dsl.pipeline(name="one-of-parameters")
def one_of_parameters(mode: str = "slow") -> str:
    """dsl.OneOf: whichever branch ran provides the output (KFP docs' example shape)."""
    chosen = pick(mode=mode)
    with dsl.If(chosen.output == "fast"):
        fast = fast_path()
    with dsl.Else():
        slow = slow_path(extra="careful")
    result = dsl.OneOf(fast.output, slow.output)
    return report_choice(choice=result).output


@dsl.pipeline(name="one-of-artifacts")
def one_of_artifacts(use_short: bool = False) -> Dataset:
    """dsl.OneOf of artifacts from If/Else branches, consumed downstream and returned."""
    with dsl.If(use_short == True):  # noqa: E712
        short = write_part(text="short")
    with dsl.Else():
        long = write_part(text="a much longer text")
    chosen = dsl.OneOf(short.outputs["part"], long.outputs["part"])
    dataset_length(dataset=chosen)
    return chosen
