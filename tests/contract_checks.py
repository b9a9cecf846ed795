"""Everything of a synthesized assembly that AWS would refuse: its SageMaker resources, as
CloudFormation will request them, and every pipeline definition, tokens resolved locally."""

from __future__ import annotations

from pathlib import Path

from ground.contract.pipeline import ExecutionContext, definition_findings
from ground.contract.templates import StackResources, assembly_findings
from sagestack.assembly import TOP_LEVEL, CloudAssembly
from sagestack.local.pipeline.assembly import load_pipelines


def checked_pipelines(directory: Path) -> dict[str, list[str]]:
    """Each pipeline of each environment by name, with what the contract finds in it."""
    assembly = CloudAssembly(directory)
    found: dict[str, list[str]] = {}
    for environment in assembly.environments:
        if environment == TOP_LEVEL:
            continue
        for name, source in load_pipelines(directory, environment).items():
            context = ExecutionContext(name, source.region, source.account)
            found[name] = [str(f) for f in definition_findings(source.definition, context)]
    return found


def resource_problems(directory: Path) -> list[str]:
    stacks = [
        StackResources(s.stack_name, s.region, s.account, s.template().get("Resources", {}))
        for s in CloudAssembly(directory).stacks.values()
    ]
    return [str(f) for f in assembly_findings(stacks)]
