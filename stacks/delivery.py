"""Delivery stack: a self-updating CDK pipeline that deploys dev → staging → approval → prod.

It is synthesized only with `-c delivery=true` and deployed once, by hand, into the tooling
account; from then on every push to the branch updates the pipeline itself and then the
environments, each in its own account (cross-account keys encrypt the artifacts).
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Annotations, CfnResource, Stack, pipelines
from aws_cdk import Environment as Target
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from cdk_nag import AwsSolutionsChecks
from constructs import Construct, IConstruct

from ground.config import Environment, EnvironmentConfig, ModelDeployment
from ground.config.delivery import DeliveryConfig, SmokeRequest
from ml_constructs.acknowledgments import (
    PIPELINE_ARTIFACTS_REPLICATION,
    PIPELINE_GENERATED_POLICIES,
    PIPELINE_GENERATED_WILDCARDS,
    PIPELINE_SOURCED_BUILDS,
    acknowledge,
)
from ml_constructs.compliant_bucket import BucketLifecycle, CompliantBucket
from ml_constructs.platform_role import PlatformRole
from stacks.stage import SageStackStage

PIPELINE_NAME = "sagestack-delivery"
SMOKE_TEST_ROLE = f"{PIPELINE_NAME}-smoke-test"
BUILD_IMAGE = codebuild.LinuxBuildImage.STANDARD_7_0
# The image's Python for the Makefile (`make setup` brings Node 24 and the pinned CDK CLI).
BUILD_SPEC = {"phases": {"install": {"runtime-versions": {"python": "3.11"}}}}
# The CLI that self-mutation and asset publishing install: the one package.json pins.
CDK_CLI_VERSION = "2.1148.1"
# The synth step is the gate: the whole test suite (cdk-nag packs, cfn-lint, checkov and the
# template baselines included) and then the synth that the pipeline deploys and updates from.
SYNTH_COMMANDS = ("make test", "node_modules/.bin/cdk synth --quiet -c delivery=true")
ARTIFACT_LOGS_PREFIX = "pipeline-artifacts/"
WILDCARD_RULE = "AwsSolutions-IAM5["


def smoke_test_role_arn(stack: Stack, config: EnvironmentConfig) -> str:
    """The role `SmokeTestAccessStack` creates in `config`'s account."""
    return f"arn:{stack.partition}:iam::{config.account}:role/{config.prefix}-smoke-test"


def smoke_tested(environment: Environment, delivery: DeliveryConfig) -> list[ModelDeployment]:
    """The models an environment listed for smoke tests serves and has a request for."""
    if environment.name not in delivery.smoke_test.environments:
        return []
    return [
        d
        for d in environment.models
        if d.serving.model is not None and d.name in delivery.smoke_test.requests
    ]


class SmokeTestAccessStack(Stack):
    """In an environment's account: a role the pipeline's smoke test assumes to invoke it."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        endpoint_names: list[str],
        pipeline_account: str,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        role = PlatformRole(
            self,
            "SmokeTestRole",
            role_name=f"{config.prefix}-smoke-test",
            assumed_by=iam.ArnPrincipal(
                f"arn:{self.partition}:iam::{pipeline_account}:role/{SMOKE_TEST_ROLE}"
            ),
            description="The delivery pipeline's smoke test: invoke the endpoints, nothing else",
        )
        endpoints = [
            self.format_arn(service="sagemaker", resource="endpoint", resource_name=name)
            for name in endpoint_names
        ]
        role.allow(["sagemaker:DescribeEndpoint", "sagemaker:InvokeEndpoint"], endpoints)


def smoke_test_step(
    deployment: ModelDeployment, smoke: SmokeRequest, role: iam.IRole, role_arn: str
) -> pipelines.Step:
    """Wait for a model's endpoint, then send its request as the environment's smoke-test role."""
    profile = "environment"
    endpoint = deployment.endpoint_name
    return pipelines.CodeBuildStep(
        f"SmokeTest-{deployment.environment.name}-{deployment.name}",
        role=role,
        env={"SMOKE_TEST_BODY": smoke.body},
        commands=[
            f"aws configure set profile.{profile}.role_arn {role_arn}",
            f"aws configure set profile.{profile}.credential_source EcsContainer",
            f"aws configure set profile.{profile}.region {deployment.environment.region}",
            f"aws --profile {profile} sagemaker wait endpoint-in-service "
            f"--endpoint-name {endpoint}",
            'printf "%s" "$SMOKE_TEST_BODY" > request',
            f"aws --profile {profile} sagemaker-runtime invoke-endpoint --endpoint-name {endpoint} "
            f"--content-type {smoke.content_type} --body fileb://request response",
            "cat response",
        ],
    )


class DeliveryStack(Stack):
    """The pipeline: source, synth gate, one stage per environment in promotion order."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        delivery: DeliveryConfig,
        environments: list[Environment],
        **kwargs,
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            env=Target(account=delivery.account, region=delivery.region),
            **kwargs,
        )
        source = pipelines.CodePipelineSource.connection(
            delivery.repository, delivery.branch, connection_arn=delivery.connection_arn
        )
        self.pipeline = pipelines.CodePipeline(
            self,
            "Pipeline",
            pipeline_name=PIPELINE_NAME,
            synth=pipelines.ShellStep(
                "Synth",
                input=source,
                commands=list(SYNTH_COMMANDS),
                primary_output_directory="cdk.out",
            ),
            cross_account_keys=True,
            enable_key_rotation=True,
            self_mutation=True,
            cli_version=CDK_CLI_VERSION,
            code_build_defaults=pipelines.CodeBuildOptions(
                build_environment=codebuild.BuildEnvironment(build_image=BUILD_IMAGE),
                partial_build_spec=codebuild.BuildSpec.from_object(BUILD_SPEC),
            ),
        )
        smoke_role = iam.Role(
            self,
            "SmokeTestRole",
            role_name=SMOKE_TEST_ROLE,
            assumed_by=iam.ServicePrincipal("codebuild.amazonaws.com"),
            description="Runs the smoke tests; may only assume each environment's smoke-test role",
        )
        for config in environments:
            self._add_environment(config, delivery, smoke_role)
        self.pipeline.build_pipeline()
        self._harden_artifact_bucket(delivery)
        for scope in (self.pipeline, smoke_role):
            _acknowledge_generated_findings(scope)

    def _harden_artifact_bucket(self, delivery: DeliveryConfig) -> None:
        """Versioning and access logs for the bucket CDK Pipelines creates (it offers neither)."""
        artifacts = self.pipeline.pipeline.artifact_bucket
        access_logs = CompliantBucket(
            self,
            "AccessLogs",
            bucket_name=f"{PIPELINE_NAME}-access-logs-{delivery.account}-{delivery.region}",
            key=None,
            access_logs=None,
            lifecycle=BucketLifecycle(
                retain=True, noncurrent_version_expiration_days=90, abort_incomplete_upload_days=7
            ),
        ).bucket
        access_logs.add_to_resource_policy(
            iam.PolicyStatement(
                sid="S3ServerAccessLogsFromArtifacts",
                principals=[iam.ServicePrincipal("logging.s3.amazonaws.com")],
                actions=["s3:PutObject"],
                resources=[access_logs.arn_for_objects(f"{ARTIFACT_LOGS_PREFIX}*")],
                conditions={
                    "ArnLike": {"aws:SourceArn": artifacts.bucket_arn},
                    "StringEquals": {"aws:SourceAccount": delivery.account},
                },
            )
        )
        bucket = artifacts.node.default_child
        if not isinstance(bucket, s3.CfnBucket):
            raise TypeError("CDK Pipelines' artifact bucket has no CfnBucket")
        bucket.versioning_configuration = s3.CfnBucket.VersioningConfigurationProperty(
            status="Enabled"
        )
        bucket.logging_configuration = s3.CfnBucket.LoggingConfigurationProperty(
            destination_bucket_name=access_logs.bucket_name, log_file_prefix=ARTIFACT_LOGS_PREFIX
        )
        bucket.lifecycle_configuration = s3.CfnBucket.LifecycleConfigurationProperty(
            rules=[
                s3.CfnBucket.RuleProperty(
                    id="expire-noncurrent-versions",
                    status="Enabled",
                    noncurrent_version_expiration=s3.CfnBucket.NoncurrentVersionExpirationProperty(
                        noncurrent_days=30
                    ),
                )
            ]
        )
        acknowledge(bucket, PIPELINE_ARTIFACTS_REPLICATION)

    def _add_environment(
        self, environment: Environment, delivery: DeliveryConfig, smoke_role: iam.Role
    ) -> None:
        config = environment.config
        stage = SageStackStage(self, environment)
        pre: list[pipelines.Step] = []
        post: list[pipelines.Step] = []
        if config.name in delivery.approval_before:
            pre.append(
                pipelines.ManualApprovalStep(
                    f"Approve-{config.name}",
                    comment=f"Deploy to {config.name}? Check the staging smoke test and the "
                    "pull request's review report first.",
                )
            )
        tested = smoke_tested(environment, delivery)
        if tested:
            SmokeTestAccessStack(
                stage,
                "smoke-test",
                config=config,
                endpoint_names=[d.endpoint_name for d in tested],
                pipeline_account=delivery.account,
                stack_name=f"{config.prefix}-smoke-test",
                env=Target(account=config.account, region=config.region),
            )
            role_arn = smoke_test_role_arn(self, config)
            smoke_role.add_to_policy(
                iam.PolicyStatement(actions=["sts:AssumeRole"], resources=[role_arn])
            )
            requests = delivery.smoke_test.requests
            post += [smoke_test_step(d, requests[d.name], smoke_role, role_arn) for d in tested]
        elif config.name in delivery.smoke_test.environments:
            Annotations.of(stage).add_info(
                f"{config.name}: no pinned model with a smoke-test request: the pipeline skips "
                "its smoke test"
            )
        self.pipeline.add_stage(stage, pre=pre, post=post)


def _acknowledge_generated_findings(scope: IConstruct) -> None:
    """Acknowledge what CDK Pipelines generates under `scope`, with the recorded reasons.

    Inline policies and CODEPIPELINE-sourced projects are the library's design. Its wildcard
    grants are acknowledged one by one, exactly as the AwsSolutions pack names them, and only
    on the library's inline policies: a wildcard in any other resource still fails the synth.
    """
    for node in scope.node.find_all():
        if not isinstance(node, CfnResource):
            continue
        if node.cfn_resource_type == "AWS::IAM::Policy":
            acknowledge(node, PIPELINE_GENERATED_POLICIES)
            for violation in AwsSolutionsChecks().validate_scope(node).violations:
                if violation.rule_name.startswith(WILDCARD_RULE):
                    detail = violation.rule_name.removeprefix(WILDCARD_RULE).removesuffix("]")
                    acknowledge(node, PIPELINE_GENERATED_WILDCARDS, detail)
        elif node.cfn_resource_type == "AWS::CodeBuild::Project":
            acknowledge(node, PIPELINE_SOURCED_BUILDS)
