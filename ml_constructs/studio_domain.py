"""A SageMaker Studio domain in VPC-only mode, and its user profiles.

Traffic stays in the platform VPC (its isolated subnets and the workloads security group, which
lets members talk to each other and reach the VPC endpoints), storage is encrypted with the
platform's data key, JupyterLab is the landing app, notebook output is never shared, apps
outside the configured list are hidden (the roles cannot create them either), and idle
JupyterLab apps are shut down by the domain's built-in idle settings.

Teardown: CloudFormation's delete of a domain leaves its home EFS file system behind
(DeleteDomain retains it unless told otherwise, and CloudFormation does not tell it:
https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_DeleteDomain.html,
https://github.com/aws-cloudformation/cloudformation-coverage-roadmap/issues/1085). So an
environment that destroys its data creates no home EFS at all (`HomeEfsFileSystemCreation:
Disabled`; JupyterLab spaces keep their work on their own EBS volumes, deleted with the space),
and one that retains data keeps the domain and its file system (DeletionPolicy Retain).
"""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from ground.config.studio import MIN_IDLE_MINUTES, StudioConfig, UserProfileConfig
from ml_constructs.job_network import JobNetwork

# Studio's app types that no configuration turns on here (Studio Classic, RStudio, ...).
ALWAYS_HIDDEN = ["JupyterServer", "RStudioServerPro", "TensorBoard", "DetailedProfiler"]
CONFIGURABLE_APPS = {"code-editor": "CodeEditor", "canvas": "Canvas"}


class StudioDomain(Construct):
    """`.domain` (CfnDomain) and `.domain_id`; `add_profile()` adds a user profile."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        domain_name: str,
        studio: StudioConfig,
        network: JobNetwork,
        key_arn: str,
        default_role_arn: str,
        retain: bool,
    ) -> None:
        super().__init__(scope, construct_id)
        self._studio = studio
        self._security_groups = [network.security_group.security_group_id]
        self._removal = RemovalPolicy.RETAIN if retain else RemovalPolicy.DESTROY
        self.domain = sagemaker.CfnDomain(
            self,
            "Domain",
            domain_name=domain_name,
            auth_mode=studio.auth.upper(),
            app_network_access_type="VpcOnly",
            vpc_id=network.vpc.vpc_id,
            subnet_ids=network.subnet_ids,
            kms_key_id=key_arn,
            home_efs_file_system_creation="Enabled" if retain else "Disabled",
            tag_propagation="ENABLED",
            # CloudTrail names the Studio user behind every call its execution role makes.
            domain_settings=sagemaker.CfnDomain.DomainSettingsProperty(
                execution_role_identity_config="USER_PROFILE_NAME"
            ),
            default_user_settings=self._default_user_settings(default_role_arn),
            default_space_settings=sagemaker.CfnDomain.DefaultSpaceSettingsProperty(
                execution_role=default_role_arn,
                security_groups=self._security_groups,
                jupyter_lab_app_settings=self._jupyterlab(),
            ),
        )
        self.domain.apply_removal_policy(self._removal)
        self.domain_id = self.domain.attr_domain_id

    def _jupyterlab(self) -> sagemaker.CfnDomain.JupyterLabAppSettingsProperty:
        """JupyterLab on the default instance type, shut down when idle."""
        idle = self._studio.idle_shutdown
        timeouts = {}
        if idle.enabled:
            timeouts = {
                "idle_timeout_in_minutes": idle.timeout_minutes,
                "min_idle_timeout_in_minutes": MIN_IDLE_MINUTES,
                "max_idle_timeout_in_minutes": idle.max_timeout_minutes,
            }
        return sagemaker.CfnDomain.JupyterLabAppSettingsProperty(
            default_resource_spec=sagemaker.CfnDomain.ResourceSpecProperty(
                instance_type=self._studio.default_instance_type
            ),
            app_lifecycle_management=sagemaker.CfnDomain.AppLifecycleManagementProperty(
                idle_settings=sagemaker.CfnDomain.IdleSettingsProperty(
                    lifecycle_management="ENABLED" if idle.enabled else "DISABLED", **timeouts
                )
            ),
        )

    def _default_user_settings(self, role_arn: str) -> sagemaker.CfnDomain.UserSettingsProperty:
        """What every user gets; a profile only changes the execution role."""
        hidden = ALWAYS_HIDDEN + [
            app_type for app, app_type in CONFIGURABLE_APPS.items() if app not in self._studio.apps
        ]
        return sagemaker.CfnDomain.UserSettingsProperty(
            execution_role=role_arn,
            security_groups=self._security_groups,
            default_landing_uri="studio::",
            studio_web_portal="ENABLED",
            sharing_settings=sagemaker.CfnDomain.SharingSettingsProperty(
                notebook_output_option="Disabled"
            ),
            jupyter_lab_app_settings=self._jupyterlab(),
            studio_web_portal_settings=sagemaker.CfnDomain.StudioWebPortalSettingsProperty(
                hidden_app_types=hidden
            ),
        )

    def add_profile(self, profile: UserProfileConfig, role_arn: str) -> sagemaker.CfnUserProfile:
        sso = {}
        if profile.sso_user is not None:
            sso = {
                "single_sign_on_user_identifier": "UserName",
                "single_sign_on_user_value": profile.sso_user,
            }
        user = sagemaker.CfnUserProfile(
            self,
            f"Profile-{profile.name}",
            domain_id=self.domain_id,
            user_profile_name=profile.name,
            user_settings=sagemaker.CfnUserProfile.UserSettingsProperty(execution_role=role_arn),
            tags=[
                {"key": "sagestack:persona", "value": profile.persona},
                {"key": "sagestack:team", "value": profile.team},
            ],
            **sso,
        )
        user.apply_removal_policy(self._removal)
        return user
