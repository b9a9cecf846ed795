"""One definition of "a compliant bucket", used by every bucket of the platform."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from ml_constructs.acknowledgments import (
    ACCESS_LOG_BUCKET_NOT_LOGGED,
    ACCESS_LOG_BUCKET_SSE_S3,
    BUCKET_REPLICATION,
    acknowledge,
    checkov_skip,
)
from ml_constructs.cfn import cfn_resource


@dataclass(frozen=True)
class BucketLifecycle:
    """Whether a bucket outlives its stack, and how long old versions and uploads linger."""

    retain: bool
    noncurrent_version_expiration_days: int
    abort_incomplete_upload_days: int


class CompliantBucket(Construct):
    """A versioned, TLS-only, private bucket with lifecycle rules and access logging.

    Objects are encrypted with `key` (bucket keys on). Only the access-log destination passes
    `key=None`: S3 server access logging cannot deliver to an SSE-KMS bucket, so that one
    bucket uses SSE-S3 and is the only bucket without access logs of its own.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        bucket_name: str,
        key: kms.IKey | None,
        access_logs: s3.IBucket | None,
        lifecycle: BucketLifecycle,
        event_bridge: bool = False,
    ) -> None:
        super().__init__(scope, construct_id)
        encryption = s3.BucketEncryption.KMS if key is not None else s3.BucketEncryption.S3_MANAGED
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            bucket_name=bucket_name,
            encryption=encryption,
            encryption_key=key,
            bucket_key_enabled=key is not None,
            enforce_ssl=True,
            minimum_tls_version=1.2,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            versioned=True,
            server_access_logs_bucket=access_logs,
            server_access_logs_prefix=f"{bucket_name}/" if access_logs else None,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="expire-noncurrent-versions",
                    noncurrent_version_expiration=Duration.days(
                        lifecycle.noncurrent_version_expiration_days
                    ),
                ),
                s3.LifecycleRule(
                    id="abort-incomplete-uploads",
                    abort_incomplete_multipart_upload_after=Duration.days(
                        lifecycle.abort_incomplete_upload_days
                    ),
                ),
            ],
            removal_policy=RemovalPolicy.RETAIN if lifecycle.retain else RemovalPolicy.DESTROY,
        )
        if event_bridge:
            # Native CloudFormation setting; the L2 `event_bridge_enabled` would add a
            # Lambda-backed custom resource for the same result.
            cfn_resource(self.bucket).add_property_override(
                "NotificationConfiguration.EventBridgeConfiguration.EventBridgeEnabled", True
            )
        acknowledge(self.bucket, BUCKET_REPLICATION)
        if key is None:
            acknowledge(self.bucket, ACCESS_LOG_BUCKET_SSE_S3)
            checkov_skip(self.bucket, ACCESS_LOG_BUCKET_NOT_LOGGED)
