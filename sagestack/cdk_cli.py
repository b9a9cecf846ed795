"""Running the project's pinned CDK CLI (node_modules/.bin/cdk): deploys, synths and diffs.

Local deploys, the pipeline executor, review, promotion previews and baselines all go through
here, so every one of them uses the same CLI version and the virtualenv's Node 24, with
notices and telemetry off.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
QUIET_FLAGS = ("--no-notices", "--no-color")
ERROR_TAIL_LINES = 40
DIFF_SUMMARY = "✨  Number of stacks with differences"
# app.py starts every refusal (configuration, compliance gate, contract) so; the CLI then adds
# its own line saying that the app exited.
APP_REFUSAL = "sagestack: "
APP_EXITED = ": Subprocess exited with error"


class CdkError(Exception):
    """The CDK CLI failed; the message carries the command and the end of its output."""


def tool_environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    """This process's environment (plus `extra`) with the project's Node, CDK CLI and Python
    first on PATH."""
    env = {**os.environ, **(extra or {})}
    env["PATH"] = os.pathsep.join(
        [
            str(PROJECT_ROOT / ".venv" / "bin"),
            str(PROJECT_ROOT / "node_modules" / ".bin"),
            env.get("PATH", ""),
        ]
    )
    env["CDK_DISABLE_VERSION_CHECK"] = "1"
    env["CDK_DISABLE_CLI_TELEMETRY"] = "true"
    env["JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION"] = "1"
    return env


def _cdk_command(*args: str) -> list[str]:
    cli = PROJECT_ROOT / "node_modules" / ".bin" / "cdk"
    if not cli.exists():
        raise CdkError(f"the pinned CDK CLI is not installed at {cli}; run `make setup`")
    return [str(cli), *args, *QUIET_FLAGS]


def run_cdk(
    arguments: Sequence[str],
    environment: dict[str, str],
    *,
    capture: bool = False,
    log_path: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run `cdk <arguments>` in the project root with `environment` added to this process's.

    Output streams through, unless `capture` keeps it in the result or `log_path` appends it
    to a file. Raises CdkError when the CLI fails.
    """
    command = [*_cdk_command(*arguments)]
    env = tool_environment(environment)
    if log_path is None:
        result = subprocess.run(
            command, cwd=PROJECT_ROOT, env=env, text=True, capture_output=capture, check=False
        )
        where = f":\n{_tail(result.stderr)}" if capture else " (its output is above)"
    else:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with log_path.open("a", encoding="utf-8") as log:
            result = subprocess.run(
                command,
                cwd=PROJECT_ROOT,
                env=env,
                text=True,
                stdout=log,
                stderr=subprocess.STDOUT,
                check=False,
            )
        where = f"; see {log_path}"
    if result.returncode != 0:
        raise CdkError(f"`cdk {' '.join(arguments)}` exited with {result.returncode}{where}")
    return result


def _tail(text: str) -> str:
    return "\n".join(text.strip().splitlines()[-ERROR_TAIL_LINES:])


def _refusal(output: str) -> str | None:
    """The app's own refusal in one line (`invalid configuration: <file>: <field>: <reason>`);
    None when the app stopped without one, a crash whose whole tail is the clue."""
    lines = [line.strip() for line in output.strip().splitlines() if APP_EXITED not in line]
    starts = [index for index, line in enumerate(lines) if line.startswith(APP_REFUSAL)]
    if not starts:
        return None
    first, *details = lines[starts[-1] :]
    summary = first.removeprefix(APP_REFUSAL).rstrip(":")
    return ": ".join([summary, "; ".join(details)]) if details else summary


def _synth_failure(job: SynthJob, returncode: int, output: str) -> str:
    refusal = _refusal(output)
    if refusal is not None:
        return f"cdk synth of {job.what} failed: {refusal}"
    return f"cdk synth of {job.what} failed (exit {returncode}):\n{_tail(output)}"


@dataclass(frozen=True)
class SynthJob:
    """Synthesize the app in `source_dir` into `out_dir`; `what` names it in errors."""

    source_dir: Path
    out_dir: Path
    context: dict[str, str]
    what: str

    def start(self) -> subprocess.Popen:
        args = ["synth", "--quiet", "--output", str(self.out_dir)]
        for key, value in self.context.items():
            args += ["--context", f"{key}={value}"]
        return subprocess.Popen(
            _cdk_command(*args),
            cwd=self.source_dir,
            env=tool_environment(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )


def synth_all(*jobs: SynthJob) -> None:
    """Run the synths side by side (each is mostly one busy process) and wait for all of them.

    Raises CdkError naming every one that failed: the app's refusal in one line, or the end of
    the output when it crashed.
    """
    running = [(job, job.start()) for job in jobs]
    failures = []
    for job, process in running:
        output, _ = process.communicate()
        if process.returncode != 0:
            failures.append(_synth_failure(job, process.returncode, output))
    if failures:
        raise CdkError("\n".join(failures))


def diff_template(assembly_dir: Path, stack: str, old_template: Path) -> str:
    """`cdk diff --template`: the CLI's own rendering of `old_template` → `stack`, offline."""
    command = _cdk_command(
        "diff", "--app", str(assembly_dir), "--template", str(old_template), "--exclusively", stack
    )
    result = subprocess.run(
        command,
        cwd=assembly_dir,
        env=tool_environment(),
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode not in (0, 1):
        raise CdkError(
            f"cdk diff of {stack} failed (exit {result.returncode}):\n{_tail(result.stderr)}"
        )
    lines = (result.stdout + result.stderr).strip().splitlines()
    # The assembly's annotations come first; the diff starts at its "Stack <name>" header.
    start = next((i for i, line in enumerate(lines) if line.startswith("Stack ")), 0)
    return "\n".join(line for line in lines[start:] if not line.startswith(DIFF_SUMMARY)).strip()


def diff_deployed(assembly_dir: Path, stacks: list[str]) -> str:
    """`cdk diff` of the assembly's `stacks` against what is deployed (needs AWS credentials).

    Never raises: a failure (no credentials, no bootstrap) is returned as text for the report.
    """
    result = subprocess.run(
        _cdk_command("diff", "--app", str(assembly_dir), *stacks),
        cwd=assembly_dir,
        env=tool_environment(),
        capture_output=True,
        text=True,
        check=False,
    )
    output = (result.stdout + result.stderr).strip()
    if result.returncode not in (0, 1):
        return f"cdk diff against the deployed stacks failed (exit {result.returncode}):\n{output}"
    return output
