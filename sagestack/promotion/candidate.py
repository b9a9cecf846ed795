"""Finding the model package to promote: the previous environment's pin, or a given version."""

from __future__ import annotations

from dataclasses import dataclass

from botocore.exceptions import BotoCoreError, ClientError

from ground.config import ModelDeployment
from ground.layout import BASELINE_CONSTRAINTS_FILE, BASELINE_STATISTICS_FILE
from sagestack.promotion.aws import AwsTarget, partition_of


class PromotionError(Exception):
    """Promotion cannot proceed; the message names what is at fault and what to do."""


@dataclass(frozen=True)
class Candidate:
    """A model package version as DescribeModelPackage returns it, and how it was chosen."""

    arn: str
    package: dict
    chosen_because: str

    @property
    def region(self) -> str:
        return self.arn.split(":")[3]

    @property
    def baseline_uri(self) -> str | None:
        return package_baseline(self.package)

    @property
    def label(self) -> str:
        group = self.package.get("ModelPackageGroupName", "?")
        return f"version {self.package.get('ModelPackageVersion', '?')} of {group}"


def package_baseline(package: dict) -> str | None:
    """The folder of a package's data-quality baseline (DriftCheckBaselines), if it has one.

    Model Monitor reads statistics.json and constraints.json from one folder; a package whose
    two files are named or placed otherwise has no usable baseline.
    """
    baseline = package.get("DriftCheckBaselines", {}).get("ModelDataQuality", {})
    statistics = baseline.get("Statistics", {}).get("S3Uri", "")
    constraints = baseline.get("Constraints", {}).get("S3Uri", "")
    folder = statistics.removesuffix(BASELINE_STATISTICS_FILE)
    if folder == statistics or constraints != folder + BASELINE_CONSTRAINTS_FILE:
        return None
    return folder


def registry_group(previous: ModelDeployment) -> str:
    """The group `--version` refers to: the one the previous environment pins from, or its own."""
    pin = previous.serving.model
    return pin.group_name if pin is not None else previous.registry_group


def _candidate_arn(
    previous: ModelDeployment, version: int | None, aws: AwsTarget
) -> tuple[str, str]:
    environment = previous.environment
    region = environment.region
    partition = partition_of(region)
    account = aws.account_of(environment.account)
    pin = previous.serving.model
    if version is not None:
        group = registry_group(previous)
        arn = f"arn:{partition}:sagemaker:{region}:{account}:model-package/{group}/{version}"
        return arn, f"--version {version} of {group}"
    if pin is None:
        raise PromotionError(
            f"{environment.name} pins no package of {previous.name} "
            f"({previous.pin_field('model')} is null): pin one there first, or pass "
            f"--version N to promote version N of {registry_group(previous)}"
        )
    return pin.package_arn(partition, region, account), f"pinned by {environment.name}"


def find_candidate(previous: ModelDeployment, version: int | None, aws: AwsTarget) -> Candidate:
    """Describe the package to promote; PromotionError when it cannot be found or read."""
    arn, because = _candidate_arn(previous, version, aws)
    try:
        package = aws.client("sagemaker", arn.split(":")[3]).describe_model_package(
            ModelPackageName=arn
        )
    except ClientError as error:
        raise PromotionError(
            f"model package {arn} ({because}) cannot be read in {aws.label}: "
            f"{error.response['Error'].get('Message', error)}; check the version and that "
            f"these credentials may read {previous.environment.name}'s registry"
        ) from None
    except BotoCoreError as error:
        raise PromotionError(f"{aws.label} cannot be reached to read {arn}: {error}") from None
    return Candidate(
        arn=package.get("ModelPackageArn", arn), package=package, chosen_because=because
    )
