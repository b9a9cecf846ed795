"""A fourth model, added by following the README alone: its example file, then its commands.

The example is read from README.md ("Onboarding a model"), written into a copy of config/, and
taken through the README's steps: the model's scripts on its sample data, then a synth of dev
that builds its training stack under the compliance and contract gates.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml

from ground.config import load_environments
from ground.config.loader import CONFIG_DIR
from sagestack import cli
from sagestack.assembly import CloudAssembly
from tests.contract_checks import checked_pipelines, resource_problems
from tests.synth import ROOT, cdk_synth

EXAMPLE = re.compile(
    r"<!-- onboarding-example: (?P<path>config/models/[a-z0-9-]+\.yaml) -->\n"
    r"```yaml\n(?P<text>.*?)```",
    re.S,
)


@pytest.fixture(scope="module")
def onboarded(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """(model name, config folder) with the README's example model added."""
    match = EXAMPLE.search((ROOT / "README.md").read_text(encoding="utf-8"))
    assert match, "README.md lost its onboarding example"
    config = tmp_path_factory.mktemp("onboarding") / "config"
    shutil.copytree(CONFIG_DIR, config)
    path = config / Path(match["path"]).relative_to("config")
    assert not path.exists(), "the example must be a new model"
    path.write_text(match["text"], encoding="utf-8")
    return path.stem, config


def test_the_example_is_hosted_in_dev_only(onboarded) -> None:
    name, config = onboarded
    environments = {e.name: e for e in load_environments([], config)}
    assert environments["dev"].model(name).serving.model is None
    assert all(name not in {d.name for d in environments[e].models} for e in ("staging", "prod"))


def test_step_1_its_scripts_run_on_its_sample_data_and_pass_its_gate(
    onboarded, tmp_path: Path, capsys
) -> None:
    name, config = onboarded
    command = ["local", "scripts", "--model", name, "--config-dir", str(config)]
    assert cli.main([*command, "--workdir", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    gate = yaml.safe_load((config / "models" / f"{name}.yaml").read_text())["gate"]
    measured = float(re.search(rf"test {gate['metric']} ([0-9.]+)", printed)[1])
    assert measured >= gate["threshold"], printed


def test_step_2_synth_builds_its_training_stack_within_the_gates(onboarded, tmp_path: Path) -> None:
    name, config = onboarded
    result = cdk_synth(tmp_path / "cdk.out", "envs=dev", f"config_dir={config}")
    assert result.returncode == 0, result.stdout + result.stderr
    assembly = CloudAssembly(tmp_path / "cdk.out")
    assert f"sagestack-dev-{name}-training" in {s.stack_name for s in assembly.stacks.values()}
    pipelines = checked_pipelines(tmp_path / "cdk.out")
    assert {f"sagestack-dev-{name}-training", f"sagestack-dev-{name}-tuning"} & set(pipelines)
    assert {p: found for p, found in pipelines.items() if found} == {}
    assert resource_problems(tmp_path / "cdk.out") == []
