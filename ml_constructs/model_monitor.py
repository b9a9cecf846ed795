"""Model Monitor data quality: a job definition, its schedule, and alarms on its outcome.

The analyzer compares each hour of captured requests with the baseline `preprocess.py` wrote
for the pinned model (statistics.json and constraints.json), inside the VPC with network
isolation, encrypting its volume and reports with the platform key.

Violations are per feature, and the features are only known once data exists, so the alarm
does not watch per-feature metrics: an EventBridge rule matches this schedule's processing jobs
that complete with violations (or fail), and an alarm fires on the rule's MatchedEvents metric.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration, Fn, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk import aws_sns as sns
from constructs import Construct

from ground import images
from ground.config.monitoring import ModelMonitorConfig
from ground.container import PROCESSING_ROOT
from ground.layout import (
    ARTIFACTS_BUCKET,
    data_capture_prefix,
    monitoring_prefix,
    split_s3_uri,
)
from ml_constructs.acknowledgments import SAGEMAKER_JOB_METRICS, acknowledge
from ml_constructs.iam_grants import (
    KEY_USE,
    ObjectAccess,
    allow_decrypt_via_s3,
    allow_key_grants,
    allow_log_group,
    allow_objects,
    allow_vpc,
    explicit_bucket_name,
)
from ml_constructs.job_network import JobNetwork
from ml_constructs.platform_role import PlatformRole

JobDefinition = sagemaker.CfnDataQualityJobDefinition
Schedule = sagemaker.CfnMonitoringSchedule
DATA_QUALITY = "data-quality/"
DATA_METRICS_NAMESPACE = "aws/sagemaker/Endpoints/data-metrics"


@dataclass(frozen=True)
class Baseline:
    """The folder of statistics.json and constraints.json in a platform artifacts bucket."""

    bucket: str
    folder: str

    @classmethod
    def parse(cls, uri: str) -> Baseline:
        bucket, key = split_s3_uri(uri)
        if not ARTIFACTS_BUCKET.match(bucket):
            raise ValueError(
                f"baseline {uri} is not in a platform artifacts bucket "
                "(<prefix>-ml-artifacts-<account>-<region>)"
            )
        return cls(bucket, key.rstrip("/") + "/" if key else "")

    @property
    def account(self) -> str:
        match = ARTIFACTS_BUCKET.match(self.bucket)
        if match is None:
            raise ValueError(f"{self.bucket} is not a platform artifacts bucket")
        return match["account"]

    def uri(self, name: str) -> str:
        return f"s3://{self.bucket}/{self.folder}{name}"


class DataQualityMonitor(Construct):
    """Hourly (per config) data-quality checks of `endpoint_name`'s captured requests."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        prefix: str,
        model: str,
        endpoint_name: str,
        config: ModelMonitorConfig,
        baseline: Baseline,
        artifacts_bucket: s3.IBucket,
        key: kms.IKey,
        network: JobNetwork,
        topic: sns.ITopic,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.schedule_name = f"{prefix}-data-quality"
        self.reports_prefix = monitoring_prefix(model) + DATA_QUALITY
        self.capture_prefix = data_capture_prefix(model)
        role = self._role(prefix, baseline, explicit_bucket_name(artifacts_bucket), key, network)
        artifacts = explicit_bucket_name(artifacts_bucket)
        reports = f"s3://{artifacts}/{self.reports_prefix.rstrip('/')}"
        definition = JobDefinition(
            self,
            "JobDefinition",
            endpoint_name=endpoint_name,
            role_arn=role.role_arn,
            data_quality_app_specification=JobDefinition.DataQualityAppSpecificationProperty(
                image_uri=images.model_monitor_image(stack.region),
                environment={"publish_cloudwatch_metrics": "Enabled"},
            ),
            data_quality_baseline_config=JobDefinition.DataQualityBaselineConfigProperty(
                statistics_resource=JobDefinition.StatisticsResourceProperty(
                    s3_uri=baseline.uri("statistics.json")
                ),
                constraints_resource=JobDefinition.ConstraintsResourceProperty(
                    s3_uri=baseline.uri("constraints.json")
                ),
            ),
            data_quality_job_input=JobDefinition.DataQualityJobInputProperty(
                endpoint_input=JobDefinition.EndpointInputProperty(
                    endpoint_name=endpoint_name,
                    local_path=f"{PROCESSING_ROOT}/input/endpoint",
                    s3_input_mode="File",
                    s3_data_distribution_type="FullyReplicated",
                )
            ),
            data_quality_job_output_config=JobDefinition.MonitoringOutputConfigProperty(
                kms_key_id=key.key_arn,
                monitoring_outputs=[
                    JobDefinition.MonitoringOutputProperty(
                        s3_output=JobDefinition.S3OutputProperty(
                            local_path=f"{PROCESSING_ROOT}/output",
                            s3_uri=reports,
                            s3_upload_mode="EndOfJob",
                        )
                    )
                ],
            ),
            job_resources=JobDefinition.MonitoringResourcesProperty(
                cluster_config=JobDefinition.ClusterConfigProperty(
                    instance_count=1,
                    instance_type=config.instance_type,
                    volume_size_in_gb=config.volume_size_gb,
                    volume_kms_key_id=key.key_arn,
                )
            ),
            network_config=JobDefinition.NetworkConfigProperty(
                enable_network_isolation=True,
                enable_inter_container_traffic_encryption=True,
                vpc_config=JobDefinition.VpcConfigProperty(
                    security_group_ids=[network.security_group.security_group_id],
                    subnets=network.subnet_ids,
                ),
            ),
            stopping_condition=JobDefinition.StoppingConditionProperty(
                max_runtime_in_seconds=config.max_runtime_seconds
            ),
        )
        definition.node.add_dependency(role.policy)
        # Without a physical name (it is replaced on every change), the name ends the ARN.
        definition_name = Fn.select(1, Fn.split("/", definition.attr_job_definition_arn))
        self.schedule = Schedule(
            self,
            "Schedule",
            monitoring_schedule_name=self.schedule_name,
            endpoint_name=endpoint_name,
            monitoring_schedule_config=Schedule.MonitoringScheduleConfigProperty(
                monitoring_job_definition_name=definition_name,
                monitoring_type="DataQuality",
                schedule_config=Schedule.ScheduleConfigProperty(
                    schedule_expression=config.schedule
                ),
            ),
        )
        notify = actions.SnsAction(topic)
        self.outcomes: dict[str, cloudwatch.Metric] = {}
        self.violations = self._outcome_alarm(
            f"{prefix}-dq-violations",
            "Model Monitor found data-quality violations (drift) in captured requests",
            {
                "ProcessingJobStatus": ["Completed"],
                "ExitMessage": [{"prefix": "CompletedWithViolations"}],
            },
        )
        self.failures = self._outcome_alarm(
            f"{prefix}-dq-failed",
            "A Model Monitor data-quality job failed (check the baseline and captured data)",
            {"ProcessingJobStatus": ["Failed"]},
        )
        for alarm in (self.violations, self.failures):
            alarm.add_alarm_action(notify)

    def _role(
        self,
        prefix: str,
        baseline: Baseline,
        artifacts: str,
        key: kms.IKey,
        network: JobNetwork,
    ) -> PlatformRole:
        stack = Stack.of(self)
        role = PlatformRole(
            self,
            "Role",
            role_name=f"{prefix}-model-monitor",
            assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
            description=f"Model Monitor data-quality jobs of {prefix}: captures in, reports out",
        )
        allow_objects(
            role,
            stack,
            [
                ObjectAccess(artifacts, self.capture_prefix),
                ObjectAccess(artifacts, self.reports_prefix, write=True),
                ObjectAccess(baseline.bucket, baseline.folder),
            ],
        )
        role.allow(KEY_USE, [key.key_arn], sid="PlatformKey")
        allow_key_grants(role, key.key_arn)
        allow_decrypt_via_s3(role, baseline.account)
        allow_log_group(role, "/aws/sagemaker/ProcessingJobs", create=True)
        role.allow(
            ["cloudwatch:PutMetricData"],
            ["*"],
            {"StringEquals": {"cloudwatch:namespace": DATA_METRICS_NAMESPACE}},
            sid="DataQualityMetrics",
        )
        acknowledge(role.policy, SAGEMAKER_JOB_METRICS, "Resource::*")
        allow_vpc(role, stack, network)
        return role

    def _outcome_alarm(self, name: str, description: str, detail: dict) -> cloudwatch.Alarm:
        """Alarm when a processing job of this schedule ends as `detail` says."""
        events.Rule(
            self,
            f"{name}-rule",
            rule_name=name,
            description=description,
            event_pattern=events.EventPattern(
                source=["aws.sagemaker"],
                detail_type=["SageMaker Processing Job State Change"],
                detail={
                    **detail,
                    "MonitoringScheduleArn": [self.schedule.attr_monitoring_schedule_arn],
                },
            ),
        )
        matched = cloudwatch.Metric(
            namespace="AWS/Events",
            metric_name="MatchedEvents",
            dimensions_map={"RuleName": name},
            statistic="Sum",
            period=Duration.hours(1),
            label=name,
        )
        self.outcomes[name] = matched
        return matched.create_alarm(
            self,
            name,
            alarm_name=name,
            alarm_description=description,
            threshold=0,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
