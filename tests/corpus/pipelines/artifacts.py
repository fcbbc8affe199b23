"""Artifacts of every KFP type, with metadata, as files and as directories, read downstream
through `path`, `uri` and `metadata`; an importer; artifact-typed pipeline inputs."""

from kfp import dsl
from kfp.dsl import HTML, ClassificationMetrics, Dataset, Input, Markdown, Metrics, Model, Output


@dsl.component(base_image="python:3.11")
def make_dataset(rows: int, dataset: Output[Dataset]):
    with open(dataset.path, "w") as f:
        f.write("x,y\n")
        for i in range(rows):
            f.write(f"{i},{i * i}\n")
    dataset.metadata["rows"] = rows
    dataset.metadata["columns"] = ["x", "y"]


@dsl.component(base_image="python:3.11")
def train_model(dataset: Input[Dataset], model: Output[Model]) -> str:
    import json
    import os

    with open(dataset.path) as f:
        lines = f.read().splitlines()[1:]
    slope = sum(int(line.split(",")[1]) for line in lines) / max(1, len(lines))
    # A model is a directory: weights and a config file.
    os.makedirs(model.path, exist_ok=True)
    with open(os.path.join(model.path, "weights.json"), "w") as f:
        json.dump({"slope": slope}, f)
    os.makedirs(os.path.join(model.path, "config"), exist_ok=True)
    with open(os.path.join(model.path, "config", "train.txt"), "w") as f:
        f.write(f"trained on {dataset.metadata['rows']} rows\n")
    model.metadata["framework"] = "toy"
    model.metadata["slope"] = slope
    return os.path.basename(dataset.uri.rstrip("/"))


@dsl.component(base_image="python:3.11")
def evaluate_model(model: Input[Model], dataset: Input[Dataset], metrics: Output[Metrics],
                   confusion: Output[ClassificationMetrics], report: Output[HTML], notes: Output[Markdown]):
    import json
    import os

    with open(os.path.join(model.path, "weights.json")) as f:
        slope = json.load(f)["slope"]
    metrics.log_metric("slope", slope)
    metrics.log_metric("rows", dataset.metadata["rows"])
    confusion.log_confusion_matrix(["neg", "pos"], [[3, 1], [0, 4]])
    confusion.log_roc_curve(fpr=[0.0, 0.25, 1.0], tpr=[0.0, 1.0, 1.0], threshold=[1.0, 0.5, 0.0])
    with open(report.path, "w") as f:
        f.write(f"<html><body><h1>Slope {slope}</h1></body></html>")
    with open(notes.path, "w") as f:
        f.write(f"# Evaluation\n\n* framework: {model.metadata['framework']}\n")
    notes.metadata["title"] = "Evaluation notes"


@dsl.pipeline(name="artifact-types")
def artifact_types(rows: int = 4):
    """Dataset -> Model (a directory) -> Metrics, ClassificationMetrics, HTML and Markdown."""
    data = make_dataset(rows=rows)
    model = train_model(dataset=data.outputs["dataset"])
    evaluate_model(model=model.outputs["model"], dataset=data.outputs["dataset"])


@dsl.component(base_image="python:3.11")
def read_artifact(artifact: Input[dsl.Artifact]) -> str:
    with open(artifact.path) as f:
        return f"{f.read().strip()}|{sorted(artifact.metadata.items())}"


@dsl.pipeline(name="importer")
def importer(data_uri: str):
    """`dsl.importer` of an existing object, with metadata, read by a step."""
    imported = dsl.importer(artifact_uri=data_uri, artifact_class=dsl.Artifact, reimport=True,
                            metadata={"source": "corpus", "version": 3})
    read_artifact(artifact=imported.output)


@dsl.component(base_image="python:3.11")
def count_rows(dataset: Input[Dataset]) -> int:
    with open(dataset.path) as f:
        return len(f.read().splitlines()) - 1


@dsl.pipeline(name="artifact-pipeline-input")
def artifact_pipeline_input(dataset: Input[Dataset]) -> int:
    """A pipeline whose input is an artifact (its URI is given at submission)."""
    return count_rows(dataset=dataset).output


@dsl.component(base_image="python:3.11")
def write_outputs(text: str, out_file: dsl.OutputPath(str), blob: dsl.OutputPath("Dataset")):
    with open(out_file, "w") as f:
        f.write(text.upper())
    with open(blob, "w") as f:
        f.write(text[::-1])


@dsl.component(base_image="python:3.11")
def read_paths(value: str, blob: dsl.InputPath("Dataset")) -> str:
    with open(blob) as f:
        return f"{value}/{f.read()}"


@dsl.pipeline(name="input-output-paths")
def input_output_paths(text: str = "abc def"):
    """`OutputPath(str)` parameters and `InputPath`/`OutputPath` artifacts, the older style."""
    written = write_outputs(text=text)
    read_paths(value=written.outputs["out_file"], blob=written.outputs["blob"])
