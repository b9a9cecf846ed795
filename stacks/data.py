"""Data stack: KMS keys, the platform's buckets and the environment's alerts topic."""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from ground.config import EnvironmentConfig
from ground.layout import ACCESS_LOGS, ARTIFACTS, MODELS_PREFIX, RAW_DATA, bucket_name
from ml_constructs.compliant_bucket import BucketLifecycle, CompliantBucket
from ml_constructs.platform_key import PlatformKey, service_use_statement


class DataStack(Stack):
    """Keys first, then buckets that use them; everything else in the environment reads these."""

    def __init__(
        self, scope: Construct, construct_id: str, *, config: EnvironmentConfig, **kwargs
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.config = config
        prefix = config.prefix
        retain = config.retains_data
        source_account = {"StringEquals": {"aws:SourceAccount": self.account}}

        self.data_key = PlatformKey(
            self,
            "DataKey",
            alias=f"alias/{prefix}/data",
            description=f"{prefix}: S3 data, model artifacts, SageMaker volumes and outputs",
            role_prefix=prefix,
            retain=retain,
            service_statements=self._consumer_statements(),
        ).key
        self.logs_key = PlatformKey(
            self,
            "LogsKey",
            alias=f"alias/{prefix}/logs",
            description=f"{prefix}: CloudWatch Logs (VPC flow logs, job and endpoint logs)",
            role_prefix=prefix,
            retain=retain,
            service_statements=[
                service_use_statement(
                    "CloudWatchLogsUseKey",
                    f"logs.{self.region}.amazonaws.com",
                    {
                        "ArnLike": {
                            "kms:EncryptionContext:aws:logs:arn": (
                                f"arn:{self.partition}:logs:{self.region}:{self.account}:*"
                            )
                        }
                    },
                )
            ],
        ).key
        self.alerts_key = PlatformKey(
            self,
            "AlertsKey",
            alias=f"alias/{prefix}/alerts",
            description=f"{prefix}: SNS alerts topic",
            role_prefix=prefix,
            retain=retain,
            service_statements=[
                service_use_statement(
                    "EventBridgePublishes", "events.amazonaws.com", source_account
                ),
                service_use_statement(
                    "CloudWatchPublishes", "cloudwatch.amazonaws.com", source_account
                ),
            ],
        ).key

        lifecycle = BucketLifecycle(
            retain=retain,
            noncurrent_version_expiration_days=config.data.noncurrent_version_expiration_days,
            abort_incomplete_upload_days=config.data.abort_incomplete_upload_days,
        )
        self.access_logs_bucket = CompliantBucket(
            self,
            "AccessLogs",
            bucket_name=bucket_name(prefix, ACCESS_LOGS, self.account, self.region),
            key=None,
            access_logs=None,
            lifecycle=lifecycle,
        ).bucket
        self.raw_bucket = CompliantBucket(
            self,
            "RawData",
            bucket_name=bucket_name(prefix, RAW_DATA, self.account, self.region),
            key=self.data_key,
            access_logs=self.access_logs_bucket,
            event_bridge=True,
            lifecycle=lifecycle,
        ).bucket
        self.artifacts_bucket = CompliantBucket(
            self,
            "Artifacts",
            bucket_name=bucket_name(prefix, ARTIFACTS, self.account, self.region),
            key=self.data_key,
            access_logs=self.access_logs_bucket,
            lifecycle=lifecycle,
        ).bucket
        self._share_models_with_consumers(self.artifacts_bucket)

        self.alerts_topic = sns.Topic(
            self,
            "AlertsTopic",
            topic_name=f"{prefix}-alerts",
            display_name=f"sagestack {config.name} alerts",
            master_key=self.alerts_key,
            enforce_ssl=True,
        )
        for address in config.alarm_emails:
            self.alerts_topic.add_subscription(subscriptions.EmailSubscription(address))

    def _consumer_statements(self) -> list[iam.PolicyStatement]:
        """Promotion targets read model artifacts through S3, so they may decrypt through S3."""
        if not self.config.consumer_accounts:
            return []
        return [
            iam.PolicyStatement(
                sid="PromotionTargetsDecryptModels",
                principals=[iam.AccountPrincipal(a) for a in self.config.consumer_accounts],
                actions=["kms:Decrypt", "kms:DescribeKey"],
                resources=["*"],
                conditions={"StringEquals": {"kms:ViaService": f"s3.{self.region}.amazonaws.com"}},
            )
        ]

    def _share_models_with_consumers(self, bucket: s3.IBucket) -> None:
        if not self.config.consumer_accounts:
            return
        bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid="PromotionTargetsReadModels",
                principals=[iam.AccountPrincipal(a) for a in self.config.consumer_accounts],
                actions=["s3:GetObject", "s3:GetObjectVersion"],
                resources=[bucket.arn_for_objects(f"{MODELS_PREFIX}*")],
            )
        )
