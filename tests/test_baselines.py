"""Template baselines: a fresh synth must match tests/baselines/, normalized."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from ground.config import load_environments
from sagestack import baselines
from sagestack.assembly import CloudAssembly
from tests.synth import Assembly

HASH = "0123456789abcdef" * 4


def test_templates_match_their_committed_baselines(assembly: Assembly) -> None:
    problems = baselines.drift(CloudAssembly(assembly.directory))
    assert not problems, (
        "templates drifted from tests/baselines/:\n  "
        + "\n  ".join(problems)
        + f"\nIf the change is intended, run `{baselines.REFRESH_COMMAND}` and commit the result."
    )


def test_every_environment_and_every_model_has_baselines() -> None:
    """The shared stacks of each environment and each hosted model's training stack (the
    committed configs pin nothing, so there are no serving or monitoring stacks yet)."""
    found = {
        (path.parent.name, path.name.removesuffix(".template.json"))
        for path in baselines.BASELINE_DIR.glob("*/*.template.json")
    }
    expected = set()
    for environment in load_environments():
        expected |= {(environment.name, shared) for shared in ("data", "network", "studio")}
        expected |= {(environment.name, f"{d.name}-training") for d in environment.models}
    assert found == expected


def test_normalize_replaces_asset_hashes_and_drops_cdk_boilerplate() -> None:
    template = {
        "Resources": {
            "Fn": {
                "Type": "AWS::Lambda::Function",
                "Properties": {"Code": {"S3Key": f"{HASH}.zip"}},
            },
            "CDKMetadata": {"Type": "AWS::CDK::Metadata", "Properties": {"Analytics": "v2:x"}},
        },
        "Parameters": {"BootstrapVersion": {"Type": "AWS::SSM::Parameter::Value<String>"}},
        "Rules": {"CheckBootstrapVersion": {"Assertions": []}},
    }
    assert baselines.normalize(template) == {
        "Resources": {
            "Fn": {
                "Type": "AWS::Lambda::Function",
                "Properties": {"Code": {"S3Key": "<asset-hash>.zip"}},
            }
        }
    }


def test_check_reports_changed_new_and_removed_stacks(assembly: Assembly, tmp_path: Path) -> None:
    cloud = CloudAssembly(assembly.directory)
    written = baselines.refresh(cloud, tmp_path)
    assert baselines.drift(cloud, tmp_path) == []
    changed, removed = tmp_path / written[0], tmp_path / written[1]
    template = json.loads(changed.read_text())
    template["Resources"]["Added"] = {"Type": "AWS::SNS::Topic"}
    changed.write_text(json.dumps(template))
    removed.unlink()
    shutil.copy(tmp_path / written[2], tmp_path / "dev" / "gone.template.json")
    assert baselines.drift(cloud, tmp_path) == sorted(
        [
            f"{written[0]}: template differs from the baseline",
            f"{written[1]}: new stack, no baseline yet",
            "dev/gone.template.json: no stack any more",
        ]
    )
    baselines.refresh(cloud, tmp_path)
    assert not (tmp_path / "dev" / "gone.template.json").exists()
    assert baselines.drift(cloud, tmp_path) == []


def test_normalize_expands_pipeline_definitions_into_reviewable_json() -> None:
    body = {
        "Fn::Join": [
            "",
            [
                '{"Version": "2020-12-01", "Steps": [{"Name": "Train", "RoleArn": "',
                {"Fn::GetAtt": ["TrainingRole", "Arn"]},
                '", "Key": "',
                {"Fn::GetStackOutput": {"StackName": "data", "OutputName": "KeyArn"}},
                '"}]}',
            ],
        ]
    }
    template = {
        "Resources": {
            "Pipeline": {
                "Type": "AWS::SageMaker::Pipeline",
                "Properties": {"PipelineDefinition": {"PipelineDefinitionBody": body}},
            }
        }
    }
    properties = baselines.normalize(template)["Resources"]["Pipeline"]["Properties"]
    assert properties["PipelineDefinition"]["PipelineDefinitionBody"] == {
        "Version": "2020-12-01",
        "Steps": [
            {
                "Name": "Train",
                "RoleArn": "${GetAtt:TrainingRole.Arn}",
                "Key": "${Output:data.KeyArn}",
            }
        ],
    }


def test_one_model_is_refreshed_and_checked_alone(assembly: Assembly, tmp_path: Path) -> None:
    """`--model wine` rewrites and checks wine's stacks only; the rest are left as they are."""
    cloud = CloudAssembly(assembly.directory)
    directory = tmp_path / "baselines"
    shutil.copytree(baselines.BASELINE_DIR, directory)
    untouched = directory / "dev" / "cancer-training.template.json"
    untouched.write_text("{}", encoding="utf-8")
    stale = directory / "dev" / "wine-training.template.json"
    stale.write_text("{}", encoding="utf-8")
    written = baselines.refresh(cloud, directory, model="wine")
    assert {path.name for path in written} == {"wine-training.template.json"}
    assert stale.read_text(encoding="utf-8") != "{}"
    assert baselines.drift(cloud, directory, model="wine") == []
    assert baselines.drift(cloud, directory) == [
        "dev/cancer-training.template.json: template differs from the baseline"
    ]
