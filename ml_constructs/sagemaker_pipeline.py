"""A SageMaker pipeline as CloudFormation, refused at synth when AWS would refuse to run it.

Every platform pipeline goes through this construct: the definition is checked for the job
security invariants (KMS, VPC, isolation, traffic encryption) and against the SageMaker
contract (botocore service model and documented limits) before it becomes a `CfnPipeline`.
CDK tokens (role ARNs, the key, subnets) are not known at synth: they stand in as run-time
strings, so their type is checked and their content is left to the deploy.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Stack, Token
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from ground.contract.findings import ContractError, finding
from ground.contract.pipeline import ExecutionContext, definition_findings
from ground.contract.unknown import Unknown
from ground.pipeline.invariants import job_security_violations

TOKEN = "CloudFormation token"


def with_tokens_unknown(value: Any) -> Any:
    """`value` with every unresolved CDK token replaced by an `Unknown` of its kind."""
    if isinstance(value, dict):
        return {key: with_tokens_unknown(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [with_tokens_unknown(item) for item in value]
    if isinstance(value, str) and Token.is_unresolved(value):
        return Unknown("string", TOKEN)
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if number and Token.is_unresolved(value):
        return Unknown("any", TOKEN)
    return value


def check_definition(definition: dict, pipeline_name: str, stack: Stack) -> None:
    """ContractError listing every security or contract finding of `definition`."""
    where = f"pipeline {pipeline_name}"
    found = [
        finding(where, "job security invariants", "", violation)
        for violation in job_security_violations(definition)
    ]
    context = ExecutionContext(pipeline_name, stack.region, stack.account)
    found += definition_findings(with_tokens_unknown(definition), context)
    if found:
        raise ContractError(f"pipeline {pipeline_name}", found)


class SageMakerPipeline(Construct):
    """`pipeline_name` running `definition` as `role`, created once the role's policy exists."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        pipeline_name: str,
        description: str,
        definition: dict,
        role: iam.IRole,
        role_policy: Construct,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        check_definition(definition, pipeline_name, stack)
        self.pipeline_name = pipeline_name
        self.definition = definition
        # "Default" keeps the logical id of a CfnPipeline that sat where this construct is.
        self.resource = sagemaker.CfnPipeline(
            self,
            "Default",
            pipeline_name=pipeline_name,
            pipeline_display_name=pipeline_name,
            pipeline_description=description,
            role_arn=role.role_arn,
            pipeline_definition={"PipelineDefinitionBody": stack.to_json_string(definition)},
        )
        # The role's permissions live in its managed policy: attach it before any run starts.
        self.resource.node.add_dependency(role_policy)
        self.pipeline_arn = stack.format_arn(
            service="sagemaker", resource="pipeline", resource_name=pipeline_name
        )
