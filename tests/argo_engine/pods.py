"""A pod: one container or script template run as a local process with its own view of the filesystem.

Each pod gets a private mount namespace (`unshare --mount --propagation private`) in which per-pod
folders are bind-mounted over /tmp and over every other absolute location the template uses
(artifact and output paths, volume mountPaths, workingDir, the script file), so pods never see
each other's files, as containers would not. The environment is a container's, not the test
process's: PATH from the image, HOME, the template's `env` (values, Secret and ConfigMap keys,
the pod name) and nothing else.

Argo's rules followed here:
- script templates: the source is written to /argo/staging/script and that path is appended to
  `command` (workflow/common/common.go ExecutorScriptSourcePath; docs/walk-through/scripts-and-results.md);
- `outputs.result` is the main container's stdout, one trailing newline trimmed, and
  `outputs.exitCode` its exit code (workflow/executor/executor.go CaptureScriptResult; docs/variables.md);
- a non-zero exit fails the node with "Error (exit code N)" (workflow/controller/operator.go);
- `activeDeadlineSeconds` kills the pod: the node fails with "Pod was active on the node longer than
  the specified deadline" (Kubernetes' DeadlineExceeded message, which Argo copies onto the node).
"""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path

from .model import ImageEnvironment

SCRIPT_PATH = "/argo/staging/script"
SYSTEM_DIRS = {"usr", "etc", "var", "bin", "sbin", "lib", "lib64", "opt", "root", "home", "proc", "dev", "sys",
               "run", "srv", "boot", "media", "mnt", "snap", "work"}
BASE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


class PodError(Exception):
    """The pod could not be created or run (Argo: the node is Error)."""


@dataclass
class PodRun:
    exit_code: int
    stdout: str
    stderr: str
    deadline_exceeded: bool = False


def mountpoint_for(path: str) -> str:
    """The directory bind-mounted privately for an absolute path the template uses."""
    parts = Path(path).parts
    if len(parts) < 2:
        raise PodError(f"cannot give a pod a private view of {path!r}")
    if parts[1] == "tmp":
        return "/tmp"
    if parts[1] not in SYSTEM_DIRS:
        return "/" + parts[1]
    return path


class PodFilesystem:
    """Per-pod folders standing for the absolute paths the template uses."""

    def __init__(self, root: Path):
        self.root = root
        self.mounts: dict[str, Path] = {}  # container path -> host folder
        self.add("/tmp")

    def add(self, container_dir: str, host: Path | None = None) -> Path:
        if container_dir in self.mounts and host is None:
            return self.mounts[container_dir]
        if host is None:
            host = self.root / "fs" / container_dir.strip("/").replace("/", "__")
            host.mkdir(parents=True, exist_ok=True)
        self.mounts[container_dir] = host
        return host

    def cover(self, path: str, is_dir: bool = False) -> None:
        """Make `path` private to the pod (its mountpoint, or the path's own folder under a system dir)."""
        point = mountpoint_for(path)
        if point == path and not is_dir:
            point = str(Path(path).parent)
        if not any(point == m or point.startswith(m.rstrip("/") + "/") for m in self.mounts):
            self.add(point)

    def host_path(self, path: str) -> Path:
        best = max((m for m in self.mounts if path == m or path.startswith(m.rstrip("/") + "/")), key=len,
                   default=None)
        if best is None:
            raise PodError(f"{path!r} is not inside any of the pod's private folders")
        rel = os.path.relpath(path, best)
        return self.mounts[best] if rel == "." else self.mounts[best] / rel


def container_command(spec: dict, image: ImageEnvironment, image_ref: str, script_source: str | None) -> list[str]:
    command = list(spec.get("command") or [])
    args = [str(a) for a in spec.get("args") or []]
    if script_source is not None:
        if not command:
            raise PodError("script template without command")
        return command + [SCRIPT_PATH] + args
    if not command:
        if image.entrypoint is None:
            raise PodError(f"container of image {image_ref!r} has no command and the image has no entrypoint here")
        # the image's ENTRYPOINT, then args replacing its CMD, as Kubernetes composes them
        return list(image.entrypoint) + args if args else list(image.entrypoint)
    return command + args


# The engine's folders are first bound here, inside the pod's namespace only, so that binding /tmp
# cannot hide the sources of later binds when the engine's workdir is itself under /tmp.
SOURCE_ALIAS = "/run/argo-engine-pod-sources"


def run_pod(fs: PodFilesystem, argv: list[str], env: dict[str, str], working_dir: str | None,
            deadline: float | None, workdir: Path) -> PodRun:
    if os.geteuid() != 0 or not shutil.which("unshare"):
        raise PodError("pods need root and unshare(1) for a private mount namespace")
    lines = ["set -e", f"mkdir -p {SOURCE_ALIAS}", f"mount --bind {shlex.quote(str(workdir))} {SOURCE_ALIAS}"]
    for target, host in sorted(fs.mounts.items(), key=lambda item: len(item[0])):
        source = f"{SOURCE_ALIAS}/{os.path.relpath(host, workdir)}"
        lines.append(f"mkdir -p {shlex.quote(target)}")
        lines.append(f"mount --bind {shlex.quote(source)} {shlex.quote(target)}")
    if working_dir:
        lines.append(f"mkdir -p {shlex.quote(working_dir)} && cd {shlex.quote(working_dir)}")
    else:
        lines.append("cd /")
    env_args = " ".join(shlex.quote(f"{k}={v}") for k, v in env.items())
    lines.append(f"exec env -i {env_args} {' '.join(shlex.quote(a) for a in argv)}")
    script = fs.root / "pod.sh"
    script.write_text("\n".join(lines) + "\n")
    proc = subprocess.Popen(["unshare", "--mount", "--propagation", "private", "/bin/sh", str(script)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        out, err = proc.communicate(timeout=deadline)
        code = proc.returncode
        return PodRun(code if code >= 0 else 128 - code, out.decode(errors="replace"), err.decode(errors="replace"))
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        return PodRun(137, out.decode(errors="replace"), err.decode(errors="replace"), deadline_exceeded=True)


def pod_env(image: ImageEnvironment, template_env: dict[str, str]) -> dict[str, str]:
    """A container's environment: image PATH first, then the system dirs; HOME; the template's env."""
    path = ":".join([*image.path_dirs, BASE_PATH])
    env = {"PATH": path, "HOME": "/root", "HOSTNAME": "pod"}
    env.update(image.env)
    env.update(template_env)
    return env
