"""A pod: one container or script template run as a local process with its own view of the filesystem.

Each pod runs in a private mount namespace (`unshare --mount --propagation private`), chrooted into
its own root folder, as a container has its own root filesystem:
- the host's /usr, /etc (and /bin, /lib... as the host links them) stand for the image's operating
  system, each through a copy-on-write overlay, so a pod may write there (/etc/hosts,
  /usr/local/bin/tool) without touching this machine or other pods;
- the image's PATH folders (a venv: its root and its Python's prefix) are shown at their own paths
  through copy-on-write overlays too, as an image's layers are under a container's writable layer;
  volumes are bind-mounted at their mountPaths; /dev, /proc, /sys are the host's;
- every other path (/tmp, /tmp/outputs, /s3/bucket/key, /result.txt, /mnt/out, workingDir, the
  script file) is a plain folder of the pod's own.
Output paths are copied out inside the namespace once the main container ends (as Argo's emissary
copies them for the wait container, cmd/argoexec/commands/emissary.go saveParameter/saveArtifact).
The environment is a container's, not the test process's: PATH from the image, HOME, the template's
`env` (values, Secret and ConfigMap keys, the pod name) and nothing else.

Argo's rules followed here:
- script templates: the source is written to /argo/staging/script (mode 0755, executor.go StageFiles)
  and that path is appended to the container's args (workflow/controller/workflowpod.go;
  docs/walk-through/scripts-and-results.md);
- `outputs.result` is the main container's stdout, one trailing newline trimmed, and
  `outputs.exitCode` its exit code (workflow/executor/executor.go CaptureScriptResult; docs/variables.md);
- a non-zero exit fails the node with "Error (exit code N)" (workflow/controller/operator.go);
- `activeDeadlineSeconds` kills the pod: the node fails with "Pod was active on the node longer than
  the specified deadline" (Kubernetes' DeadlineExceeded message, which Argo copies onto the node);
- sidecars start with the main container and are killed once it exits (emissary.go).
"""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from .model import ImageEnvironment

SCRIPT_PATH = "/argo/staging/script"
HOST_SYSTEM_DIRS = ("usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32", "etc")
KERNEL_DIRS = ("dev", "proc", "sys")
IMAGE_DIRS = ("home", "media", "mnt", "opt", "root", "run", "srv", "var", "var/tmp")
BASE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


class PodError(Exception):
    """The pod could not be created or run (Argo: the node is Error)."""


@dataclass
class PodRun:
    exit_code: int
    stdout: str
    stderr: str
    deadline_exceeded: bool = False


@dataclass
class Sidecar:
    name: str
    argv: list[str]
    env: dict[str, str]
    working_dir: str | None


def _resolve_top(path: str) -> str:
    """`/bin/x` -> `/usr/bin/x` where the host links /bin to usr/bin (as the pod's root does)."""
    parts = Path(path).parts
    if len(parts) > 1 and parts[1] in HOST_SYSTEM_DIRS and Path("/", parts[1]).is_symlink():
        target = os.readlink(Path("/", parts[1]))
        return str(Path("/", target, *parts[2:]))
    return path


@dataclass
class PodFilesystem:
    """A pod's root folder and what is mounted into it."""

    root: Path
    mounts: dict[str, Path] = field(default_factory=dict)  # container path -> host folder (volumes)
    visible: list[str] = field(default_factory=list)  # host folders shown read-only at their own path
    collect: list[str] = field(default_factory=list)  # container paths copied out after the run

    def __post_init__(self):
        self.rootfs = self.root / "rootfs"
        (self.rootfs / "tmp").mkdir(parents=True, exist_ok=True)
        (self.rootfs / "tmp").chmod(0o1777)
        for name in IMAGE_DIRS:  # the empty folders every base image has
            (self.rootfs / name).mkdir(exist_ok=True)
        (self.root / "collected").mkdir(exist_ok=True)

    def add(self, container_dir: str, host: Path) -> Path:
        if Path(container_dir).parts[1] in KERNEL_DIRS:
            raise PodError(f"cannot mount a volume at {container_dir!r}")
        self.mounts[_resolve_top(container_dir)] = host
        return host

    def show(self, host_dir: str) -> None:
        if host_dir not in self.visible:
            self.visible.append(host_dir)

    def host_path(self, path: str) -> Path:
        """Where to stage the pod's `path` before it runs (its volume, its overlay's upper folder, its root)."""
        path = _resolve_top(path)
        best = max((m for m in self.mounts if path == m or path.startswith(m.rstrip("/") + "/")), key=len,
                   default=None)
        if best is not None:
            rel = os.path.relpath(path, best)
            return self.mounts[best] if rel == "." else self.mounts[best] / rel
        parts = Path(path).parts
        if len(parts) > 1 and parts[1] in KERNEL_DIRS:
            raise PodError(f"{path!r} is a kernel folder of the host")
        if len(parts) > 1 and parts[1] in HOST_SYSTEM_DIRS:
            return self.root / "upper" / Path(*parts[1:])
        return self.rootfs / path.lstrip("/")

    def output(self, path: str) -> Path:
        """Where `path` was copied after the run (register it with `collect` first)."""
        return self.root / "collected" / str(self.collect.index(path))


def container_command(spec: dict, image: ImageEnvironment, image_ref: str, script_source: str | None) -> list[str]:
    command = list(spec.get("command") or [])
    args = [str(a) for a in spec.get("args") or []]
    if script_source is not None:
        # workflowpod.go: the script's path is appended to the container's args
        if not command:
            if image.entrypoint is None:
                raise PodError(f"script of image {image_ref!r} has no command and the image has no entrypoint here")
            command = list(image.entrypoint)
        return command + args + [SCRIPT_PATH]
    if not command:
        if image.entrypoint is None:
            raise PodError(f"container of image {image_ref!r} has no command and the image has no entrypoint here")
        # the image's ENTRYPOINT, then args replacing its CMD, as Kubernetes composes them
        return list(image.entrypoint) + args if args else list(image.entrypoint)
    return command + args


def visible_dirs(image: ImageEnvironment) -> list[str]:
    """Host folders an image's PATH needs: each PATH dir, and for a venv its root and its Python's prefix."""
    out: list[str] = []
    for entry in image.path_dirs:
        path = Path(entry)
        out.append(str(path))
        cfg = path.parent / "pyvenv.cfg"
        if cfg.is_file():
            out.append(str(path.parent))
            for line in cfg.read_text().splitlines():
                key, _, value = line.partition("=")
                if key.strip() == "home" and value.strip():
                    out.append(str(Path(value.strip()).parent))
    return out


def _exec_line(root: Path, argv: list[str], env: dict[str, str], working_dir: str | None) -> tuple[str, str]:
    """(the line creating the working dir, the chroot command line)."""
    q = shlex.quote
    workdir = working_dir or "/"
    env_args = " ".join(q(f"{k}={v}") for k, v in env.items())
    return (f"mkdir -p {q(str(root / _resolve_top(workdir).lstrip('/')))}",
            f"chroot {q(str(root))} /usr/bin/env -i -C {q(workdir)} {env_args} {' '.join(q(a) for a in argv)}")


def _mount_lines(fs: PodFilesystem) -> list[str]:
    q = shlex.quote
    root = fs.rootfs
    lines = ["set -e"]
    for name in HOST_SYSTEM_DIRS:
        host = Path("/") / name
        target = root / name
        if host.is_symlink():
            if not target.is_symlink():
                target.symlink_to(os.readlink(host))
            continue
        if not host.is_dir():
            continue
        target.mkdir(exist_ok=True)
        upper, work = fs.root / "upper" / name, fs.root / "work" / name
        upper.mkdir(parents=True, exist_ok=True)
        work.mkdir(parents=True, exist_ok=True)
        lines.append(f"mount -t overlay overlay -o lowerdir={q(str(host))},upperdir={q(str(upper))},"
                     f"workdir={q(str(work))} {q(str(target))}")
    for name in KERNEL_DIRS:
        (root / name).mkdir(exist_ok=True)
        lines.append(f"mount --rbind /{name} {q(str(root / name))}")
    for container_path, host in sorted(fs.mounts.items(), key=lambda item: len(item[0])):
        target = root / container_path.lstrip("/")
        lines.append(f"mkdir -p {q(str(target))}")
        lines.append(f"mount --bind {q(str(host))} {q(str(target))}")
    # The image's own folders are its layers: a container writes over them copy-on-write (the runtime's
    # overlay2 upper dir, dropped with the container), e.g. KFP's `pip install` at step start. Mounted
    # after the volumes: here they are host paths (a venv, maybe under /tmp) that an emptyDir at /tmp
    # must not hide. A folder inside another one shown is already part of that one's overlay.
    shown = sorted(fs.visible, key=len)
    for index, host in enumerate(shown):
        if any(host != other and host.startswith(other.rstrip("/") + "/") for other in shown):
            continue
        target = root / host.lstrip("/")
        upper, work = fs.root / "image-upper" / str(index), fs.root / "image-work" / str(index)
        upper.mkdir(parents=True, exist_ok=True)
        work.mkdir(parents=True, exist_ok=True)
        lines.append(f"mkdir -p {q(str(target))}")
        lines.append(f"mount -t overlay overlay -o lowerdir={q(host)},upperdir={q(str(upper))},"
                     f"workdir={q(str(work))} {q(str(target))}")
    return lines


def _collect_lines(fs: PodFilesystem) -> list[str]:
    q = shlex.quote
    lines = []
    for path in fs.collect:
        source = fs.rootfs / _resolve_top(path).lstrip("/")
        lines.append(f"if [ -e {q(str(source))} ]; then cp -a {q(str(source))} {q(str(fs.output(path)))}; fi")
    return lines


def pod_script(fs: PodFilesystem, argv: list[str], env: dict[str, str], working_dir: str | None,
               sidecars: list[Sidecar] = ()) -> str:
    q = shlex.quote
    lines = _mount_lines(fs)
    mkdir, command = _exec_line(fs.rootfs, argv, env, working_dir)
    lines.append(mkdir)
    pids = []
    for index, car in enumerate(sidecars):
        log = fs.root / f"sidecar-{car.name}.log"
        car_mkdir, car_command = _exec_line(fs.rootfs, car.argv, car.env, car.working_dir)
        lines.append(car_mkdir)
        # its own process group (setsid), so that the group is killed by its id afterwards
        lines.append(f"setsid {car_command} >{q(str(log))} 2>&1 &")
        lines.append(f"S{index}=$!")
        lines.append(f"echo $S{index} >> {q(str(fs.root / 'sidecars.pid'))}")
        pids.append(f"-$S{index}")
    lines.append("set +e")
    lines.append(command)
    lines.append("code=$?")
    if pids:
        lines.append(f"kill -9 {' '.join(pids)} 2>/dev/null; wait")
    lines.extend(_collect_lines(fs))
    lines.append("exit $code")
    return "\n".join(lines) + "\n"


def run_pod(fs: PodFilesystem, argv: list[str], env: dict[str, str], working_dir: str | None,
            deadline: float | None, sidecars: list[Sidecar] = ()) -> PodRun:
    if os.geteuid() != 0 or not all(shutil.which(t) for t in ("unshare", "chroot", "mount")):
        raise PodError("pods need root, unshare(1), mount(8) and chroot(1) for a private mount namespace")
    script = fs.root / "pod.sh"
    script.write_text(pod_script(fs, argv, env, working_dir, sidecars))
    proc = subprocess.Popen(["unshare", "--mount", "--propagation", "private", "/bin/sh", str(script)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        out, err = proc.communicate(timeout=deadline)
        code = proc.returncode
        return PodRun(code if code >= 0 else 128 - code, out.decode(errors="replace"), err.decode(errors="replace"))
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        pid_file = fs.root / "sidecars.pid"
        for pid in (pid_file.read_text().split() if pid_file.exists() else []):
            try:
                os.killpg(int(pid), signal.SIGKILL)
            except ProcessLookupError:
                pass
        out, err = proc.communicate()
        return PodRun(137, out.decode(errors="replace"), err.decode(errors="replace"), deadline_exceeded=True)


def pod_env(image: ImageEnvironment, template_env: dict[str, str]) -> dict[str, str]:
    """A container's environment: image PATH first, then the system dirs; HOME; the template's env."""
    path = ":".join([*image.path_dirs, BASE_PATH])
    env = {"PATH": path, "HOME": "/root", "HOSTNAME": "pod"}
    env.update(image.env)
    env.update(template_env)
    return env
