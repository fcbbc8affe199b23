"""Stand-ins for the public images Argo's examples and e2e suite use, run with this machine's tools.

- argoproj/argosay:v2: `FROM scratch`, the argosay binary only, run with no command as
  `argosay` (test/e2e/images/argosay/v2/Dockerfile; Argo's e2e controller config gives its
  command); here standins/argosay, a re-implementation of its Go source.
- argoproj/argosay:v1, docker/whalesay: Ubuntu with cowsay (argosay/v1/Dockerfile): the host's
  /bin tools plus standins/cowsay.
- busybox, alpine: the host's /bin tools, with `sh` being bash in POSIX mode (standins/ash/sh): BusyBox
  ash, their shell, has $RANDOM and other bash features that the host's dash lacks.
- debian, ubuntu: the host's /bin tools (sh is dash, as on Debian).
- python:*: the host's python3 as `python` and `python3` (no site-packages of the tests' venv).
- node:*: the host's node (/usr/bin/node).
"""

from __future__ import annotations

from pathlib import Path

from .model import ImageEnvironment

STANDINS = Path(__file__).resolve().parent / "standins"


def standard_image(ref: str) -> ImageEnvironment | None:
    repo = ref.split("@")[0]
    repo = repo.rsplit(":", 1)[0] if ":" in repo.split("/")[-1] else repo
    if repo == "argoproj/argosay":
        if ref.endswith(":v1"):
            return ImageEnvironment([str(STANDINS / "cowsay")], entrypoint=["cowsay"])
        return ImageEnvironment([str(STANDINS / "argosay")], entrypoint=["argosay"])
    if repo in ("docker/whalesay",):
        return ImageEnvironment([str(STANDINS / "cowsay")], entrypoint=["/bin/bash"])
    if repo in ("busybox", "alpine"):
        # their `sh` is BusyBox ash, which has bash's $RANDOM and $((...)); bash invoked as sh stands in
        return ImageEnvironment([str(STANDINS / "ash")], entrypoint=["sh"])
    if repo in ("debian", "ubuntu", "bash"):
        return ImageEnvironment([], entrypoint=["/bin/sh"])
    if repo == "node":
        return ImageEnvironment([], entrypoint=["node"])
    if repo == "python":
        return ImageEnvironment([str(STANDINS / "python")], env={"PYTHONNOUSERSITE": "1"}, entrypoint=["python3"])
    return None
