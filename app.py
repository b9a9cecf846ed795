#!/usr/bin/env python3
"""CDK app: load the environments, build one Stage each, attach the compliance packs, then
refuse the synth on any compliance finding or any request AWS would refuse."""

import sys
from pathlib import Path

from aws_cdk import App

from ground.config import ConfigError, load_environments
from ground.config.delivery import load_delivery
from ground.config.loader import CONFIG_DIR
from ground.contract.findings import ContractError
from ml_constructs.compliance import attach_compliance_packs, findings
from ml_constructs.contract_gate import contract_findings
from stacks.delivery import PIPELINE_NAME, DeliveryStack
from stacks.stage import SageStackStage


def selected_environments(app: App) -> list[str]:
    """`-c envs=dev,staging` selects environments; all of them by default.

    `-c config_dir=DIR` reads the environment files from another folder (tests, previews).
    """
    value = app.node.try_get_context("envs") or ""
    return [name.strip() for name in str(value).split(",") if name.strip()]


def delivery_enabled(app: App) -> bool:
    """`-c delivery=true` synthesizes the delivery pipeline, with every environment inside it."""
    return str(app.node.try_get_context("delivery")).lower() == "true"


def build(app: App, config_dir: Path) -> None:
    """The environments' stages, or the delivery pipeline that deploys them."""
    environments = load_environments(selected_environments(app), config_dir)
    if delivery_enabled(app):
        DeliveryStack(
            app,
            "delivery",
            delivery=load_delivery(config_dir),
            environments=environments,
            stack_name=PIPELINE_NAME,
        )
        return
    for config in environments:
        SageStackStage(app, config)


def main() -> None:
    app = App()
    config_dir = Path(app.node.try_get_context("config_dir") or CONFIG_DIR)
    try:
        build(app, config_dir)
    except ConfigError as error:
        sys.exit(f"sagestack: invalid configuration\n{error}")
    except ContractError as error:
        sys.exit(f"sagestack: {error}")
    attach_compliance_packs(app)
    assembly = app.synth()
    problems = findings(assembly.directory)
    if problems:
        sys.exit(
            "sagestack: compliance gate failed; fix each finding, or acknowledge it with a "
            "reason in ml_constructs/acknowledgments.py:\n  " + "\n  ".join(problems)
        )
    refused = contract_findings(assembly)
    if refused:
        sys.exit("sagestack: AWS would refuse these requests:\n  " + "\n  ".join(refused))


if __name__ == "__main__":
    main()
