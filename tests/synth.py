"""Synthesizing the app with the real CDK CLI, and reading the templates it writes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from sagestack.assembly import TOP_LEVEL, CloudAssembly
from sagestack.cdk_cli import PROJECT_ROOT as ROOT
from sagestack.cdk_cli import tool_environment
from sagestack.file_lock import exclusive


def credential_free_environment() -> dict[str, str]:
    """The CLI's environment without any AWS_* variable: synth must need no credentials."""
    env = tool_environment()
    return {key: value for key, value in env.items() if not key.startswith("AWS_")}


def cdk_synth(outdir: Path, *context: str) -> subprocess.CompletedProcess[str]:
    """Run `cdk synth --quiet` into `outdir`; `context` items are `key=value` pairs."""
    command = ["cdk", "synth", "--quiet", "--output", str(outdir)]
    for item in context:
        command += ["--context", item]
    return subprocess.run(
        command,
        cwd=ROOT,
        env=credential_free_environment(),
        capture_output=True,
        text=True,
        check=False,
    )


@dataclass(frozen=True)
class Assembly:
    """A synthesized cloud assembly: template files by environment and short stack name."""

    directory: Path

    def template_paths(self) -> dict[tuple[str, str], Path]:
        """Template files of the stages' stacks, keyed by (environment, short stack name)."""
        return {
            (stack.environment, stack.name): stack.template_path
            for stack in CloudAssembly(self.directory).stacks.values()
            if stack.environment != TOP_LEVEL
        }

    def template(self, env: str, stack: str) -> dict:
        path = self.template_paths()[(env, stack)]
        return json.loads(path.read_text(encoding="utf-8"))


@dataclass(frozen=True)
class SharedSynth:
    """A synth shared by every pytest-xdist worker of the session: its folder (what `prepare`
    wrote there, and the assembly in `cdk.out/`) and what the CLI printed."""

    workdir: Path
    output: str

    @property
    def assembly(self) -> Assembly:
        return Assembly(self.workdir / "cdk.out")


def shared_synth(
    factory: pytest.TempPathFactory,
    name: str,
    prepare: Callable[[Path], tuple[str, ...]] = lambda _: (),
) -> SharedSynth:
    """`cdk synth` once per session whichever worker asks first (the others wait for it and
    read the same folder): `prepare(workdir)` writes what it needs (a config copy) and gives
    the context items."""
    base = factory.getbasetemp()
    root = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    workdir = root / f"synth-{name}"
    record = workdir / "synth-output.json"
    with exclusive(root / f".synth-{name}.lock"):
        if not record.is_file():
            shutil.rmtree(workdir, ignore_errors=True)
            workdir.mkdir(parents=True)
            result = cdk_synth(workdir / "cdk.out", *prepare(workdir))
            assert result.returncode == 0, f"cdk synth failed:\n{result.stdout}\n{result.stderr}"
            record.write_text(json.dumps(result.stdout + result.stderr), encoding="utf-8")
    return SharedSynth(workdir, json.loads(record.read_text(encoding="utf-8")))
