"""One CLI: one exit-code table, no abbreviated flags, quiet closed pipes, shell completion (issue 14)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from portway import exitcodes
from portway.cli import build_parser, main, walk_parsers
from portway.errors import (
    ConcurrencyConflict,
    InputDataError,
    ParameterError,
    PipelineFailed,
    RegistryError,
    StorageError,
    TransientStorageError,
)

ROOT = Path(__file__).resolve().parents[2]
PORTWAY = [sys.executable, "-m", "portway"]


def test_the_readme_table_is_the_code_table():
    text = (ROOT / "README.md").read_text()
    section = text.split("## Exit codes", 1)[1].split("\n## ", 1)[0]
    rows = dict(re.findall(r"^\| (\d+) \| (.+) \|$", section, flags=re.M))
    assert {int(code): meaning for code, meaning in rows.items()} == exitcodes.TABLE


@pytest.mark.parametrize("error, code", [
    (ParameterError, exitcodes.BAD_INPUT), (InputDataError, exitcodes.BAD_INPUT),
    (RegistryError, exitcodes.BAD_INPUT), (StorageError, exitcodes.BAD_INPUT),
    (TransientStorageError, exitcodes.FAILED), (PipelineFailed, exitcodes.FAILED),
    (ConcurrencyConflict, exitcodes.LOST_RACE),
])
def test_each_error_exits_with_its_code_from_the_table(error, code, monkeypatch, capsys):
    def fail(_args):
        raise error("the message")

    monkeypatch.setattr("portway.cli.completion._completion", fail)
    assert main(["completion", "bash"]) == code  # any command: the exit code comes from the error
    assert capsys.readouterr().err == "error: the message\n"


@pytest.mark.parametrize("error, code, message", [
    (PermissionError(13, "Permission denied", "/registry/groups"), exitcodes.BAD_INPUT,
     "error: Permission denied: /registry/groups\n"),
    (IsADirectoryError(21, "Is a directory", "runs/x/pipeline.log"), exitcodes.BAD_INPUT,
     "error: Is a directory: runs/x/pipeline.log\n"),
    (OSError(28, "No space left on device"), exitcodes.FAILED, "error: No space left on device\n"),
])
def test_an_os_error_is_one_line_with_its_code(error, code, message, monkeypatch, capsys):
    def fail(_args):
        raise error

    monkeypatch.setattr("portway.cli.completion._completion", fail)
    assert main(["completion", "bash"]) == code
    assert capsys.readouterr().err == message


def test_interrupt_exits_130(monkeypatch, capsys):
    def interrupted(_args):
        raise KeyboardInterrupt

    monkeypatch.setattr("portway.cli.completion._completion", interrupted)
    assert main(["completion", "bash"]) == exitcodes.INTERRUPTED == 130
    assert "interrupted:" in capsys.readouterr().err


@pytest.mark.parametrize("argv, unknown", [
    (["run", "--max-dept", "3"], "--max-dept"),  # issue 14: silently ran as --max-depth 3
    (["models", "list", "--js"], "--js"),
    (["submit", "--target", "argo", "--serv", "http://x"], "--serv"),
])
def test_no_prefix_matching_anywhere(argv, unknown, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == exitcodes.BAD_INPUT
    assert f"unrecognized arguments: {unknown}" in capsys.readouterr().err


def test_every_command_with_a_registry_reads_portway_registry():
    """`--registry` defaults to None everywhere, so $PORTWAY_REGISTRY applies (cli/models.py open_registry_from_args;
    `portway run` reads it itself)."""
    with_registry = {p.prog: a for p in walk_parsers(build_parser()) for a in p._actions
                     if "--registry" in a.option_strings}
    assert {"portway models list", "portway models gc", "portway serve", "portway deploy", "portway run"} <= set(
        with_registry)
    assert all(a.default is None and "PORTWAY_REGISTRY" in a.help for a in with_registry.values())


def test_every_parser_refuses_abbreviations():
    parsers = list(walk_parsers(build_parser()))
    assert len(parsers) > 10 and not [p.prog for p in parsers if p.allow_abbrev]


@pytest.fixture
def registry_with_versions(tmp_path, trained):
    from portway.registry import ModelRegistry

    registry = ModelRegistry(str(tmp_path / "registry"))
    for _ in range(2):
        registry.register("churn", trained["model_dir"], trained["evaluation"]["metrics"], {"parameters": {}})
    return registry


def test_a_closed_pipe_ends_quietly(registry_with_versions):
    """`portway models list --json | head -1` ended in a BrokenPipeError traceback."""
    env = {**os.environ, "PORTWAY_REGISTRY": registry_with_versions.root_uri}
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first write: every write gets EPIPE
    try:
        process = subprocess.run([*PORTWAY, "models", "list", "--json"], stdout=write_end, stderr=subprocess.PIPE,
                                 env=env, timeout=120, text=True)
    finally:
        os.close(write_end)
    assert process.stderr == ""
    assert process.returncode == exitcodes.CLOSED_PIPE
    shell = subprocess.run(f"{' '.join(PORTWAY)} models list --json | head -1; exit ${{PIPESTATUS[0]}}",
                           shell=True, executable="/bin/bash", capture_output=True, env=env, text=True, timeout=120)
    assert shell.stdout == "{\n" and "Traceback" not in shell.stderr and "BrokenPipe" not in shell.stderr
    assert shell.returncode in (exitcodes.OK, exitcodes.CLOSED_PIPE)  # 0 when head read before the write ended


def _complete(script: Path, *words: str) -> list[str]:
    """What bash offers after `words` (the last one being completed), through the generated function."""
    array = " ".join(f"'{w}'" for w in words)
    command = f'source {script}; COMP_WORDS=({array}); COMP_CWORD={len(words) - 1}; _portway; echo "${{COMPREPLY[@]}}"'
    return subprocess.run(["bash", "-c", command], capture_output=True, text=True, check=True).stdout.split()


def test_bash_completion_is_generated_from_the_parser(tmp_path, capsys):
    assert main(["completion", "bash"]) == 0
    script = tmp_path / "portway.bash"
    script.write_text(capsys.readouterr().out)
    assert _complete(script, "portway", "mo") == ["models"]
    assert _complete(script, "portway", "models", "") == ["list", "show", "approve", "reject", "compare", "events", "gc"]
    assert _complete(script, "portway", "runs", "") == ["list", "show", "logs", "watch", "stop"]
    assert _complete(script, "portway", "runs", "list", "--target", "") == ["local", "argo", "kfp"]
    assert _complete(script, "portway", "models", "show", "churn:1", "--j") == ["--json"]
    assert _complete(script, "portway", "compile", "--target", "") == ["kfp", "argo"]
    assert _complete(script, "portway", "run", "--max-d") == ["--max-depth"]
    assert _complete(script, "portway", "completion", "") == ["bash", "zsh"]
    assert main(["completion", "zsh"]) == 0
    zsh = capsys.readouterr().out
    assert "bashcompinit" in zsh and "complete -o default -F _portway portway" in zsh
    with pytest.raises(SystemExit) as exit_info:
        main(["completion", "fish"])
    assert exit_info.value.code == exitcodes.BAD_INPUT


def test_deploy_dry_run_json_from_portway_registry(tmp_path, trained, monkeypatch, capsys):
    import json

    from portway.registry import ModelRegistry

    registry = ModelRegistry(str(tmp_path / "registry"))
    registry.register("churn", trained["model_dir"], trained["evaluation"]["metrics"], {})
    monkeypatch.setenv("PORTWAY_REGISTRY", str(tmp_path / "registry"))
    code = main(["deploy", "churn:1", "--dry-run", "--json", "--set", "model.storageUri=s3://models/churn/1/"])
    out, err = capsys.readouterr()
    document = json.loads(out)
    assert code == 0 and document["model"] == "churn:1" and document["ready"] is False
    assert [m["kind"] for m in document["manifests"]] == ["ServiceAccount", "InferenceService"]
    assert "PendingManualApproval" in err  # warnings stay on stderr


@pytest.mark.skipif(not shutil.which("zsh"), reason="zsh is not installed (apt-get install zsh)")
def test_zsh_completes_through_its_own_completion_system(tmp_path, capsys):
    """A real interactive zsh (compinit + bashcompinit) on a pseudo-terminal, Tab pressed after `portway mo`."""
    import pty
    import select

    assert main(["completion", "zsh"]) == 0
    script = tmp_path / "portway.zsh"
    script.write_text(capsys.readouterr().out)
    pid, fd = pty.fork()
    if pid == 0:  # the child: an interactive zsh without the user's rc files
        os.execvpe("zsh", ["zsh", "-f", "-i"], {"TERM": "dumb", "PATH": os.environ["PATH"], "HOME": str(tmp_path)})
    seen = b""

    def read_until(marker: bytes, seconds: float = 30.0) -> bool:
        nonlocal seen
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.5)
            if ready:
                try:
                    seen += os.read(fd, 4096)
                except OSError:
                    return False
                if marker in seen:
                    return True
        return False

    try:
        os.write(fd, f"PS1='READY> '; autoload -U compinit && compinit -u; source {script}\n".encode())
        assert read_until(b"READY> ")
        seen = b""
        os.write(fd, b"portway runs list --target a\t")
        assert read_until(b"--target argo"), seen
        os.write(fd, b"\x15portway mo\t")  # Ctrl-U clears the line
        assert read_until(b"portway models"), seen
    finally:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        os.close(fd)
