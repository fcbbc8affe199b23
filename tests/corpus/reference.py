"""Run corpus pipelines through kfp.local (KFP's own semantics) and write their results as JSON.

Run as a script by the harness, in a throwaway Python environment (never the project's .venv):
kfp.local's SubprocessRunner(use_venv=False) runs every step with this interpreter, and a step's
`pip install` (the kfp runtime, `packages_to_install`) installs into this interpreter's env.

    python -m corpus.reference OUT_DIR WORKDIR NAME [NAME ...]

Each pipeline's result is written to OUT_DIR/NAME.json as soon as it is known (renamed into
place, so a reader never sees half a file), in the order given.

Every task execution is recorded by wrapping kfp.local's execute_single_task (kfp 2.17.0,
kfp/local/orchestrator/task_executor.py:71), which every DAG orchestrator calls for each task,
importers included; skipped tasks never reach it.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from corpus.index import BY_NAME, FAILED, SUCCEEDED
from corpus.record import artifact_files, ensure_dir, fill


def _outputs_record(outputs: dict) -> tuple[dict, dict]:
    from kfp import dsl

    parameters, artifacts = {}, {}
    for name, value in (outputs or {}).items():
        if isinstance(value, dsl.Artifact):
            artifacts[name] = {"files": artifact_files(value.path), "metadata": dict(value.metadata)}
        elif isinstance(value, list) and value and all(isinstance(v, dsl.Artifact) for v in value):
            artifacts[name] = [{"files": artifact_files(v.path), "metadata": dict(v.metadata)} for v in value]
        else:
            parameters[name] = value
    return parameters, artifacts


# KFP's runtime install of the pinned kfp (kfp/dsl/component_factory.py, _get_packages_to_install_command):
# a no-op here, where that kfp is what runs kfp.local, so it is dropped from the command (about a
# second of pip per step); `packages_to_install` still runs.
KFP_INSTALL = re.compile(r"\S*python\S* -m pip install --quiet --no-warn-script-location (--index-url \S+ --trusted-host \S+ )?"
                         r"'kfp==[\d.]+' '--no-deps' 'typing-extensions>=3\.7\.4,<5; python_version<\"3\.9\"'")


def skip_pinned_kfp_install() -> None:
    import kfp
    from kfp.local import subprocess_task_handler

    original = subprocess_task_handler.run_local_subprocess

    def run(full_command, env_vars=None):
        pinned = f"'kfp=={kfp.__version__}'"
        return original([KFP_INSTALL.sub("true", part) if pinned in part else part for part in full_command],
                        env_vars)

    subprocess_task_handler.run_local_subprocess = run


_LOG: dict = {}  # the executions of the case running now (one case at a time in this process)


def install_recorder() -> None:
    from kfp.local import status
    from kfp.local.orchestrator import task_executor

    original = task_executor.execute_single_task

    def recording(task_name, *args, **kwargs):
        outputs, task_status = original(task_name, *args, **kwargs)
        parameters, artifacts = _outputs_record(outputs) if task_status == status.Status.SUCCESS else ({}, {})
        _LOG.setdefault(task_name, []).append({
            "state": SUCCEEDED if task_status == status.Status.SUCCESS else FAILED,
            "parameters": parameters, "artifacts": artifacts})
        return outputs, task_status

    task_executor.execute_single_task = recording


def run_case(name: str, workdir: Path, import_source: Path) -> dict:
    from kfp import dsl, local

    case = BY_NAME[name]
    root = workdir / name
    slots = {"workdir": ensure_dir(root / "work"), "import_uri": str(import_source)}
    arguments = fill(case.arguments, slots)
    for key, value in list(arguments.items()):
        if key == "dataset":  # an artifact-typed pipeline input is given as an artifact object
            arguments[key] = dsl.Dataset(uri=value)
    local.init(runner=local.SubprocessRunner(use_venv=False), pipeline_root=ensure_dir(root / "pipeline-root"),
               workspace_root=ensure_dir(root / "workspace"), raise_on_error=False)
    _LOG.clear()
    try:
        case.pipeline(**arguments)
        error = None
    except Exception as exc:  # kfp.local raises for what it cannot run; record it for the report
        error = f"{type(exc).__name__}: {exc}"
    log = dict(_LOG)
    failed = error is not None or any(e["state"] == FAILED for executions in log.values() for e in executions)
    return {"status": FAILED if failed else SUCCEEDED, "tasks": log, "error": error}


def main(argv: list[str]) -> int:
    out, workdir, names = Path(argv[0]), Path(argv[1]), argv[2:]
    out.mkdir(parents=True, exist_ok=True)
    import_source = workdir / "import-source.txt"
    import_source.write_text(IMPORT_CONTENT)
    install_recorder()
    skip_pinned_kfp_install()
    for name in names:
        result = run_case(name, workdir, import_source)
        partial = out / f".{name}.json"
        partial.write_text(json.dumps(result, indent=1, default=str))
        partial.rename(out / f"{name}.json")
        print(f"corpus reference: {name}: {result['status']}", file=sys.stderr, flush=True)
    return 0


# The object the importer and the artifact-typed pipeline input read (a small CSV).
IMPORT_CONTENT = "x,y\n1,2\n3,4\n"

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
