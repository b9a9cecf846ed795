"""Every acknowledged compliance finding of the platform, with its reason, in one place.

Each entry is applied to exactly one construct by the code that creates it, through
`acknowledge(construct, FINDING)`. A reviewer reads this file to see all exceptions.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Acknowledgment, Stack, Validations
from constructs import IConstruct

from ml_constructs.cfn import cfn_resource

PACKS = ("NIST.800.53.R5", "HIPAA.Security", "PCI.DSS.321")


@dataclass(frozen=True)
class Finding:
    """A rule name (without pack prefix), the packs that raise it, and why it is accepted."""

    rule: str
    reason: str
    packs: tuple[str, ...] = PACKS

    def ids(self, detail: str | None = None) -> list[str]:
        suffix = f"[{detail}]" if detail else ""
        return [f"{pack}::{pack}-{self.rule}{suffix}" for pack in self.packs]


BUCKET_REPLICATION = Finding(
    rule="S3BucketReplicationEnabled",
    reason=(
        "Cross-region replication is a disaster-recovery decision that needs a second region, "
        "which no environment configures yet. Recovery within the region is covered by "
        "versioning, noncurrent-version retention and RETAIN in prod; raw data is re-loadable "
        "from its sources and models are rebuilt by the pipeline."
    ),
)
ACCESS_LOG_BUCKET_SSE_S3 = Finding(
    rule="S3DefaultEncryptionKMS",
    reason=(
        "This is the S3 server access log destination. S3 cannot deliver access logs to a "
        "bucket whose default encryption is SSE-KMS, so it uses SSE-S3 (AES-256); it holds "
        "request metadata only, never data or models."
    ),
)
LOG_STREAMS_OF_ONE_GROUP = Finding(
    rule="IAM5",
    reason=(
        "Writers create their log streams at run time with names they choose (ENI ids for "
        "flow logs), so the policy names every stream of one log group, never other groups."
    ),
    packs=("AwsSolutions",),
)


def acknowledge(construct: IConstruct, finding: Finding, detail: str | None = None) -> None:
    """Acknowledge `finding` on one construct, with its recorded reason, in every pack.

    `detail` narrows it to one finding of a multi-finding rule, e.g.
    `Resource::<LogGroupF00.Arn>:log-stream:*` for one wildcard of AwsSolutions-IAM5.
    """
    Validations.of(construct).acknowledge(
        *(Acknowledgment(id=rule_id, reason=finding.reason) for rule_id in finding.ids(detail))
    )


def logical_id(construct: IConstruct) -> str:
    """The CloudFormation logical id of an L2 construct's resource, as findings name it."""
    stack = Stack.of(construct)
    return str(stack.resolve(stack.get_logical_id(cfn_resource(construct))))


@dataclass(frozen=True)
class CheckovSkip:
    """A checkov check skipped on one resource, with the reason written into its metadata."""

    check_id: str
    reason: str


ACCESS_LOG_BUCKET_NOT_LOGGED = CheckovSkip(
    "CKV_AWS_18",
    "This bucket is the server access log destination of every other bucket; logging its "
    "own access into itself would create an endless loop of log objects.",
)
DEFAULT_SG_PROVIDER_CONCURRENCY = CheckovSkip(
    "CKV_AWS_115",
    "CDK's provider that closes the VPC default security group runs only when CloudFormation "
    "creates or updates the VPC; reserving concurrency for it protects nothing.",
)
DEFAULT_SG_PROVIDER_DLQ = CheckovSkip(
    "CKV_AWS_116",
    "CloudFormation invokes this provider synchronously and rolls back on failure; there is "
    "no asynchronous event that a dead-letter queue could keep.",
)
DEFAULT_SG_PROVIDER_OUTSIDE_VPC = CheckovSkip(
    "CKV_AWS_117",
    "The provider calls the EC2 API to revoke the default security group's rules; the "
    "isolated VPC has no EC2 endpoint, so inside it the call could not be made.",
)


def checkov_skip(resource: IConstruct, *skips: CheckovSkip) -> None:
    """Record checkov skips with their reasons in one CloudFormation resource's metadata."""
    cfn = cfn_resource(resource)
    existing = cfn.get_metadata("checkov") or {"skip": []}
    entries = existing["skip"] + [{"id": s.check_id, "comment": s.reason} for s in skips]
    cfn.add_metadata("checkov", {"skip": entries})


OBJECTS_UNDER_ONE_PREFIX = Finding(
    rule="IAM5",
    reason=(
        "SageMaker jobs read and write objects whose names are chosen at run time (pipeline "
        "execution ids, job names, data file names) under one fixed prefix of one bucket; the "
        "policy names that prefix of that bucket, never the whole bucket or another one."
    ),
    packs=("AwsSolutions",),
)
JOB_NETWORK_INTERFACES = Finding(
    rule="IAM5",
    reason=(
        "SageMaker creates and deletes each job's network interfaces at run time with ids it "
        "chooses, and the EC2 Describe calls it makes have no resource-level permissions; the "
        "create and delete statement is limited to the platform VPC by the ec2:Vpc condition."
    ),
    packs=("AwsSolutions",),
)
SAGEMAKER_JOB_METRICS = Finding(
    rule="IAM5",
    reason=(
        "cloudwatch:PutMetricData has no resource-level permissions; the statement is limited "
        "by the cloudwatch:namespace condition to the one SageMaker namespace of the job kind."
    ),
    packs=("AwsSolutions",),
)
PIPELINE_JOB_NAMES = Finding(
    rule="IAM5",
    reason=(
        "SageMaker Pipelines names each job and model package version at run time (execution "
        "id, step name, version number). Jobs may only be created in the platform VPC with "
        "network isolation, traffic encryption and the platform key, which the conditions of "
        "the create statement require; packages only in the pipeline's own group."
    ),
    packs=("AwsSolutions",),
)
MODEL_KEY_OF_ANOTHER_ACCOUNT = Finding(
    rule="IAM5",
    reason=(
        "A model pinned from another environment's registry has its model data encrypted with "
        "that account's data key, whose id cannot be known at synth without a lookup. The "
        "statement allows kms:Decrypt only, only on keys of that one account and region, and "
        "only through S3 (kms:ViaService); that key's own policy still decides."
    ),
    packs=("AwsSolutions",),
)
TRANSFORM_JOB_NAMES = Finding(
    rule="IAM5",
    reason=(
        "SageMaker Pipelines names each transform job at run time from the execution id, so "
        "the batch pipeline's role names every transform job of its account and region. A "
        "transform job runs as its model, whose role and VPC settings are fixed in the template, "
        "and this role cannot pass any role, so the wildcard grants no further access."
    ),
    packs=("AwsSolutions",),
)
SERVERLESS_MODEL_NOT_ISOLATED = CheckovSkip(
    "CKV_AWS_370",
    "Serverless endpoints accept neither network isolation nor a VPC configuration, so the "
    "model behind a serverless endpoint (dev's, to cost nothing when idle) has neither. Batch "
    "transform of the same package runs a second model that is isolated in the VPC.",
)
PIPELINE_GENERATED_POLICIES = Finding(
    rule="IAMNoInlinePolicy",
    reason=(
        "CDK Pipelines creates the roles of its pipeline, builds and asset uploads, and writes "
        "each grant it wires (artifact bucket and key, CodeBuild logs and reports, the target "
        "accounts' CDK deploy roles) into their default inline policies as stages are added. "
        "Every grant names the pipeline's own resources; none is shared with another role."
    ),
)
PIPELINE_GENERATED_WILDCARDS = Finding(
    rule="IAM5",
    reason=(
        "These wildcards are CDK Pipelines' own grants: object-level actions (s3:GetObject*, "
        "s3:List*) on the pipeline's artifact bucket, CodeBuild log streams and report groups "
        "named after run ids, and the CDK bootstrap roles of the target accounts. The library "
        "fixes them; each is scoped to the pipeline's bucket, projects or bootstrap roles."
    ),
    packs=("AwsSolutions",),
)
PIPELINE_SOURCED_BUILDS = Finding(
    rule="CodeBuildProjectSourceRepoUrl",
    reason=(
        "These CodeBuild projects have source type CODEPIPELINE: they receive the repository "
        "as an encrypted pipeline artifact and never connect to a Git host themselves. The "
        "repository is read once, by the CodeConnections connection, which holds no stored "
        "credentials in the build."
    ),
    packs=("HIPAA.Security", "PCI.DSS.321"),
)
PIPELINE_ARTIFACTS_REPLICATION = Finding(
    rule="S3BucketReplicationEnabled",
    reason=(
        "The artifact bucket holds intermediate build outputs of pipeline runs, each rebuilt "
        "from the repository by running the pipeline again; replicating them to a second region "
        "would protect nothing that the repository does not already hold."
    ),
)
STUDIO_SPACES_AND_APPS = Finding(
    rule="IAM5",
    reason=(
        "Studio users create their spaces and apps from the Studio UI with names chosen at run "
        "time, so a Studio role names the spaces, apps and profiles of its own domain only; "
        "apps may only be of the configured types (the app type is part of the ARN) and only "
        "on the configured instance types (sagemaker:InstanceTypes condition)."
    ),
    packs=("AwsSolutions",),
)
STUDIO_LISTS = Finding(
    rule="IAM5",
    reason=(
        "ListApps, ListSpaces and ListModelPackages have no resource-level permissions, so "
        "they take '*'. They return names and states only; describing a package (its metrics "
        "and artifact locations) and reading any data stay limited to the persona's models."
    ),
    packs=("AwsSolutions",),
)
STUDIO_EXECUTIONS_AND_VERSIONS = Finding(
    rule="IAM5",
    reason=(
        "Pipeline execution ids, model package version numbers and a model's alarm names are "
        "chosen at run time or per metric; each wildcard sits under one pipeline, one registry "
        "group or one model's alarm prefix that the persona is granted, never another model's."
    ),
    packs=("AwsSolutions",),
)
