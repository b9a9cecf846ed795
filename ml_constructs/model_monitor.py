"""Model Monitor: a job definition, its schedule and alarms on its outcome, per kind of check.

Two kinds share everything but their analysis: data quality compares each hour of captured
requests with the baseline `preprocess.py` wrote for the pinned model (statistics.json and
constraints.json); model quality merges the captured predictions with the ground-truth labels
that land under the model's ground-truth prefix and scores them against the thresholds
`evaluate.py` derived from the test split (model_quality_constraints.json). Both run inside
the VPC with network isolation, encrypting their volume and reports with the platform key.

Violations are per feature or metric, and only known once data exists, so the alarms do not
watch the published metrics: an EventBridge rule matches this schedule's processing jobs that
complete with violations (or fail), and an alarm fires on the rule's MatchedEvents metric. The
violations rules are also the model's retraining signals (ml_constructs.retrain_guard).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

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
from ground.config.monitoring import ModelMonitorConfig, ModelQualityConfig, MonitorJobConfig
from ground.container import PROCESSING_ROOT
from ground.layout import (
    ARTIFACTS_BUCKET,
    BASELINE_CONSTRAINTS_FILE,
    BASELINE_STATISTICS_FILE,
    data_capture_prefix,
    ground_truth_prefix,
    monitoring_prefix,
    split_s3_uri,
)
from ground.naming import DATA_QUALITY, MODEL_QUALITY, monitor_rule_name
from ground.problems import ProblemType
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

Schedule = sagemaker.CfnMonitoringSchedule
DataQualityDefinition = sagemaker.CfnDataQualityJobDefinition
ModelQualityDefinition = sagemaker.CfnModelQualityJobDefinition
JobDefinition = DataQualityDefinition | ModelQualityDefinition
INPUT_PATH = f"{PROCESSING_ROOT}/input/endpoint"
OUTPUT_PATH = f"{PROCESSING_ROOT}/output"
# What the monitor's jobs end with when they find violations (the processing job's
# ExitMessage; model-monitor-interpreting-cloudwatch / "Monitoring schedule status").
WITH_VIOLATIONS = "CompletedWithViolations"


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


@dataclass(frozen=True)
class MonitorTarget:
    """What a monitor watches and where it writes: shared by both kinds."""

    prefix: str  # the model's resource prefix, e.g. sagestack-dev-cancer
    model: str
    endpoint_name: str
    artifacts_bucket: s3.IBucket
    key: kms.IKey
    network: JobNetwork
    topic: sns.ITopic


class ModelMonitor(Construct):
    """One Model Monitor schedule of a model's endpoint with its job definition, role and
    outcome alarms; subclasses give the kind's analysis (`_definition`) and what it reads."""

    MONITORING_TYPE: ClassVar[str]
    SLUG: ClassVar[str]  # ground.naming kind: schedule name suffix and report folder
    WHAT: ClassVar[str]
    METRICS_NAMESPACE: ClassVar[str]

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        target: MonitorTarget,
        config: MonitorJobConfig,
        reads: list[ObjectAccess],
        read_accounts: list[str],
    ) -> None:
        super().__init__(scope, construct_id)
        self.target = target
        self.config = config
        self.schedule_name = f"{target.prefix}-{self.SLUG}"
        self.reports_prefix = f"{monitoring_prefix(target.model)}{self.SLUG}/"
        self.capture_prefix = data_capture_prefix(target.model)
        artifacts = explicit_bucket_name(target.artifacts_bucket)
        self.role = self._role(
            [
                ObjectAccess(artifacts, self.capture_prefix),
                ObjectAccess(artifacts, self.reports_prefix, write=True),
                *reads,
            ],
            read_accounts,
        )
        definition = self._definition(self._common_properties(artifacts))
        definition.node.add_dependency(self.role.policy)
        # Without a physical name (it is replaced on every change), the name ends the ARN.
        definition_name = Fn.select(1, Fn.split("/", definition.attr_job_definition_arn))
        self.schedule = Schedule(
            self,
            "Schedule",
            monitoring_schedule_name=self.schedule_name,
            endpoint_name=target.endpoint_name,
            monitoring_schedule_config=Schedule.MonitoringScheduleConfigProperty(
                monitoring_job_definition_name=definition_name,
                monitoring_type=self.MONITORING_TYPE,
                schedule_config=Schedule.ScheduleConfigProperty(
                    schedule_expression=config.schedule
                ),
            ),
        )
        self.outcomes: dict[str, cloudwatch.Metric] = {}
        self.violations_rule_name = monitor_rule_name(target.prefix, self.SLUG, "violations")
        self.violations = self._outcome_alarm(
            self.violations_rule_name,
            f"Model Monitor found {self.WHAT} violations",
            {
                "ProcessingJobStatus": ["Completed"],
                "ExitMessage": [{"prefix": WITH_VIOLATIONS}],
            },
        )
        self.failures = self._outcome_alarm(
            monitor_rule_name(target.prefix, self.SLUG, "failed"),
            f"A Model Monitor {self.WHAT} job failed (check its baseline and inputs)",
            {"ProcessingJobStatus": ["Failed"]},
        )
        notify = actions.SnsAction(target.topic)
        for alarm in (self.violations, self.failures):
            alarm.add_alarm_action(notify)

    def _definition(self, common: dict[str, Any]) -> JobDefinition:
        raise NotImplementedError

    def _common_properties(self, artifacts: str) -> dict[str, Any]:
        """The job definition properties both kinds spell alike (plain CloudFormation names
        resolve through either L1 class's property bag)."""
        key_arn = self.target.key.key_arn
        return {
            "endpoint_name": self.target.endpoint_name,
            "role_arn": self.role.role_arn,
            "job_resources": {
                "clusterConfig": {
                    "instanceCount": 1,
                    "instanceType": self.config.instance_type,
                    "volumeSizeInGb": self.config.volume_size_gb,
                    "volumeKmsKeyId": key_arn,
                }
            },
            "network_config": {
                "enableNetworkIsolation": True,
                "enableInterContainerTrafficEncryption": True,
                "vpcConfig": {
                    "securityGroupIds": [self.target.network.security_group.security_group_id],
                    "subnets": self.target.network.subnet_ids,
                },
            },
            "stopping_condition": {"maxRuntimeInSeconds": self.config.max_runtime_seconds},
            "output_config": {
                "kmsKeyId": key_arn,
                "monitoringOutputs": [
                    {
                        "s3Output": {
                            "localPath": OUTPUT_PATH,
                            "s3Uri": f"s3://{artifacts}/{self.reports_prefix.rstrip('/')}",
                            "s3UploadMode": "EndOfJob",
                        }
                    }
                ],
            },
        }

    def _endpoint_input(self) -> dict[str, Any]:
        return {
            "endpointName": self.target.endpoint_name,
            "localPath": INPUT_PATH,
            "s3InputMode": "File",
            "s3DataDistributionType": "FullyReplicated",
        }

    def _role(self, objects: list[ObjectAccess], read_accounts: list[str]) -> PlatformRole:
        stack = Stack.of(self)
        target = self.target
        role = PlatformRole(
            self,
            "Role",
            role_name=f"{target.prefix}-{self.SLUG}",
            assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
            description=f"Model Monitor {self.SLUG} jobs of {target.prefix}: inputs in, reports",
        )
        allow_objects(role, stack, objects)
        role.allow(KEY_USE, [target.key.key_arn], sid="PlatformKey")
        allow_key_grants(role, target.key.key_arn)
        for account in sorted(set(read_accounts)):
            allow_decrypt_via_s3(role, account)
        allow_log_group(role, "/aws/sagemaker/ProcessingJobs", create=True)
        role.allow(
            ["cloudwatch:PutMetricData"],
            ["*"],
            {"StringEquals": {"cloudwatch:namespace": self.METRICS_NAMESPACE}},
            sid="MonitorMetrics",
        )
        acknowledge(role.policy, SAGEMAKER_JOB_METRICS, "Resource::*")
        allow_vpc(role, stack, target.network)
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


class DataQualityMonitor(ModelMonitor):
    """Captured requests against the training baseline (statistics and constraints)."""

    MONITORING_TYPE = "DataQuality"
    SLUG = DATA_QUALITY
    WHAT = "data-quality (drift in captured requests)"
    METRICS_NAMESPACE = "aws/sagemaker/Endpoints/data-metrics"

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        target: MonitorTarget,
        config: ModelMonitorConfig,
        baseline: Baseline,
    ) -> None:
        self.baseline = baseline
        super().__init__(
            scope,
            construct_id,
            target=target,
            config=config,
            reads=[ObjectAccess(baseline.bucket, baseline.folder)],
            read_accounts=[baseline.account],
        )

    def _definition(self, common: dict[str, Any]) -> JobDefinition:
        output = common.pop("output_config")
        return DataQualityDefinition(
            self,
            "JobDefinition",
            data_quality_app_specification={
                "imageUri": images.model_monitor_image(Stack.of(self).region),
                "environment": {"publish_cloudwatch_metrics": "Enabled"},
            },
            data_quality_baseline_config={
                "statisticsResource": {"s3Uri": self.baseline.uri(BASELINE_STATISTICS_FILE)},
                "constraintsResource": {"s3Uri": self.baseline.uri(BASELINE_CONSTRAINTS_FILE)},
            },
            data_quality_job_input={"endpointInput": self._endpoint_input()},
            data_quality_job_output_config=output,
            **common,
        )


# Where each problem type's answer puts what the monitor reads, as CSV column indexes of the
# captured endpointOutput (training_code/serving.py: binary `probability,label`, multiclass
# `label,p_0,...`, regression one value). model-monitor-model-quality-schedule.html: the
# inference attribute, and for binary the probability with its threshold.
INFERENCE_COLUMNS: dict[str, dict[str, Any]] = {
    "binary": {"inferenceAttribute": "1", "probabilityAttribute": "0"},
    "multiclass": {"inferenceAttribute": "0"},
    "regression": {"inferenceAttribute": "0"},
}
BINARY_THRESHOLD = 0.5  # serving.py labels 1 at or above it (metadata "threshold" default)


class ModelQualityMonitor(ModelMonitor):
    """Captured predictions merged with ground truth, against evaluate.py's thresholds."""

    MONITORING_TYPE = "ModelQuality"
    SLUG = MODEL_QUALITY
    WHAT = "model-quality (predictions against ground truth)"
    METRICS_NAMESPACE = "aws/sagemaker/Endpoints/model-metrics"

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        target: MonitorTarget,
        config: ModelQualityConfig,
        problem: ProblemType,
        constraints_uri: str,
    ) -> None:
        self.problem = problem
        self.quality_config = config
        self.constraints_uri = constraints_uri
        constraints_folder = Baseline.parse(constraints_uri.rsplit("/", 1)[0])
        self.ground_truth_prefix = ground_truth_prefix(target.model)
        artifacts = explicit_bucket_name(target.artifacts_bucket)
        super().__init__(
            scope,
            construct_id,
            target=target,
            config=config,
            reads=[
                ObjectAccess(artifacts, self.ground_truth_prefix),
                ObjectAccess(constraints_folder.bucket, constraints_folder.folder),
            ],
            read_accounts=[constraints_folder.account],
        )

    def _definition(self, common: dict[str, Any]) -> JobDefinition:
        output = common.pop("output_config")
        artifacts = explicit_bucket_name(self.target.artifacts_bucket)
        columns = dict(INFERENCE_COLUMNS[self.problem.name])
        if "probabilityAttribute" in columns:
            columns["probabilityThresholdAttribute"] = BINARY_THRESHOLD
        return ModelQualityDefinition(
            self,
            "JobDefinition",
            model_quality_app_specification={
                "imageUri": images.model_monitor_image(Stack.of(self).region),
                "problemType": self.problem.monitor_name,
                "environment": {"publish_cloudwatch_metrics": "Enabled"},
            },
            model_quality_baseline_config={"constraintsResource": {"s3Uri": self.constraints_uri}},
            model_quality_job_input={
                "endpointInput": {
                    **self._endpoint_input(),
                    **columns,
                    "startTimeOffset": self.quality_config.start_time_offset,
                    "endTimeOffset": self.quality_config.end_time_offset,
                },
                "groundTruthS3Input": {
                    "s3Uri": f"s3://{artifacts}/{self.ground_truth_prefix.rstrip('/')}"
                },
            },
            model_quality_job_output_config=output,
            **common,
        )
