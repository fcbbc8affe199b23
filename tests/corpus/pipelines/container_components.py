# ruff: noqa: UP006, UP014, UP035, UP045 -- typing.List/Optional/NamedTuple as KFP's docs write them; the SDK reads them
"""Container components (`@dsl.container_component` returning `dsl.ContainerSpec`) using every
placeholder of the IR: input value, input path, input URI, output path, output URI, output
parameter file, `dsl.ConcatPlaceholder`, `dsl.IfPresentPlaceholder`, input and output metadata.

kfp.local's SubprocessRunner refuses container components (they need Docker), so the corpus
index gives each of these pipelines an explicit expected result."""

from typing import Optional

from kfp import dsl
from kfp.dsl import Dataset, Input, Model, Output, OutputPath


@dsl.container_component
def say_hello(name: str, greeting: OutputPath(str)):
    # KFP docs, "Container Components": the hello-world example (printf: no trailing newline).
    return dsl.ContainerSpec(image="alpine", command=["sh", "-c", 'printf "Hello, %s!" "$0" | tee "$1"'],
                             args=[name, greeting])


@dsl.pipeline(name="container-hello")
def container_hello(name: str = "Argo") -> str:
    return say_hello(name=name).outputs["greeting"]


@dsl.component(base_image="python:3.11")
def make_text(text: str, data: Output[Dataset]):
    with open(data.path, "w") as f:
        f.write(text)
    data.metadata["rows"] = len(text.splitlines())
    data.metadata["lang"] = "en"


@dsl.container_component
def shout(data: Input[Dataset], upper: Output[Dataset], rows: OutputPath(int)):
    """Input path, input metadata (one key), output path, output parameter file."""
    return dsl.ContainerSpec(
        image="alpine",
        command=["sh", "-c", 'tr a-z A-Z < "$0" > "$1" && printf "%s" "$2" > "$3"'],
        args=[data.path, upper.path, data.metadata["rows"], rows])


@dsl.component(base_image="python:3.11")
def read_upper(upper: Input[Dataset], rows: int) -> str:
    with open(upper.path) as f:
        return f"{rows}:{f.read()}"


@dsl.pipeline(name="container-artifacts")
def container_artifacts(text: str = "one line") -> str:
    """A Python component feeds a container component, which feeds a Python component.
    (A default holding a newline would break the IR file: kfp 2.17.0 writes defaults into the
    file's header comment unescaped, so the run passes the two-line text as an argument.)"""
    made = make_text(text=text)
    shouted = shout(data=made.outputs["data"])
    return read_upper(upper=shouted.outputs["upper"], rows=shouted.outputs["rows"]).output


@dsl.container_component
def locations(data: Input[Dataset], model: Output[Model], report: OutputPath(str)):
    """Input URI, output URI, whole input and output metadata, and a ConcatPlaceholder."""
    return dsl.ContainerSpec(
        image="alpine",
        command=["sh", "-c", 'mkdir -p "$0" && printf "%s" "$1" > "$0/uri.txt" && printf "%s\\n%s\\n%s" "$1" "$2" "$3" > "$4"'],
        args=[model.path, model.uri, data.uri, dsl.ConcatPlaceholder(["in=", data.metadata, ";out=", model.metadata]),
              report])


@dsl.pipeline(name="container-uris")
def container_uris(text: str = "payload"):
    made = make_text(text=text)
    locations(data=made.outputs["data"])


@dsl.container_component
def maybe_flag(out: OutputPath(str), suffix: Optional[str] = None, label: str = "plain"):
    """IfPresentPlaceholder with then and else, inside and beside a ConcatPlaceholder."""
    return dsl.ContainerSpec(
        image="alpine",
        command=["sh", "-c", 'printf "%s|" "$@" > "$0"'],
        args=[out, dsl.ConcatPlaceholder(["label=", label]),
              dsl.IfPresentPlaceholder(input_name="suffix", then=["--suffix", suffix], else_=["--no-suffix"]),
              dsl.ConcatPlaceholder(["x-", dsl.IfPresentPlaceholder(input_name="suffix", then=suffix, else_="none")])])


@dsl.pipeline(name="container-if-present")
def container_if_present(suffix: str = "v2"):
    maybe_flag(suffix=suffix, label="given").set_display_name("with suffix")
    maybe_flag().set_display_name("without suffix")


@dsl.container_component
def python_script(count: int, factor: float, lines: Output[Dataset], total: OutputPath(float)):
    """A container component whose program is an inline Python script on a slim image."""
    script = ("import sys\n"
              "count, factor, lines, total = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3], sys.argv[4]\n"
              "open(lines, 'w').write(''.join(f'{i}\\n' for i in range(count)))\n"
              "open(total, 'w').write(repr(sum(range(count)) * factor))\n")
    return dsl.ContainerSpec(image="python:3.12-slim", command=["python3", "-c", script],
                             args=[count, factor, lines.path, total])


@dsl.component(base_image="python:3.11")
def check_lines(lines: Input[Dataset], total: float) -> str:
    with open(lines.path) as f:
        return f"{len(f.read().splitlines())} lines, total {total}"


@dsl.pipeline(name="container-python-script")
def container_python_script(count: int = 5, factor: float = 0.5) -> str:
    script = python_script(count=count, factor=factor)
    return check_lines(lines=script.outputs["lines"], total=script.outputs["total"]).output


@dsl.container_component
def print_env(out: OutputPath(str)):
    return dsl.ContainerSpec(image="alpine", command=["sh", "-c", 'printf "%s/%s" "$GREETING" "$TARGET" > "$0"'],
                             args=[out])


@dsl.pipeline(name="container-env")
def container_env():
    """Environment variables set on a container component's task."""
    task = print_env()
    task.set_env_variable("GREETING", "hola")
    task.set_env_variable("TARGET", "mundo {{ not a template }}")
