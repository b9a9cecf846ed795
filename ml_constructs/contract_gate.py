"""The contract gate: after synth, every SageMaker resource of every stack is checked as the
request CloudFormation will send for it (ground.contract.templates), across stacks so that
cross-resource limits (a serverless endpoint's model, its monitors) are seen too."""

from __future__ import annotations

from aws_cdk import cx_api

from ground.contract.templates import StackResources, assembly_findings


def contract_findings(assembly: cx_api.CloudAssembly) -> list[str]:
    """One line per request AWS would refuse, over every stack of every stage (none: clean)."""
    stacks = [
        StackResources(
            stack_name=artifact.stack_name,
            region=artifact.environment.region,
            account=artifact.environment.account,
            resources=artifact.template.get("Resources", {}),
        )
        for artifact in assembly.stacks_recursively
    ]
    return [str(item) for item in assembly_findings(stacks)]
