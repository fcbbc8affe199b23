"""Python function components in every form the KFP SDK emits: the default runtime `kfp`
install, `packages_to_install`, `pip_index_urls`, `install_kfp_package=False`, several
`base_image`s, and a containerized component (`target_image`)."""

from kfp import dsl

# An image that ships kfp itself, as `install_kfp_package=False` requires (KFP docs:
# "Lightweight Python Components" -> "install_kfp_package").
KFP_RUNTIME_IMAGE = "ghcr.io/portway-corpus/kfp-runtime:2.17.0"
CONTAINERIZED_IMAGE = "ghcr.io/portway-corpus/containerized-add:1.0"


@dsl.component
def say_hello(name: str) -> str:
    hello_text = f"Hello, {name}!"
    print(hello_text)
    return hello_text


@dsl.pipeline(name="hello-pipeline")
def hello_pipeline(recipient: str) -> str:
    """The first pipeline of KFP's "Hello World" guide: one component, default runtime."""
    hello_task = say_hello(name=recipient)
    return hello_task.output


@dsl.component(base_image="python:3.11")
def add(a: float, b: float) -> float:
    return a + b


@dsl.component(base_image="python:3.12-slim")
def multiply(a: float, factor: int) -> float:
    return a * factor


@dsl.component(base_image="python:3.13")
def describe(value: float) -> str:
    # Not the Python version: kfp.local runs every step with one interpreter, whatever the image.
    return f"{value:.3f}"


@dsl.pipeline(name="arithmetic")
def arithmetic(a: float = 1.5, b: float = 2.25, factor: int = 4) -> str:
    """A chain of steps on three different base images."""
    total = add(a=a, b=b)
    scaled = multiply(a=total.output, factor=factor)
    return describe(value=scaled.output).output


@dsl.component(base_image="python:3.11", packages_to_install=["six==1.16.0"])
def six_version(prefix: str) -> str:
    import six

    return f"{prefix}{six.__version__}:{six.text_type.__name__}"


@dsl.pipeline(name="packages-to-install")
def packages_to_install(prefix: str = "six=") -> str:
    return six_version(prefix=prefix).output


@dsl.component(base_image="python:3.11", packages_to_install=["tabulate==0.9.0"],
               pip_index_urls=["https://pypi.org/simple"])
def render_table(rows: list) -> str:
    from tabulate import tabulate

    return tabulate(rows, headers=["name", "score"], tablefmt="github")


@dsl.pipeline(name="pip-index-urls")
def pip_index_urls(rows: list = [["ada", 3], ["grace", 5]]) -> str:  # noqa: B006 (KFP reads the default)
    return render_table(rows=rows).output


@dsl.component(base_image=KFP_RUNTIME_IMAGE, install_kfp_package=False)
def word_count(text: str) -> int:
    return len(text.split())


@dsl.component(base_image=KFP_RUNTIME_IMAGE, install_kfp_package=False)
def is_long(count: int, limit: int) -> bool:
    return count > limit


@dsl.pipeline(name="no-kfp-install")
def no_kfp_install(text: str = "the quick brown fox jumps", limit: int = 3) -> bool:
    """Components whose image already holds kfp: no pip install at start."""
    count = word_count(text=text)
    return is_long(count=count.output, limit=limit).output


@dsl.component(base_image="python:3.11", target_image=CONTAINERIZED_IMAGE)
def containerized_add(a: int, b: int) -> int:
    return a + b


@dsl.pipeline(name="containerized-component")
def containerized_component(a: int = 2, b: int = 40) -> int:
    """`kfp component build` puts the component into target_image; the step runs it from there."""
    return containerized_add(a=a, b=b).output
