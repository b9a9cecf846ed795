"""CloudFormation support for the SageMaker resource types whose API moto already implements.

moto's SageMaker backend answers CreatePipeline and CreateModelPackageGroup, but its
CloudFormation engine does not know `AWS::SageMaker::Pipeline` nor
`AWS::SageMaker::ModelPackageGroup` and would skip them. These two models route the template's
properties to those API calls, so a deployed pipeline and registry can be described through
boto3 and the local executor can run the definition that was actually deployed.
Importing this module registers them (moto finds models through subclassing).
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from moto.core.common_models import CloudFormationModel
from moto.sagemaker.models import sagemaker_backends

from sagestack.local.pipeline.assembly import GROUP_TYPE, PIPELINE_TYPE


def _tags(properties: dict[str, Any]) -> list[dict[str, str]]:
    return list(properties.get("Tags", []))


class EmulatedResource:
    """A named resource that moto's API created for a template (its name, its ARN).

    A mixin: moto finds CloudFormation models among CloudFormationModel's direct subclasses,
    so each model names CloudFormationModel as a base of its own.
    """

    CFN_TYPE: ClassVar[str]
    NAME_PROPERTY: ClassVar[str]  # the template property that holds the resource's name
    REF: ClassVar[str] = "name"  # what `Ref` gives (the physical id): "name" or "arn"
    # (Fn::GetAtt attribute, "name" or "arn")
    ATTRIBUTES: ClassVar[tuple[tuple[str, str], ...]] = ()

    def __init__(self, name: str, arn: str) -> None:
        self.name = name
        self.arn = arn

    def is_created(self) -> bool:
        return True

    @classmethod
    def cloudformation_type(cls) -> str:
        return cls.CFN_TYPE

    @classmethod
    def cloudformation_name_type(cls) -> str:
        return cls.NAME_PROPERTY

    @classmethod
    def name_in(cls, cloudformation_json: dict[str, Any], logical_name: str) -> str:
        """The name the template gives, or the one CloudFormation generated."""
        return str(cloudformation_json["Properties"].get(cls.NAME_PROPERTY, logical_name))

    @property
    def physical_resource_id(self) -> str:
        return str(getattr(self, self.REF))

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr in dict(cls.ATTRIBUTES)

    def get_cfn_attribute(self, attribute_name: str) -> str:
        return str(getattr(self, dict(self.ATTRIBUTES)[attribute_name]))

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> Any:
        raise NotImplementedError

    @classmethod
    def delete_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> None:
        raise NotImplementedError

    @classmethod
    def update_from_cloudformation_json(
        cls,
        original_resource: Any,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> Any:
        """Replaced, as CloudFormation replaces it when its properties change."""
        cls.delete_from_cloudformation_json(
            original_resource.name, cloudformation_json, account_id, region_name
        )
        return cls.create_from_cloudformation_json(
            new_resource_name, cloudformation_json, account_id, region_name
        )


class EmulatedPipeline(EmulatedResource, CloudFormationModel):
    """`AWS::SageMaker::Pipeline` with an inline definition body, created through the API."""

    CFN_TYPE = PIPELINE_TYPE
    NAME_PROPERTY = "PipelineName"
    ATTRIBUTES = (("PipelineName", "name"),)

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> EmulatedPipeline:
        properties = cloudformation_json["Properties"]
        name = cls.name_in(cloudformation_json, resource_name)
        body = properties["PipelineDefinition"]["PipelineDefinitionBody"]
        pipeline = sagemaker_backends[account_id][region_name].create_pipeline(
            pipeline_name=name,
            pipeline_display_name=properties.get("PipelineDisplayName", name),
            pipeline_definition=body if isinstance(body, str) else json.dumps(body),
            pipeline_definition_s3_location={},
            pipeline_description=properties.get("PipelineDescription", ""),
            role_arn=properties["RoleArn"],
            tags=_tags(properties),
            parallelism_configuration=properties.get("ParallelismConfiguration", {}),
        )
        return cls(name, pipeline.arn)

    @classmethod
    def delete_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> None:
        backend = sagemaker_backends[account_id][region_name]
        name = cls.name_in(cloudformation_json, resource_name)
        if name in backend.pipelines:
            backend.delete_pipeline(name)


class EmulatedModelPackageGroup(EmulatedResource, CloudFormationModel):
    """`AWS::SageMaker::ModelPackageGroup`; `Ref` gives its ARN, as in CloudFormation."""

    CFN_TYPE = GROUP_TYPE
    NAME_PROPERTY = "ModelPackageGroupName"
    REF = "arn"
    ATTRIBUTES = (("ModelPackageGroupArn", "arn"), ("ModelPackageGroupName", "name"))

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> EmulatedModelPackageGroup:
        properties = cloudformation_json["Properties"]
        name = cls.name_in(cloudformation_json, resource_name)
        arn = sagemaker_backends[account_id][region_name].create_model_package_group(
            model_package_group_name=name,
            model_package_group_description=properties.get("ModelPackageGroupDescription", ""),
            tags=_tags(properties),
        )
        return cls(name, arn)

    @classmethod
    def update_from_cloudformation_json(
        cls,
        original_resource: EmulatedModelPackageGroup,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> EmulatedModelPackageGroup:
        # The group keeps its registered packages across updates, as in CloudFormation.
        return original_resource

    @classmethod
    def delete_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> None:
        backend = sagemaker_backends[account_id][region_name]
        name = cls.name_in(cloudformation_json, resource_name)
        backend.model_package_groups.pop(name, None)
