"""`sagestack local deploy`: the real CDK CLI deploys an environment into the emulator.

After the deploy it compares each template with what the emulator actually created, and lists
the resource types it skipped or did not execute, so nobody mistakes the emulator for AWS.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from botocore.exceptions import ClientError

from ground.config import EnvironmentConfig
from sagestack.assembly import CloudAssembly
from sagestack.cdk_cli import PROJECT_ROOT, run_cdk
from sagestack.local.emulator import EMULATOR_ACCOUNT, Emulator

BOOTSTRAP_STACK = "CDKToolkit"  # the CDK CLI's default toolkit stack name

ASSEMBLY_DIR = PROJECT_ROOT / "cdk.out"


class DeployError(Exception):
    """The environment cannot be deployed into the emulator; the message says why."""


@dataclass(frozen=True)
class StackGap:
    """Resource types of one stack that the emulator skipped or did not execute."""

    stack_name: str
    skipped: dict[str, int]
    not_executed: dict[str, int]


def deploy(
    config: EnvironmentConfig,
    emulator: Emulator,
    *,
    context: tuple[str, ...] = (),
    log_path: Path | None = None,
    assembly_dir: Path = ASSEMBLY_DIR,
) -> list[StackGap]:
    """Bootstrap and deploy every stack of `config`'s stage; return what the emulator skipped.

    `context` adds `key=value` CDK context (e.g. `config_dir=...`); `log_path` sends the CLI's
    output to a file instead of the terminal; `assembly_dir` is where the CLI synthesizes.
    """
    if config.account != EMULATOR_ACCOUNT:
        raise DeployError(
            f"config/{config.name}.yaml: account {config.account} is not the emulator's "
            f"account {EMULATOR_ACCOUNT}; only an environment configured with it can be "
            "deployed locally"
        )
    environment = emulator.client_environment(config.region)
    context_args = [arg for item in (f"envs={config.name}", *context) for arg in ("-c", item)]
    if not _bootstrapped(emulator, config.region):  # the CLI synthesizes the app to bootstrap
        run_cdk(
            [
                "bootstrap",
                f"aws://{config.account}/{config.region}",
                "--output",
                str(assembly_dir),
                *context_args,
            ],
            environment,
            log_path=log_path,
        )
    run_cdk(
        [
            "deploy",
            f"{config.name}/*",
            "--require-approval",
            "never",
            "--output",
            str(assembly_dir),
            *context_args,
        ],
        environment,
        log_path=log_path,
    )
    return emulator_gaps(config, emulator, assembly_dir)


def _bootstrapped(emulator: Emulator, region: str) -> bool:
    """Does the emulator hold the CDK bootstrap stack of `region` already?"""
    cloudformation = emulator.client("cloudformation", region)
    try:
        stacks = cloudformation.describe_stacks(StackName=BOOTSTRAP_STACK)["Stacks"]
    except ClientError:
        return False
    return any(stack["StackStatus"] in ("CREATE_COMPLETE", "UPDATE_COMPLETE") for stack in stacks)


def emulator_gaps(
    config: EnvironmentConfig, emulator: Emulator, assembly_dir: Path = ASSEMBLY_DIR
) -> list[StackGap]:
    """Compare each deployed stack's resources with its template's."""
    cloudformation = emulator.client("cloudformation", config.region)
    gaps = []
    stacks = [
        stack
        for stack in CloudAssembly(assembly_dir).stacks.values()
        if stack.environment == config.name
    ]
    for stack in sorted(stacks, key=lambda stack: stack.stack_name):
        stack_name, template = stack.stack_name, stack.template()
        summaries = cloudformation.get_paginator("list_stack_resources").paginate(
            StackName=stack_name
        )
        created = {
            summary["LogicalResourceId"]: summary["ResourceType"]
            for page in summaries
            for summary in page["StackResourceSummaries"]
        }
        skipped: Counter[str] = Counter()
        not_executed: Counter[str] = Counter()
        for logical_id, resource in template.get("Resources", {}).items():
            kind = resource["Type"]
            if kind.startswith("Custom::") or kind == "AWS::CloudFormation::CustomResource":
                not_executed[kind] += 1
            elif created.get(logical_id) != kind and kind != "AWS::CDK::Metadata":
                skipped[kind] += 1
        gaps.append(StackGap(stack_name, dict(skipped), dict(not_executed)))
    return gaps


def describe_gaps(gaps: list[StackGap]) -> str:
    """A short report of what the emulator did not do, per stack."""
    lines = ["The emulator is not AWS. Resources of these types were not really created:"]
    for gap in gaps:
        for kind, count in sorted(gap.skipped.items()):
            lines.append(f"  {gap.stack_name}: {kind} x{count} (not supported by the emulator)")
        for kind, count in sorted(gap.not_executed.items()):
            lines.append(
                f"  {gap.stack_name}: {kind} x{count} (custom resource: its Lambda did not run)"
            )
    if len(lines) == 1:
        return "The emulator created every resource of the templates."
    return "\n".join(lines)
