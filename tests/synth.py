"""Synthesizing the app with the real CDK CLI, and reading the templates it writes."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sagestack.assembly import TOP_LEVEL, CloudAssembly
from sagestack.cdk_cli import PROJECT_ROOT as ROOT
from sagestack.cdk_cli import tool_environment


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
