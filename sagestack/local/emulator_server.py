"""moto's server with the few compatibility shims a real `cdk deploy` needs.

Run as `python -m sagestack.local.emulator_server -H 127.0.0.1 -p PORT`. Each shim fixes one
gap between moto and the CloudFormation calls the CDK CLI makes, and says so here:

1. TemplateURL on loopback: the CLI uploads templates to the emulator's S3 and passes a
   path-style `http://127.0.0.1:PORT/bucket/key` URL, which moto only parses for `localhost`.
2. KMS keys from CloudFormation: their tags are spelled `Key`/`Value` where moto's KMS model
   expects `TagKey`/`TagValue`, and their key policy arrives as an object where moto expects
   the JSON text (DescribeKey then fails).
3. Change sets by name: every stack's is called `cdk-deploy-change-set`, and moto looks
   them up by name alone, across stacks: a second deploy then finds another stack's
   executed change set and the CLI waits forever. As on AWS, a change set named with its stack
   is that stack's (describe, execute, delete), executing a change set retires the stack's
   change sets, deleting one that is gone is a no-op, and one that is not there is
   ChangeSetNotFound, as the CLI expects when it updates a stack. (Stacks deploy side by side:
   without the scoping, updating one stack deleted another stack's pending change set.)
4. `AWS::SageMaker::Pipeline` and `AWS::SageMaker::ModelPackageGroup`: moto's API has them,
   its CloudFormation engine does not; `emulator_resources` adds the two models, and
   `emulator_studio` those of the Studio stack (`AWS::SageMaker::Domain`, `UserProfile`).
5. `Fn::GetStackOutput`: CDK's recommended weak cross-stack references read another stack's
   output directly; moto only knows `Fn::ImportValue`, so this resolves the new intrinsic
   from the named stack's outputs in the same account and region.
6. Outputs of a stack created through a change set (what `cdk deploy` does): moto keeps
   the outputs of the empty template the change set started from, so they are rebuilt
   from the applied template.
7. Names of SageMaker models, endpoint configs and endpoints: moto ignores the `ModelName`,
   `EndpointConfigName` and `EndpointName` of the template and invents names, so the
   endpoint could not be described by the name the stacks give it.
8. Custom resources: moto runs their Lambda handlers in Docker, which this machine does not
   have, and the stack would wait forever. Here they complete at once without running;
   `sagestack local deploy` lists them as not executed, so nobody mistakes this for AWS.
9. `AWS::SSM::Parameter`: CloudFormation gives its tags as a map where moto's SSM model
   wants a list, and moto's engine creates a stack's resources again when it lists them
   after a change set, where SSM refuses a parameter that exists: CloudFormation owns the
   parameter, so creating it again overwrites its value.
10. Names CloudFormation generates for SageMaker resources (an endpoint config the template
   does not name): moto's are `<stack>-<logical id>-<suffix>` at any length, where SageMaker
   names hold at most 63 characters, so the contract client refused the emulator's own name.
   CloudFormation keeps a generated name within the resource's limit; so does this.
11. Model Monitor and alarms: moto's engine skips `AWS::SageMaker::DataQualityJobDefinition`,
   `ModelQualityJobDefinition` and `AWS::CloudWatch::Alarm` (its API has them) and moto has
   no monitoring schedules; `emulator_monitoring` adds the models and
   DescribeMonitoringSchedule / ListMonitoringSchedules, and EventBridge's TestEventPattern
   (moto's own matcher), so the monitoring loop runs on what was deployed.
12. Updates of a stack with SSM-typed parameters (every CDK stack's `BootstrapVersion`): the
   CLI passes them with UsePreviousValue, moto hands the value it resolved before back to its
   SSM lookup as if it were a parameter name, and the update failed. A value that names no
   SSM parameter is that resolved value.
"""

from __future__ import annotations

import json
import sys
from typing import Any
from urllib.parse import urlparse

from moto.cloudformation import exceptions as cloudformation_exceptions
from moto.cloudformation import models as cloudformation_models
from moto.cloudformation import parsing as cloudformation_parsing
from moto.cloudformation import responses as cloudformation_responses
from moto.cloudformation import utils as cloudformation_utils
from moto.cloudformation.custom_model import CustomModel
from moto.core.responses import ActionResult, EmptyResult
from moto.kms import models as kms_models
from moto.s3.models import s3_backends
from moto.sagemaker import models as sagemaker_models
from moto.ssm import models as ssm_models

# Importing it registers the CloudFormation models of the SageMaker resources (shim 4).
from sagestack.local import emulator_resources, emulator_studio  # noqa: F401

# Importing it registers the Model Monitor and alarm models (shim 11).
from sagestack.local.emulator_monitoring import add_monitoring_apis


def _template_from_loopback_url(template_url: str, account_id: str, partition: str) -> str:
    parts = urlparse(template_url)
    if parts.hostname in ("127.0.0.1", "localhost"):
        bucket_name, key_name = parts.path.lstrip("/").split("/", 1)
        key = s3_backends[account_id][partition].get_object(bucket_name, key_name)
        return key.value.decode("utf-8")
    return _original_get_stack_from_s3_url(template_url, account_id, partition)


_original_get_stack_from_s3_url = cloudformation_utils.get_stack_from_s3_url
_original_create_key = kms_models.KmsBackend.create_key


def _normalized_tags(tags: list[dict[str, str]] | None) -> list[dict[str, str]]:
    return [
        {
            "TagKey": tag.get("TagKey", tag.get("Key")),
            "TagValue": tag.get("TagValue", tag.get("Value")),
        }
        for tag in tags or []
    ]


def _create_key_from_cloudformation(self: Any, *args: Any, **kwargs: Any) -> Any:
    if isinstance(kwargs.get("policy"), dict):
        kwargs["policy"] = json.dumps(kwargs["policy"])
    elif args and isinstance(args[0], dict):
        args = (json.dumps(args[0]), *args[1:])
    if "tags" in kwargs:
        kwargs["tags"] = _normalized_tags(kwargs["tags"])
    elif len(args) > 4:
        args = (*args[:4], _normalized_tags(args[4]), *args[5:])
    return _original_create_key(self, *args, **kwargs)


_original_execute_change_set = cloudformation_models.CloudFormationBackend.execute_change_set


def _execute_and_retire_change_sets(
    self: Any, change_set_name: str, stack_name: str | None = None
) -> None:
    _original_execute_change_set(self, change_set_name, stack_name)
    executed = self.change_sets.get(change_set_name) or next(
        (cs for cs in self.change_sets.values() if cs.change_set_name == change_set_name), None
    )
    if executed is not None:
        for change_set_id, change_set in list(self.change_sets.items()):
            if change_set.stack_id == executed.stack_id:
                del self.change_sets[change_set_id]


def _change_set_of_stack(backend: Any, name: str, stack_name: str | None) -> str | None:
    """The id of change set `name` (a name or id) of stack `stack_name` (a name or id; any
    stack when None), or None when there is none."""
    if name in backend.change_sets:
        return name
    stack_ids = {
        stack.stack_id
        for stack in backend.stacks.values()
        if stack_name in (None, stack.name, stack.stack_id) and stack.status != "DELETE_COMPLETE"
    }
    for change_set_id, change_set in backend.change_sets.items():
        if change_set.change_set_name == name and change_set.stack_id in stack_ids:
            return str(change_set_id)
    return None


class ChangeSetNotFound(cloudformation_exceptions.CloudFormationError):
    """What CloudFormation answers for a change set that is not there (the CLI waits for it
    after deleting a leftover change set before an update)."""

    code = "ChangeSetNotFoundException"  # the model's shape: ChangeSetNotFound, HTTP 404

    def __init__(self, name: str) -> None:
        super().__init__(f"ChangeSet [{name}] does not exist")


def _scoped_change_set(self: Any) -> str:
    name = self._get_param("ChangeSetName")
    found = _change_set_of_stack(self.cloudformation_backend, name, self._get_param("StackName"))
    if found is None:
        raise ChangeSetNotFound(name)
    return found


def _describe_change_set_of_stack(self: Any) -> ActionResult:
    name = _scoped_change_set(self)
    return ActionResult(self.cloudformation_backend.describe_change_set(change_set_name=name))


def _execute_change_set_of_stack(self: Any) -> EmptyResult:
    self.cloudformation_backend.execute_change_set(
        stack_name=self._get_param("StackName"), change_set_name=_scoped_change_set(self)
    )
    return EmptyResult()


def _delete_change_set_of_stack(self: Any) -> EmptyResult:
    """Deleting a change set the stack does not have is a no-op (another stack's of the same
    name is not touched)."""
    name = _change_set_of_stack(
        self.cloudformation_backend,
        self._get_param("ChangeSetName"),
        self._get_param("StackName"),
    )
    if name is not None:
        self.cloudformation_backend.delete_change_set(change_set_name=name)
    return EmptyResult()


def _custom_resource_without_lambda(
    cls: type[CustomModel],
    resource_name: str,
    cloudformation_json: dict[str, Any],
    account_id: str,
    region_name: str,
    **kwargs: Any,
) -> CustomModel:
    resource = CustomModel(region_name, "not-executed", kwargs["LogicalId"], resource_name)
    resource.set_data({})
    return resource


_original_clean_json = cloudformation_parsing.clean_json


def _clean_json_with_stack_outputs(resource_json: Any, resources_map: Any) -> Any:
    if isinstance(resource_json, dict) and "Fn::GetStackOutput" in resource_json:
        reference = _original_clean_json(resource_json["Fn::GetStackOutput"], resources_map)
        backend = cloudformation_models.cloudformation_backends[resources_map._account_id][
            reference.get("Region", resources_map._region_name)
        ]
        for stack in backend.stacks.values():
            if stack.name == reference["StackName"] and stack.status != "DELETE_COMPLETE":
                for output in stack.outputs or []:
                    if output["OutputKey"] == reference["OutputName"]:
                        return output["OutputValue"]
        raise ValueError(
            f"Fn::GetStackOutput: stack {reference['StackName']} has no output "
            f"{reference['OutputName']} in the emulator"
        )
    return _original_clean_json(resource_json, resources_map)


_original_apply_change_set = cloudformation_models.ChangeSet.apply


def _apply_change_set_with_outputs(self: Any) -> None:
    _original_apply_change_set(self)
    self.stack.template = self.template
    self.stack._parse_template()
    self.stack.output_map = self.stack._create_output_map()


NAMED_SAGEMAKER_MODELS = {
    sagemaker_models.Model: "ModelName",
    sagemaker_models.FakeEndpointConfig: "EndpointConfigName",
    sagemaker_models.FakeEndpoint: "EndpointName",
}


def _parameter_owned_by_the_stack(
    cls: Any, resource_name: str, cloudformation_json: Any, account_id: str, region: str, **kw: Any
) -> Any:
    properties = dict(cloudformation_json.get("Properties", {}))
    tags = properties.pop("Tags", None) or {}
    exists = properties.get("Name") in ssm_models.ssm_backends[account_id][region]._parameters
    if exists:
        properties["Overwrite"] = True
    else:
        properties["Tags"] = [{"Key": k, "Value": v} for k, v in tags.items()]
    return _original_create_parameter(
        resource_name, {**cloudformation_json, "Properties": properties}, account_id, region, **kw
    )


_original_create_parameter = ssm_models.Parameter.create_from_cloudformation_json


_original_generate_resource_name = cloudformation_parsing.generate_resource_name
SAGEMAKER_NAME_LIMIT = 63  # [a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}: botocore's EntityName shapes


def _generated_name_within_limits(resource_type: str, stack_name: str, logical_id: str) -> str:
    name = _original_generate_resource_name(resource_type, stack_name, logical_id)
    if not resource_type.startswith("AWS::SageMaker::") or len(name) <= SAGEMAKER_NAME_LIMIT:
        return name
    suffix = name.rsplit("-", 1)[1]
    head = f"{stack_name}-{logical_id}"[: SAGEMAKER_NAME_LIMIT - len(suffix) - 1].rstrip("-")
    return f"{head}-{suffix}"


_original_parse_ssm_parameter = cloudformation_parsing.ResourceMap.parse_ssm_parameter


def _ssm_parameter_or_previous_value(self: Any, value: str, value_type: str) -> str:
    if ssm_models.ssm_backends[self._account_id][self._region_name].get_parameter(value) is None:
        return value
    return _original_parse_ssm_parameter(self, value, value_type)


def _name_property(property_name: str) -> staticmethod:
    return staticmethod(lambda: property_name)


def apply_shims() -> None:
    cloudformation_parsing.ResourceMap.parse_ssm_parameter = _ssm_parameter_or_previous_value  # type: ignore[method-assign]
    add_monitoring_apis()
    for model, property_name in NAMED_SAGEMAKER_MODELS.items():
        model.cloudformation_name_type = _name_property(property_name)
    cloudformation_parsing.generate_resource_name = _generated_name_within_limits
    cloudformation_models.ChangeSet.apply = _apply_change_set_with_outputs
    cloudformation_parsing.clean_json = _clean_json_with_stack_outputs
    cloudformation_responses.get_stack_from_s3_url = _template_from_loopback_url
    kms_models.KmsBackend.create_key = _create_key_from_cloudformation
    response = cloudformation_responses.CloudFormationResponse
    response.describe_change_set = _describe_change_set_of_stack  # type: ignore[method-assign]
    response.execute_change_set = _execute_change_set_of_stack  # type: ignore[method-assign]
    response.delete_change_set = _delete_change_set_of_stack  # type: ignore[method-assign]
    cloudformation_models.CloudFormationBackend.execute_change_set = _execute_and_retire_change_sets
    CustomModel.create_from_cloudformation_json = classmethod(_custom_resource_without_lambda)
    ssm_models.Parameter.create_from_cloudformation_json = classmethod(
        _parameter_owned_by_the_stack
    )


def main(argv: list[str] | None = None) -> None:
    apply_shims()
    from moto.server import main as moto_main

    moto_main(argv if argv is not None else sys.argv[1:])


if __name__ == "__main__":
    main()
