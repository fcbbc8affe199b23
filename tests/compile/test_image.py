"""The component image's Dockerfile: non-root, pinned base, tagged with the package version,
and holding every third-party module the components import."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib import metadata
from pathlib import Path

from portway import __version__
from portway.compile.argo import RUN_AS_USER
from portway.config import DEFAULT_IMAGE, IMAGE_REPOSITORY

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = (ROOT / "Dockerfile").read_text()
# What runs inside the image: the components and the modules they import (KFP's executor runs them).
RUNTIME = ["components", "src/portway/steps", "src/portway/registry", "src/portway/report", "src/portway/datasets",
           "src/portway/trainjob", "src/portway/objectstore.py", "src/portway/fileio.py", "src/portway/names.py",
           "src/portway/errors.py", "src/portway/config.py"]


def instructions(name: str) -> list[str]:
    return [line.split(None, 1)[1] for line in DOCKERFILE.splitlines() if line.split(None, 1)[:1] == [name]]


def image_requirements() -> list[str]:
    install = DOCKERFILE[DOCKERFILE.index("/opt/portway/bin/pip install \\"):]
    return re.findall(r'"([^"]+)"', install.split("\n\nFROM")[0])


def test_runs_as_the_non_root_user_the_pods_expect():
    assert instructions("USER") == [f"{RUN_AS_USER}:{RUN_AS_USER}"]
    assert f"--uid {RUN_AS_USER}" in DOCKERFILE
    assert not instructions("ENTRYPOINT") and not instructions("CMD")  # the compiled spec gives the command


def test_base_image_is_pinned():
    (default,) = re.findall(r"^ARG PYTHON_IMAGE=(\S+)$", DOCKERFILE, re.M)
    assert re.fullmatch(r"python:3\.11\.\d+-slim-bookworm(@sha256:[0-9a-f]{64})?", default), default
    assert instructions("FROM") == ["${PYTHON_IMAGE} AS build", "${PYTHON_IMAGE}"]
    assert "latest" not in DOCKERFILE.lower()


def test_tag_is_the_package_version_everywhere():
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert __version__.split("+")[0] == version
    assert DEFAULT_IMAGE == f"{IMAGE_REPOSITORY}:{version}"
    makefile = (ROOT / "Makefile").read_text()
    image_target = makefile[makefile.index("\nimage:"):].split("\n\n")[0]
    assert "DEFAULT_IMAGE" in image_target and "--build-arg PORTWAY_VERSION=" in image_target
    assert 'org.opencontainers.image.version="${PORTWAY_VERSION}"' in DOCKERFILE


def test_image_requirements_match_pyproject():
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    for requirement in image_requirements():
        assert requirement in declared, f"{requirement} differs from pyproject.toml's dependencies"
    names = {re.split(r"[<>=!]", r)[0].lower() for r in image_requirements()}
    assert not names & {"mlserver", "mlserver-xgboost", "helm-python-sdk"}  # CLI-only, kept out


def _closure(names: set[str]) -> set[str]:
    """The distributions `names` pull in (their requirements, recursively, without extras)."""
    seen, todo = set(), [n.lower() for n in names]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue
        for requirement in requires:
            if "extra ==" not in requirement:
                todo.append(re.split(r"[\s<>=!;\[(~]", requirement, maxsplit=1)[0].lower().replace("_", "-"))
    return seen


def test_every_module_the_components_import_is_in_the_image():
    imported = set()
    for entry in RUNTIME:
        path = ROOT / entry
        for source in ([path] if path.is_file() else path.rglob("*.py")):
            for node in ast.walk(ast.parse(source.read_text())):
                if isinstance(node, ast.Import):
                    imported |= {alias.name.split(".")[0] for alias in node.names}
                elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    imported.add(node.module.split(".")[0])
    third_party = {m for m in imported if m not in sys.stdlib_module_names and m not in ("portway", "__future__")}
    providers = metadata.packages_distributions()
    in_image = _closure({re.split(r"[<>=!]", r)[0] for r in image_requirements()})
    missing = {m for m in third_party if not {d.lower() for d in providers.get(m, [m])} & in_image}
    assert third_party and not missing, f"imported by the components but not installed in the image: {missing}"
