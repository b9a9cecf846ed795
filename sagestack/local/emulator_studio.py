"""CloudFormation support for the Studio stack's `AWS::SageMaker::Domain` and
`AWS::SageMaker::UserProfile`, which moto's CloudFormation engine does not know.

A domain goes through moto's CreateDomain, so DescribeDomain and ListDomains answer with what
the template asked for. moto has no user-profile API: a profile is recorded here, under its
domain, with the ARN SageMaker would give it, and a domain refuses to be deleted while it still
has profiles (as SageMaker does), so the stack's deletion order is exercised.
Importing this module registers both models (moto finds models through subclassing).
"""

from __future__ import annotations

from typing import Any, ClassVar

from moto.core.common_models import CloudFormationModel
from moto.sagemaker.models import sagemaker_backends
from moto.sagemaker.utils import arn_formatter

from sagestack.local.emulator_resources import EmulatedResource

DOMAIN_TYPE = "AWS::SageMaker::Domain"
USER_PROFILE_TYPE = "AWS::SageMaker::UserProfile"


class EmulatorStudioError(Exception):
    """A Studio resource change SageMaker would refuse."""


class EmulatedDomain(EmulatedResource, CloudFormationModel):
    """`AWS::SageMaker::Domain`; `Ref` gives its id, as in CloudFormation."""

    CFN_TYPE = DOMAIN_TYPE
    NAME_PROPERTY = "DomainName"
    REF = "domain_id"
    ATTRIBUTES = (("DomainId", "domain_id"), ("DomainArn", "arn"), ("Url", "url"))
    # domain id -> {profile name: profile ARN}
    profiles: ClassVar[dict[str, dict[str, str]]] = {}

    def __init__(self, name: str, arn: str, domain_id: str, url: str) -> None:
        super().__init__(name, arn)
        self.domain_id = domain_id
        self.url = url

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> EmulatedDomain:
        properties = cloudformation_json["Properties"]
        name = cls.name_in(cloudformation_json, resource_name)
        backend = sagemaker_backends[account_id][region_name]
        created = backend.create_domain(
            domain_name=name,
            auth_mode=properties["AuthMode"],
            default_user_settings=properties["DefaultUserSettings"],
            subnet_ids=properties.get("SubnetIds", []),
            vpc_id=properties.get("VpcId", ""),
            domain_settings=properties.get("DomainSettings"),
            tags=properties.get("Tags", []),
            app_network_access_type=properties.get("AppNetworkAccessType"),
            home_efs_file_system_kms_key_id=None,
            kms_key_id=properties.get("KmsKeyId"),
            app_security_group_management=properties.get("AppSecurityGroupManagement"),
            default_space_settings=properties.get("DefaultSpaceSettings"),
        )
        domain_id = created["DomainArn"].rsplit("/", 1)[1]
        cls.profiles[domain_id] = {}
        return cls(name, created["DomainArn"], domain_id, created["Url"])

    @classmethod
    def update_from_cloudformation_json(
        cls,
        original_resource: EmulatedDomain,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> EmulatedDomain:
        # The settings live in the template; the domain (and its profiles) stays.
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
        for domain_id, domain in list(backend.domains.items()):
            if domain.domain_name != name:
                continue
            if cls.profiles.get(domain_id):
                remaining = ", ".join(sorted(cls.profiles[domain_id]))
                raise EmulatorStudioError(f"domain {domain_id} still has profiles: {remaining}")
            cls.profiles.pop(domain_id, None)
            backend.delete_domain(domain_id, None)


class EmulatedUserProfile(EmulatedResource, CloudFormationModel):
    """`AWS::SageMaker::UserProfile`; `Ref` gives its ARN, as in CloudFormation."""

    CFN_TYPE = USER_PROFILE_TYPE
    NAME_PROPERTY = "UserProfileName"
    REF = "arn"
    ATTRIBUTES = (("UserProfileArn", "arn"),)

    def __init__(self, name: str, arn: str, domain_id: str) -> None:
        super().__init__(name, arn)
        self.domain_id = domain_id

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> EmulatedUserProfile:
        properties = cloudformation_json["Properties"]
        name = cls.name_in(cloudformation_json, resource_name)
        domain_id = properties["DomainId"]
        if domain_id not in EmulatedDomain.profiles:
            raise EmulatorStudioError(f"user profile {name}: no domain {domain_id}")
        arn = arn_formatter("user-profile", f"{domain_id}/{name}", account_id, region_name)
        EmulatedDomain.profiles[domain_id][name] = arn
        return cls(name, arn, domain_id)

    @classmethod
    def update_from_cloudformation_json(
        cls,
        original_resource: EmulatedUserProfile,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> EmulatedUserProfile:
        return original_resource

    @classmethod
    def delete_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> None:
        name = cls.name_in(cloudformation_json, resource_name)
        domain_id = cloudformation_json["Properties"]["DomainId"]
        for owner, profiles in EmulatedDomain.profiles.items():
            # The template's DomainId may still be the unresolved GetAtt here.
            if owner == domain_id or not isinstance(domain_id, str):
                profiles.pop(name, None)
