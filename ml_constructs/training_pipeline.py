"""The training pipelines as CloudFormation: code asset, roles, model registry and pipelines.

The definitions are built here at synth as plain JSON and written into the template
(`PipelineDefinitionBody`), so the deployed pipelines and the local executor read one text.
Per model: `<prefix>-training` always exists, `<prefix>-tuning` when the model gives tuning
ranges; both register into the model's group `<prefix>` and run with the same roles, which reach
only the model's own prefixes.
"""

from __future__ import annotations

from pathlib import Path

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_assets as s3_assets
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from ground import images
from ground.config import EnvironmentConfig, ModelDeployment
from ground.container import family_code, load_metric_definitions
from ground.families import FAMILIES
from ground.layout import CHECKPOINTS_PREFIX, MODELS_PREFIX, PIPELINE_PREFIX, raw_data_prefix
from ground.naming import TRAINING, TUNING, pipeline_name
from ground.pipeline.jobs import JobSecurity
from ml_constructs.iam_grants import ObjectAccess, explicit_bucket_name
from ml_constructs.job_network import JobNetwork
from ml_constructs.pipeline.code_bundle import build_sourcedir
from ml_constructs.pipeline.training_definition import (
    PipelineImages,
    TrainingPipelineSpec,
    pipeline_kinds,
    training_pipeline_definitions,
)
from ml_constructs.sagemaker_pipeline import SageMakerPipeline
from ml_constructs.training_roles import JobAccess, PipelineJobPolicy, job_role, pipeline_role

ROOT = Path(__file__).resolve().parents[1]
TRAINING_CODE = ROOT / "training_code"
BUILD_DIR = ROOT / "build"
CONSTRUCT_IDS = {TRAINING: "Pipeline", TUNING: "TuningPipeline"}
DESCRIPTIONS = {
    TRAINING: "Preprocess, train, evaluate, register or fail",
    TUNING: "Preprocess, tune hyperparameters, evaluate, register or fail",
}


class TrainingPipeline(Construct):
    """A model's `<prefix>-training` (and `<prefix>-tuning`) pipelines, its `<prefix>` registry
    group and the roles they run with; `.pipelines` by name, `.pipeline_name` the training one."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        deployment: ModelDeployment,
        key: kms.IKey,
        network: JobNetwork,
        raw_bucket: s3.IBucket,
        artifacts_bucket: s3.IBucket,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        prefix = deployment.prefix
        model = deployment.model
        kinds = pipeline_kinds(deployment)
        self.pipeline_name = pipeline_name(prefix, TRAINING)
        self.model_package_group_name = deployment.registry_group
        files = family_code(TRAINING_CODE, model.family, FAMILIES)
        bundle = BUILD_DIR / f"sourcedir-{model.family}.tar.gz"
        code = s3_assets.Asset(self, "TrainingCode", path=str(build_sourcedir(files, bundle)))
        code_object = code.bucket.arn_for_objects(code.s3_object_key)
        self.raw_bucket_name = raw = explicit_bucket_name(raw_bucket)
        self.raw_prefix = raw_data_prefix(model.name)
        self.raw_data_uri = f"s3://{raw}/{self.raw_prefix}"
        artifacts = explicit_bucket_name(artifacts_bucket)
        runs = [f"{pipeline_name(prefix, kind)}/" for kind in kinds]
        access = JobAccess(key, network, [code_object], deployment.training.assets_key_arn)
        self.processing_role = job_role(
            self,
            "ProcessingRole",
            role_name=f"{prefix}-training-processing",
            description=f"Processing jobs of {model.name}'s pipelines: preprocess and evaluate",
            kind="ProcessingJobs",
            objects=[
                ObjectAccess(raw, self.raw_prefix),
                *(ObjectAccess(artifacts, PIPELINE_PREFIX + run, write=True) for run in runs),
                *(ObjectAccess(artifacts, MODELS_PREFIX + run, write=True) for run in runs),
            ],
            access=access,
        )
        self.training_role = job_role(
            self,
            "TrainingRole",
            role_name=f"{prefix}-training-job",
            description=f"Training and tuning jobs of {model.name}'s pipelines",
            kind="TrainingJobs",
            objects=[
                *(ObjectAccess(artifacts, PIPELINE_PREFIX + run) for run in runs),
                *(ObjectAccess(artifacts, MODELS_PREFIX + run, write=True) for run in runs),
                *(ObjectAccess(artifacts, CHECKPOINTS_PREFIX + run, write=True) for run in runs),
            ],
            access=access,
        )
        self.pipeline_role = pipeline_role(
            self,
            "PipelineRole",
            role_name=f"{prefix}-training-pipeline",
            policy=PipelineJobPolicy(
                key=key,
                network=network,
                job_roles=[self.processing_role.role, self.training_role.role],
                model_package_group=self.model_package_group_name,
                property_files=[ObjectAccess(artifacts, MODELS_PREFIX + run) for run in runs],
            ),
        )
        region = deployment.environment.region
        definitions = training_pipeline_definitions(
            TrainingPipelineSpec(
                deployment=deployment,
                raw_data_uri=self.raw_data_uri,
                artifacts_bucket=artifacts,
                security=JobSecurity(
                    kms_key_id=key.key_arn,
                    subnet_ids=tuple(network.subnet_ids),
                    security_group_ids=(network.security_group.security_group_id,),
                ),
                processing_role_arn=self.processing_role.role_arn,
                training_role_arn=self.training_role.role_arn,
                images=PipelineImages(
                    preprocess=images.processing_image(region),
                    training=images.training_image(model.family, region),
                    evaluation=images.training_image(model.family, region),
                    inference=images.inference_image(model.family, region),
                ),
                sourcedir_url=code.s3_object_url,
                metric_definitions=tuple(load_metric_definitions(files["metrics.py"])),
            )
        )
        self.model_package_group = sagemaker.CfnModelPackageGroup(
            self,
            "ModelPackageGroup",
            model_package_group_name=self.model_package_group_name,
            model_package_group_description=f"{model.name} ({model.team}): {model.description}"[
                :1024
            ],
            model_package_group_policy=self._promotion_policy(stack, deployment.environment),
        )
        self.pipelines = {
            pipeline_name(prefix, kind): SageMakerPipeline(
                self,
                CONSTRUCT_IDS[kind],
                pipeline_name=pipeline_name(prefix, kind),
                description=f"{model.name}: {DESCRIPTIONS[kind]}",
                definition=definitions[pipeline_name(prefix, kind)],
                role=self.pipeline_role.role,
                role_policy=self.pipeline_role.policy,
            )
            for kind in kinds
        }
        self.pipeline_arn = self.pipelines[self.pipeline_name].pipeline_arn
        self.pipeline_definition = definitions[self.pipeline_name]
        # What the schedule and new-data triggers start.
        tuned = deployment.training.tuning.enabled and TUNING in kinds
        self.triggered = self.pipelines[pipeline_name(prefix, TUNING if tuned else TRAINING)]

    def _promotion_policy(self, stack: Stack, config: EnvironmentConfig) -> dict | None:
        """Promotion targets may read the group's packages and deploy them; nothing else."""
        if not config.consumer_accounts:
            return None
        principals = [iam.AccountPrincipal(account) for account in config.consumer_accounts]
        group = stack.format_arn(
            service="sagemaker",
            resource="model-package-group",
            resource_name=self.model_package_group_name,
        )
        versions = stack.format_arn(
            service="sagemaker",
            resource="model-package",
            resource_name=f"{self.model_package_group_name}/*",
        )
        document = iam.PolicyDocument(
            statements=[
                iam.PolicyStatement(
                    sid="PromotionTargetsReadGroup",
                    principals=principals,
                    actions=["sagemaker:DescribeModelPackageGroup"],
                    resources=[group],
                ),
                iam.PolicyStatement(
                    sid="PromotionTargetsUseVersions",
                    principals=principals,
                    actions=[
                        "sagemaker:DescribeModelPackage",
                        "sagemaker:ListModelPackages",
                        "sagemaker:CreateModel",
                    ],
                    resources=[versions],
                ),
            ]
        )
        return document.to_json()
