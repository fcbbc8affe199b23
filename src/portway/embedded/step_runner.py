"""How `portway run` starts one step's subprocess inside kfp.local.

kfp.local's SubprocessTaskHandler.run (kfp/local/subprocess_task_handler.py, kfp 2.17)
picks the interpreter, runs the step and returns SUCCESS or FAILURE; its retry loop
(kfp/local/orchestrator/task_executor.py) then retries any FAILURE up to set_retry's count.
While a run is in progress, `step_runner(...)` replaces that one method so that

- a step whose command installs packages runs in its isolated environment (isolation.py),
  never in Portway's;
- the step's output is unbuffered (PYTHONUNBUFFERED), so its lines arrive while it runs;
- the exit code is kept: 2 (bad input, see portway.steps.exit_codes) raises StepRejectedInput,
  which ends the retry loop at once. In a sequential DAG the exception reaches the runner; in a
  ParallelFor, kfp.local's thread pool turns it into a failed loop. Either way `Progress`
  remembers the step, so the run exits 2, not 1.
"""

from __future__ import annotations

import builtins
import contextlib
import os
import subprocess
import sys

from portway.steps.exit_codes import BAD_INPUT_EXIT_CODE


class StepRejectedInput(Exception):
    """A step exited with the bad-input code; retrying it cannot help."""


@contextlib.contextmanager
def step_runner(progress, envs_root):
    from kfp.local import status, subprocess_task_handler

    from portway.embedded.isolation import StepEnvironmentError, isolated_python, pip_steps

    handler = subprocess_task_handler.SubprocessTaskHandler
    original = handler.run

    def run(self) -> status.Status:
        env = {**os.environ, **self.env_vars, "PYTHONUNBUFFERED": "1"}
        python = sys.executable
        steps = pip_steps(self.full_command)
        if steps:
            try:
                python = str(isolated_python(steps, envs_root, echo=print))
            except StepEnvironmentError as exc:
                print(f"portway.errors.{type(exc).__name__}: {exc}")
                progress.step_exited(exc.exit_code)
                return status.Status.FAILURE
            bin_dir = os.path.dirname(python)
            env.update(PATH=bin_dir + os.pathsep + env.get("PATH", ""), VIRTUAL_ENV=os.path.dirname(bin_dir))
            env.pop("PYTHONHOME", None)
        command = subprocess_task_handler.replace_python_executable(self.full_command, python)
        with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              errors="replace", bufsize=1, env=env) as process:
            for line in iter(process.stdout.readline, ""):
                print(line, end="")
            code = process.wait()
        progress.step_exited(code)
        if code == BAD_INPUT_EXIT_CODE:
            progress.step_rejected_input()
            raise StepRejectedInput()
        return status.Status.SUCCESS if code == 0 else status.Status.FAILURE

    handler.run = run
    # kfp.local indents a step's output by swapping builtins.print in and out around each step
    # (logging_utils.indented_print); two ParallelFor threads doing that at once can leave the
    # indenting print installed, so this puts back the one that was there.
    builtin_print = builtins.print
    try:
        yield
    finally:
        handler.run = original
        builtins.print = builtin_print
