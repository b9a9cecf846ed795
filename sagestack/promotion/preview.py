"""The `cdk diff` a new pin causes, computed offline before anything is written.

The target environment is synthesized twice with the real CDK CLI (current config, and a
copy of the config folder holding the new pin); the review engine diffs the two assemblies.
No deployed stack is read, so this works without AWS and shows exactly the pin's effect.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from sagestack.assembly import CloudAssembly
from sagestack.cdk_cli import PROJECT_ROOT, SynthJob, synth_all
from sagestack.review.engine import Review, review_assemblies


def preview_pin(config_dir: Path, target: str, model_file: Path, new_text: str) -> Review:
    """Review of `target`'s stacks before and after `model_file` becomes `new_text`."""
    with tempfile.TemporaryDirectory(prefix="sagestack-promote-") as scratch:
        work = Path(scratch)
        new_config = work / "config"
        shutil.copytree(config_dir, new_config)
        relative = Path(model_file).resolve().relative_to(Path(config_dir).resolve())
        (new_config / relative).write_text(new_text, encoding="utf-8")
        synth_all(
            SynthJob(
                PROJECT_ROOT,
                work / "before",
                {"envs": target, "config_dir": str(config_dir.resolve())},
                f"{target} with its current pin",
            ),
            SynthJob(
                PROJECT_ROOT,
                work / "after",
                {"envs": target, "config_dir": str(new_config)},
                f"{target} with the new pin",
            ),
        )
        return review_assemblies(
            CloudAssembly(work / "before"),
            CloudAssembly(work / "after"),
            base_label=f"{target} now",
            head_label=f"{target} promoted",
        )
