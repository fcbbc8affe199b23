"""dsl.If / dsl.Elif / dsl.Else with every condition form the KFP compiler emits: comparisons of
strings, integers, floats and booleans, of pipeline inputs and task outputs, nested (and-ed)
conditions, and runtime values that look like condition syntax."""

from kfp import dsl


@dsl.component(base_image="python:3.11")
def classify(score: float) -> str:
    return "high" if score >= 0.8 else "medium" if score >= 0.5 else "low"


@dsl.component(base_image="python:3.11")
def report(message: str) -> str:
    print(message)
    return message


@dsl.pipeline(name="if-elif-else")
def if_elif_else(score: float = 0.6):
    """KFP docs' dsl.If/Elif/Else example, on a task output (a string)."""
    label = classify(score=score)
    with dsl.If(label.output == "high"):
        report(message="ship it")
    with dsl.Elif(label.output == "medium"):
        report(message="needs review")
    with dsl.Else():
        report(message="rejected")


@dsl.pipeline(name="numeric-conditions")
def numeric_conditions(count: int = 7, ratio: float = 0.25, threshold: int = 5):
    """Integer and float comparisons (>, >=, <, <=, ==, !=) against constants and parameters."""
    with dsl.If(count > threshold):
        report(message="count above threshold")
    with dsl.If(count <= 7):
        report(message="count at most 7")
    with dsl.If(ratio < 0.5):
        report(message="ratio below one half")
    with dsl.If(ratio >= 0.5):
        report(message="ratio at least one half")
    with dsl.If(count == 7):
        report(message="count is seven")
    with dsl.If(count != 7):
        report(message="count is not seven")


@dsl.component(base_image="python:3.11")
def is_even(n: int) -> bool:
    return n % 2 == 0


@dsl.pipeline(name="boolean-conditions")
def boolean_conditions(enabled: bool = True, n: int = 4):
    """Boolean pipeline inputs and boolean task outputs, compared with True and False."""
    with dsl.If(enabled == True):  # noqa: E712 (KFP conditions are built from comparisons)
        report(message="enabled")
    with dsl.If(enabled == False):  # noqa: E712
        report(message="disabled")
    even = is_even(n=n)
    with dsl.If(even.output == True):  # noqa: E712
        report(message="even")
    with dsl.Else():
        report(message="odd")


@dsl.pipeline(name="nested-conditions")
def nested_conditions(stage: str = "prod", replicas: int = 3):
    """A condition inside a condition: both must hold (the compiler and-s them)."""
    with dsl.If(stage == "prod"):
        with dsl.If(replicas > 2):
            report(message="prod, scaled out")
        with dsl.Else():
            report(message="prod, small")
    with dsl.Elif(stage == "dev"):
        report(message="dev")


@dsl.component(base_image="python:3.11")
def passthrough(text: str) -> str:
    return text


@dsl.pipeline(name="condition-injection")
def condition_injection(text: str = "x' == 'x' || 'a"):
    """A runtime value that looks like condition syntax must be compared, never evaluated."""
    value = passthrough(text=text)
    with dsl.If(value.output == "safe"):
        report(message="matched safe (must not run)")
    with dsl.Else():
        report(message="not safe")
    with dsl.If(text == "x"):
        report(message="input equals x (must not run)")


@dsl.pipeline(name="condition-between-tasks")
def condition_between_tasks(score: float = 0.9) -> str:
    """A branch's task consumed after the branch (KFP passes the output through dsl.OneOf only;
    here the downstream task sits inside the same branch)."""
    label = classify(score=score)
    with dsl.If(label.output != "low"):
        first = report(message="first")
        second = report(message=first.output)
        second.after(first)
    return label.output
