"""Small KFP pipelines in the forms the SDK emits, for the Argo package's unit tests (not run here)."""

# No `from __future__ import annotations`: KFP reads the annotations as types.
from kfp import dsl
from kfp.dsl import Dataset, Input, Model, Output, OutputPath


@dsl.component(base_image="python:3.11-slim", packages_to_install=["numpy==2.1.0"])
def make(rows: int, scale: float, model: Output[Model], note: OutputPath(str)) -> dict:
    return {"rows": rows, "scale": scale}


@dsl.component(base_image="python:3.11-slim", install_kfp_package=False)
def check(model: Input[Model], flag: bool = True, tag: str = "x") -> str:
    return model.uri


@dsl.container_component
def copy(source: Input[Dataset], label: str, out: Output[Dataset], count: dsl.OutputPath(int)):
    return dsl.ContainerSpec(
        image="busybox:1.36",
        command=["sh", "-c", dsl.ConcatPlaceholder(["cp ", source.path, " ", out.path, " && echo 1 > ", count])],
        args=[dsl.IfPresentPlaceholder(input_name="label", then=["--label", label], else_=["--no-label"]),
              source.uri, source.metadata, out.uri],
    )


@dsl.pipeline(name="forms")
def forms(rows: int = 3, scale: float = 0.5, name: str = "it's {{x}}", data: Input[Dataset] = None):
    made = make(rows=rows, scale=scale).set_retry(num_retries=2, backoff_duration="5s", backoff_factor=2,
                                                 backoff_max_duration="60s")
    check(model=made.outputs["model"])
    imported = dsl.importer(artifact_uri="s3://portway-artifacts/data/in.csv", artifact_class=Dataset,
                            metadata={"source": "lake"})
    copy(source=imported.output, label=name)
    copy(source=data, label="pipeline-input").set_caching_options(False)


@dsl.component(base_image="python:3.11-slim")
def coin(seed: int) -> str:
    return "heads" if seed % 2 else "tails"


@dsl.component(base_image="python:3.11-slim")
def say(text: str) -> str:
    return text


@dsl.pipeline(name="branches")
def branches(seed: int = 1, word: str = "heads"):
    flip = coin(seed=seed)
    with dsl.If(flip.output == word):
        say(text="matched")
    with dsl.Else():
        say(text="other")
    with dsl.ParallelFor(items=[1, 2, 3], parallelism=2) as item:
        coin(seed=item)
