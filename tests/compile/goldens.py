"""Golden files of the compiled pipelines: normalised, compared, rewritten only with --update-goldens."""

from __future__ import annotations

from pathlib import Path

import yaml

from portway import __version__
from portway.compile.argo.caching import project_code_digest
from portway.config import DEFAULT_IMAGE

GOLDEN_DIR = Path(__file__).resolve().parents[1] / "golden"
REGENERATE = "regenerate with `make golden` (pytest tests/compile --update-goldens) and review the diff"


def normalise(value, image: str = DEFAULT_IMAGE):
    """Replace what changes without the pipeline changing: SDK version, image, package version."""
    if isinstance(value, dict):
        return {k: ("kfp-<SDK>" if k == "sdkVersion" else normalise(v, image)) for k, v in value.items()}
    if isinstance(value, list):
        return [normalise(v, image) for v in value]
    if isinstance(value, str):
        # The Argo target's memoize keys carry a digest of the project's sources, which any edit changes.
        value = value.replace(image, "<IMAGE>").replace(f"'{project_code_digest()[:16]}'", "'<SOURCES>'")
        return "<VERSION>" if value == __version__ else value
    return value


def _dump(documents: list) -> str:
    import hera.workflows  # noqa: F401  (hera registers a YAML style: block scalars for multi-line code)

    return yaml.safe_dump_all(documents, sort_keys=True, width=120)


def check_golden(name: str, documents: list[dict], update: bool) -> None:
    """Compare as data (the YAML text style may vary with what registered representers); the
    failure message shows a text diff of both sides dumped the same way."""
    documents = [normalise(d) for d in documents]
    path = GOLDEN_DIR / name
    if update:
        path.write_text(_dump(documents))
        return
    assert path.exists(), f"golden file {path} is missing; {REGENERATE}"
    expected = list(yaml.safe_load_all(path.read_text()))
    if documents != expected:
        import difflib

        diff = "".join(difflib.unified_diff(_dump(expected).splitlines(True), _dump(documents).splitlines(True),
                                            str(path), "compiled", n=2))
        raise AssertionError(f"compiled output differs from {path.name}; if the change is intended, {REGENERATE}.\n"
                             f"{diff[:6000]}")
