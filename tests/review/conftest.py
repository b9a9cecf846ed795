"""Prepared changes: a copy of the session's real assembly with templates edited as a PR would.

dev/*          the raw-data bucket renamed, as in code: the new name wherever the old one was
               (BucketName: replacement; its grants in dev/data and dev/training and their
               acknowledgment follow it)
dev/network    the flow-log role's policy widened with logs:* on *; one more acknowledgment
staging/data   the alerts KMS key removed
staging/network SSH opened to the internet on the workloads security group
prod/data      the access-log bucket's public-policy block turned off
prod/network   a pure tag change on every tagged resource

Config changes: the app synthesized again from an edited copy of config/, as a careless PR
would leave it: dev's VPC CIDR changed, prod's removal policy from retain to destroy.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from ground.config.loader import CONFIG_DIR
from sagestack.assembly import CloudAssembly
from sagestack.review.engine import Review, review_assemblies
from tests.synth import Assembly, cdk_synth

TAG = "sagestack:managed-by"
ACKNOWLEDGED_RULE = "AwsSolutions-IAM5[Action::logs:*]"
ACKNOWLEDGED_REASON = "Prepared change: the role writes to any log group of the account."
RAW_DATA = "sagestack-dev-raw-data-123456789012-eu-west-1"
RENAMED_RAW_DATA = "sagestack-dev-raw-datasets-123456789012-eu-west-1"
CONFIG_CHANGES = {
    "dev.yaml": ("cidr: 10.10.0.0/16", "cidr: 10.12.0.0/16"),
    "prod.yaml": (
        "removal_policy: retain",
        "removal_policy: destroy\nproduction_exceptions:\n"
        "  destroy_data: prepared change, prod is being decommissioned",
    ),
}


def logical_id(template: dict, path: str) -> str:
    """The logical id of the resource whose construct path is `path`."""
    return next(
        key
        for key, value in template["Resources"].items()
        if value.get("Metadata", {}).get("aws:cdk:path") == path
    )


def edit(assembly: CloudAssembly, stack: str, change: Callable[[dict], None]) -> None:
    path = assembly.stacks[stack].template_path
    template = json.loads(path.read_text())
    change(template)
    path.write_text(json.dumps(template, indent=1))


def rename_bucket(assembly: CloudAssembly) -> None:
    """What renaming the raw-data bucket in code synthesizes: its new name everywhere."""
    templates = [stack.template_path for stack in assembly.environment_stacks("dev").values()]
    for path in [*templates, assembly.directory / "validation-report.json"]:
        text = path.read_text()
        path.write_text(text.replace(RAW_DATA, RENAMED_RAW_DATA))


def widen_policy(template: dict) -> None:
    policy = template["Resources"][logical_id(template, "dev/network/FlowLogRole/Policy/Resource")]
    policy["Properties"]["PolicyDocument"]["Statement"].append(
        {"Effect": "Allow", "Action": "logs:*", "Resource": "*"}
    )


def remove_key(template: dict) -> None:
    del template["Resources"][logical_id(template, "staging/data/AlertsKey/Key/Resource")]


def open_ssh(template: dict) -> None:
    group = template["Resources"][
        logical_id(template, "staging/network/WorkloadSecurityGroup/Resource")
    ]
    group["Properties"]["SecurityGroupIngress"] = [
        {"CidrIp": "0.0.0.0/0", "IpProtocol": "tcp", "FromPort": 22, "ToPort": 22}
    ]


def unblock_public_policy(template: dict) -> None:
    bucket = template["Resources"][logical_id(template, "prod/data/AccessLogs/Bucket/Resource")]
    bucket["Properties"]["PublicAccessBlockConfiguration"]["BlockPublicPolicy"] = False


def retag(template: dict) -> None:
    for resource in template["Resources"].values():
        for tag in resource.get("Properties", {}).get("Tags", []):
            if tag.get("Key") == TAG:
                tag["Value"] = "cdk-pipelines"


def acknowledge_wildcard(assembly: CloudAssembly) -> None:
    report_path = assembly.directory / "validation-report.json"
    report = json.loads(report_path.read_text())
    report["pluginReports"][0]["suppressedViolations"].append(
        {
            "ruleName": ACKNOWLEDGED_RULE,
            "violatingConstructs": [{"constructPath": "dev/network/FlowLogRole/Policy/Resource"}],
            "reason": ACKNOWLEDGED_REASON,
        }
    )
    report_path.write_text(json.dumps(report))


@pytest.fixture(scope="session")
def prepared(assembly: Assembly, tmp_path_factory: pytest.TempPathFactory) -> Path:
    head = CloudAssembly(
        shutil.copytree(assembly.directory, tmp_path_factory.mktemp("pr") / "head")
    )
    rename_bucket(head)
    for stack, change in (
        ("dev/network", widen_policy),
        ("staging/data", remove_key),
        ("staging/network", open_ssh),
        ("prod/data", unblock_public_policy),
        ("prod/network", retag),
    ):
        edit(head, stack, change)
    acknowledge_wildcard(head)
    return head.directory


@pytest.fixture(scope="session")
def review(assembly: Assembly, prepared: Path) -> Review:
    return review_assemblies(
        CloudAssembly(assembly.directory), CloudAssembly(prepared), "main", "prepared"
    )


@pytest.fixture(scope="session")
def changed_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of config/ with CONFIG_CHANGES made, as text, the way a person edits it."""
    directory = tmp_path_factory.mktemp("changed") / "config"
    shutil.copytree(CONFIG_DIR, directory)
    for name, (old, new) in CONFIG_CHANGES.items():
        path = directory / name
        text = path.read_text()
        assert old in text, f"{name} no longer says {old!r}"
        path.write_text(text.replace(old, new))
    return directory


@pytest.fixture(scope="session")
def config_review(
    assembly: Assembly, changed_config: Path, tmp_path_factory: pytest.TempPathFactory
) -> Review:
    """The review of the session's assembly against one synthesized from `changed_config`."""
    outdir = tmp_path_factory.mktemp("cdk-out-changed-config")
    result = cdk_synth(outdir, f"config_dir={changed_config}")
    assert result.returncode == 0, f"cdk synth failed:\n{result.stdout}\n{result.stderr}"
    return review_assemblies(
        CloudAssembly(assembly.directory), CloudAssembly(outdir), "main", "config changed"
    )
