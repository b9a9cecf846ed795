"""The new pin, checked and its `cdk diff` computed offline, before anything is written.

The pin is written into a scratch copy of the config folder (config_with). The config loader
checks that copy as a synth would; for the diff, the target environment is synthesized twice
with the real CDK CLI (current config, and the copy) and the review engine diffs the two
assemblies. No deployed stack is read, so this works without AWS and shows exactly the pin's
effect.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ground.config import ConfigError, load_environments
from sagestack.assembly import CloudAssembly
from sagestack.cdk_cli import PROJECT_ROOT, SynthJob, synth_all
from sagestack.review.engine import Review, review_assemblies


@contextmanager
def config_with(config_dir: Path, model_file: Path, new_text: str) -> Iterator[Path]:
    """A scratch copy of `config_dir` in which `model_file` reads `new_text`."""
    with tempfile.TemporaryDirectory(prefix="sagestack-promote-") as scratch:
        copy = Path(scratch) / "config"
        shutil.copytree(config_dir, copy)
        relative = Path(model_file).resolve().relative_to(Path(config_dir).resolve())
        (copy / relative).write_text(new_text, encoding="utf-8")
        yield copy


def check_config(config_dir: Path, new_config: Path, target: str) -> None:
    """ConfigError, naming the files of `config_dir`, unless `target` loads from `new_config`."""
    try:
        load_environments([target], new_config)
    except ConfigError as error:
        raise ConfigError(str(error).replace(str(new_config), str(config_dir))) from None


def preview_pin(config_dir: Path, new_config: Path, target: str) -> Review:
    """Review of `target`'s stacks from `config_dir` to `new_config`."""
    with tempfile.TemporaryDirectory(prefix="sagestack-preview-") as scratch:
        work = Path(scratch)
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
