"""CloudFormation intrinsics in a synthesized assembly, resolved without any AWS account.

The definition body in the template is an `Fn::Join` of JSON text and CDK tokens (role ARNs,
the data key, subnet and security group ids) that CloudFormation fills in at deploy time.
For a local run they are resolved from the assembly itself:

* `Fn::GetStackOutput` reads the named output of the other stack's template and resolves it;
* `Ref` of a resource is its explicit physical name (BucketName, RoleName, ...), else a
  stable placeholder `local-<LogicalId>`; `Fn::GetAtt [R, Arn]` builds the ARN a named role,
  bucket, topic or key would have; pseudo parameters come from the stack's environment.

Placeholders only stand for things a local run never uses (KMS keys, subnets, security
groups): the local runner neither encrypts nor attaches networks. They have the form of the
real identifiers (`sg-` and 17 hex digits, a key UUID, ...), derived from the logical id, so
that the contract validator checks the requests a local run builds as AWS would see them.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from sagestack.assembly import StackTemplate

NAME_PROPERTIES = {
    "AWS::S3::Bucket": "BucketName",
    "AWS::IAM::Role": "RoleName",
    "AWS::IAM::ManagedPolicy": "ManagedPolicyName",
    "AWS::SNS::Topic": "TopicName",
    "AWS::SageMaker::Pipeline": "PipelineName",
    "AWS::SageMaker::ModelPackageGroup": "ModelPackageGroupName",
    "AWS::Logs::LogGroup": "LogGroupName",
}


def _hex(name: str, digits: int) -> str:
    return hashlib.sha256(name.encode()).hexdigest()[:digits]


# Physical ids of resources that have no explicit name, in the form AWS gives them.
GENERATED_IDS = {
    "AWS::EC2::VPC": lambda name: f"vpc-{_hex(name, 17)}",
    "AWS::EC2::Subnet": lambda name: f"subnet-{_hex(name, 17)}",
    "AWS::EC2::SecurityGroup": lambda name: f"sg-{_hex(name, 17)}",
    "AWS::KMS::Key": lambda name: str(uuid.UUID(_hex(name, 32))),
}
GENERATED_ATTRIBUTES = {("AWS::EC2::SecurityGroup", "GroupId"): "AWS::EC2::SecurityGroup"}


class IntrinsicError(Exception):
    """A template value cannot be resolved locally; the message names the stack and value."""


class Resolver:
    """Resolves values of the templates of one assembly (one environment)."""

    def __init__(self, stacks: Mapping[str, StackTemplate]) -> None:
        self.stacks = stacks
        self._templates: dict[str, dict] = {}

    def template(self, stack: StackTemplate) -> dict:
        """The stack's template, read once."""
        if stack.stack_name not in self._templates:
            self._templates[stack.stack_name] = stack.template()
        return self._templates[stack.stack_name]

    def resolve(self, value: Any, stack: StackTemplate) -> Any:
        if isinstance(value, list):
            return [self.resolve(item, stack) for item in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((name, argument),) = value.items()
            handler = INTRINSICS.get(name)
            if handler is not None:
                return handler(self, argument, stack)
            if name.startswith("Fn::"):
                raise IntrinsicError(
                    f"{stack.stack_name}: intrinsic {name} is not supported by the local "
                    f"executor (value {value!r})"
                )
        return {key: self.resolve(item, stack) for key, item in value.items()}

    def _join(self, argument: list, stack: StackTemplate) -> str:
        separator, parts = argument
        return separator.join(str(self.resolve(part, stack)) for part in parts)

    def _stack_output(self, argument: dict, stack: StackTemplate) -> Any:
        name, output = argument["StackName"], argument["OutputName"]
        source = self.stacks.get(name)
        if source is None:
            raise IntrinsicError(
                f"{stack.stack_name}: reads an output of stack {name}, which is not in the "
                f"assembly (stacks: {', '.join(sorted(self.stacks))})"
            )
        outputs = self.template(source).get("Outputs", {})
        if output not in outputs:
            raise IntrinsicError(f"{name}: has no output {output} (read by {stack.stack_name})")
        return self.resolve(outputs[output]["Value"], source)

    def _import(self, export: str, stack: StackTemplate) -> Any:
        for source in self.stacks.values():
            for output in self.template(source).get("Outputs", {}).values():
                exported = output.get("Export", {}).get("Name")
                if exported is not None and self.resolve(exported, source) == export:
                    return self.resolve(output["Value"], source)
        raise IntrinsicError(f"{stack.stack_name}: imports {export!r}, which no stack exports")

    def _ref(self, name: str, stack: StackTemplate) -> Any:
        pseudo = {
            "AWS::AccountId": stack.account,
            "AWS::Region": stack.region,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackName": stack.stack_name,
        }
        if name in pseudo:
            return pseudo[name]
        resource = self._resource(name, stack)
        physical = resource.get("Properties", {}).get(NAME_PROPERTIES.get(resource["Type"], ""))
        if physical:
            return self.resolve(physical, stack)
        generated = GENERATED_IDS.get(resource["Type"])
        return generated(name) if generated else f"local-{name}"

    def _get_att(self, argument: list, stack: StackTemplate) -> Any:
        name, attribute = argument
        resource = self._resource(name, stack)
        if attribute != "Arn":
            kind = GENERATED_ATTRIBUTES.get((resource["Type"], attribute))
            return GENERATED_IDS[kind](name) if kind else f"local-{name}-{attribute}"
        kind = resource["Type"]
        physical = self._ref(name, stack)
        where = f"{stack.region}:{stack.account}"
        arns = {
            "AWS::IAM::Role": f"arn:aws:iam::{stack.account}:role/{physical}",
            "AWS::S3::Bucket": f"arn:aws:s3:::{physical}",
            "AWS::SNS::Topic": f"arn:aws:sns:{where}:{physical}",
            "AWS::KMS::Key": f"arn:aws:kms:{where}:key/{physical}",
        }
        return arns.get(kind, f"arn:aws:local:{where}:{kind}/{physical}")

    def _resource(self, name: str, stack: StackTemplate) -> Mapping:
        resource = self.template(stack).get("Resources", {}).get(name)
        if resource is None:
            raise IntrinsicError(f"{stack.stack_name}: no resource or parameter {name!r}")
        return resource


Intrinsic = Callable[[Resolver, Any, StackTemplate], Any]
INTRINSICS: dict[str, Intrinsic] = {
    "Fn::Join": Resolver._join,
    "Fn::GetStackOutput": Resolver._stack_output,
    "Fn::ImportValue": lambda self, arg, stack: self._import(self.resolve(arg, stack), stack),
    "Ref": Resolver._ref,
    "Fn::GetAtt": Resolver._get_att,
}
