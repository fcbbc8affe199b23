# ruff: noqa: UP006, UP014, UP035, UP045 -- typing.List/Optional/NamedTuple as KFP's docs write them; the SDK reads them
"""Parameters of every type KFP has, with the values that break naive string templating."""

from typing import NamedTuple, Optional

from kfp import dsl

# Quotes, shell and template syntax, unicode: each must reach the step byte for byte.
TRICKY_TEXT = "it's \"quoted\" {{workflow.name}} {{inputs.parameters.text}} $HOME `id` \\n ünïcødé 🚀 50%"


@dsl.component(base_image="python:3.11")
def echo_text(text: str) -> str:
    return text


@dsl.component(base_image="python:3.11")
def text_facts(text: str) -> NamedTuple("Facts", [("length", int), ("upper", str), ("has_braces", bool)]):
    from collections import namedtuple

    facts = namedtuple("Facts", ["length", "upper", "has_braces"])
    return facts(len(text), text.upper(), "{{" in text)


@dsl.pipeline(name="tricky-strings")
def tricky_strings(text: str = TRICKY_TEXT):
    """Strings with quotes, braces, `$` and unicode, as arguments and as outputs."""
    echoed = echo_text(text=text)
    text_facts(text=echoed.output)
    echo_text(text="constant with {{ braces }} and $(dollar) and 'quotes'").set_display_name("constant text")


@dsl.component(base_image="python:3.11")
def int_math(big: int, small: int) -> NamedTuple("IntOut", [("total", int), ("product", int)]):
    from collections import namedtuple

    return namedtuple("IntOut", ["total", "product"])(big + small, big * small)


@dsl.component(base_image="python:3.11")
def float_math(x: float, y: float) -> float:
    return x / y


@dsl.component(base_image="python:3.11")
def negate(flag: bool) -> bool:
    return not flag


@dsl.pipeline(name="numbers-and-bools")
def numbers_and_bools(big: int = 9007199254740993, small: int = -7, x: float = 1e-3, y: float = 3.0,
                      flag: bool = True):
    """Integers past 2**53 (lost through a float), negative numbers, floats, booleans."""
    int_math(big=big, small=small)
    float_math(x=x, y=y)
    negate(flag=flag)


@dsl.component(base_image="python:3.11")
def summarize(config: dict, names: list) -> NamedTuple("Summary", [("keys", list), ("count", int), ("config", dict)]):
    from collections import namedtuple

    out = namedtuple("Summary", ["keys", "count", "config"])
    return out(sorted(config), len(names), {**config, "names": names})


@dsl.component(base_image="python:3.11")
def lookup(config: dict, key: str) -> str:
    import json

    return json.dumps(config.get(key), sort_keys=True)


@dsl.pipeline(name="lists-and-dicts")
def lists_and_dicts(config: dict = {"lr": 0.1, "layers": [64, 32], "nested": {"on": True, "name": "ü"}},  # noqa: B006
                    names: list = ["a", "b", "c"]):  # noqa: B006
    """JSON-typed parameters: dicts and lists, nested, passed on and returned."""
    summary = summarize(config=config, names=names)
    lookup(config=summary.outputs["config"], key="nested")


@dsl.component(base_image="python:3.11")
def greet(name: str = "world", greeting: Optional[str] = None, times: int = 1, excited: bool = False) -> str:
    text = f"{greeting or 'Hello'}, {name}" + ("!" if excited else ".")
    return " ".join([text] * times)


@dsl.pipeline(name="optional-inputs")
def optional_inputs(name: str = "Ada", greeting: str = "Hey"):
    """Optional component inputs and defaults: inputs never passed, inputs passed from the pipeline."""
    greet(name=name, greeting=greeting).set_display_name("pipeline defaults")
    greet().set_display_name("component defaults")
    greet(name="Grace", greeting="Hi", times=2, excited=True).set_display_name("every input")


@dsl.pipeline(name="optional-pipeline-input")
def optional_pipeline_input(name: str = "Ada", greeting: Optional[str] = None) -> str:
    """An optional pipeline input left without a value: the component sees None."""
    return greet(name=name, greeting=greeting).output


@dsl.pipeline(name="required-inputs")
def required_inputs(name: str, count: int, ratio: float, enabled: bool, tags: list, extra: dict) -> str:
    """Every pipeline input is required (no defaults); the run passes them all."""
    text = greet(name=name, times=count, excited=enabled)
    summarize(config=extra, names=tags)
    float_math(x=ratio, y=2.0)
    return text.output
