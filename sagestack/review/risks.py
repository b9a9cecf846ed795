"""The risks a reviewer must see in a change of templates, found from structured diffs.

The tables below are small and explicit, and not exhaustive: they cover the stateful
resources and the security settings this platform uses. The `cdk diff` text in the report
marks every replacement that the CloudFormation resource specification knows about.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import Enum

from sagestack.assembly import Acknowledgment
from sagestack.review.compare import ResourceChange, StackDiff
from sagestack.review.policies import widened_grants

# Stateful types, and the properties whose change makes CloudFormation replace the resource
# (create a new one, then delete the old one with its data). A KMS key has none: changing
# KeySpec, KeyUsage or MultiRegion fails the update instead of replacing the key.
STATEFUL_REPLACEMENT_PROPERTIES: dict[str, tuple[str, ...]] = {
    "AWS::S3::Bucket": ("BucketName",),
    "AWS::KMS::Key": (),
    "AWS::SageMaker::ModelPackageGroup": ("ModelPackageGroupName",),
    "AWS::SageMaker::Endpoint": ("EndpointName",),
    "AWS::Logs::LogGroup": ("LogGroupName",),
    "AWS::ECR::Repository": ("RepositoryName",),
    "AWS::DynamoDB::Table": ("TableName", "KeySchema"),
}

# Settings that protect data when true: turning one off, or removing it, weakens protection.
PROTECTIVE_FLAGS = frozenset(
    {
        "BlockPublicAcls",
        "BlockPublicPolicy",
        "IgnorePublicAcls",
        "RestrictPublicBuckets",
        "EnableKeyRotation",
        "Encrypted",
        "StorageEncrypted",
        "EnableInterContainerTrafficEncryption",
    }
)
# Settings that configure encryption or public access: removing one falls back to a default
# that protects less (no encryption, an AWS-owned key, or no public-access block).
PROTECTIVE_SETTINGS = frozenset(
    {
        "BucketEncryption",
        "PublicAccessBlockConfiguration",
        "KmsKeyId",
        "KmsMasterKeyId",
        "KMSMasterKeyID",
        "KmsKeyArn",
        "VolumeKmsKeyId",
        "EncryptionKey",
        "SSESpecification",
        "EncryptionConfiguration",
    }
)
WEAKER_ALGORITHMS = {("aws:kms", "AES256"), ("aws:kms:dsse", "AES256"), ("aws:kms:dsse", "aws:kms")}
ANYWHERE = frozenset({"0.0.0.0/0", "::/0"})
# Resource types whose mere addition opens a path between the VPC or the platform and the
# internet.
EXPOSING_TYPES = {
    "AWS::EC2::InternetGateway": "an internet gateway",
    "AWS::EC2::EgressOnlyInternetGateway": "an egress-only internet gateway",
    "AWS::EC2::NatGateway": "a NAT gateway",
    "AWS::EC2::EIP": "a public (elastic) IP address",
    "AWS::ApiGateway::RestApi": "a REST API",
    "AWS::ApiGatewayV2::Api": "an HTTP or WebSocket API",
    "AWS::Lambda::Url": "a public function URL",
}


class Category(Enum):
    DESTRUCTIVE = "Replacement or deletion of stateful resources"
    IAM = "IAM permissions widened"
    ENCRYPTION = "Encryption or public-access settings weakened"
    NETWORK = "Network exposure added"
    ACKNOWLEDGMENT = "Compliance acknowledgments added"


@dataclass(frozen=True)
class Risk:
    """One thing a reviewer must see: where, on what (a resource type or a rule), and what."""

    category: Category
    location: str
    subject: str
    detail: str

    def sort_key(self) -> tuple[int, str, str]:
        return list(Category).index(self.category), self.location, self.detail


def _leaves(value: object, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], object]]:
    """(path, value) of every scalar in a property tree; list items are numbered."""
    if isinstance(value, dict) and not _is_intrinsic(value):
        for key, item in value.items():
            yield from _leaves(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _leaves(item, (*path, str(index)))
    else:
        yield path, value


def _is_intrinsic(value: dict) -> bool:
    return len(value) == 1 and next(iter(value)).startswith(("Fn::", "Ref"))


def _destructive(stack: str, change: ResourceChange) -> Iterator[Risk]:
    kind = change.resource_type
    if kind not in STATEFUL_REPLACEMENT_PROPERTIES:
        return
    location = change.location(stack)
    if change.kind == "removed":
        retained = (change.before or {}).get("DeletionPolicy") in ("Retain", "RetainExceptOnCreate")
        what = (
            "removed from the template; DeletionPolicy Retain orphans it in the account"
            if retained
            else "deleted, with its contents"
        )
        yield Risk(Category.DESTRUCTIVE, location, kind, what)
    elif change.kind == "modified":
        forcing = [
            name
            for name in STATEFUL_REPLACEMENT_PROPERTIES[kind]
            if name in change.changed_properties
        ]
        if forcing:
            yield Risk(
                Category.DESTRUCTIVE,
                location,
                kind,
                f"replaced (a new one is created and the old one deleted): "
                f"{', '.join(forcing)} changed",
            )


def _widened(stack: str, change: ResourceChange) -> Iterator[Risk]:
    for grant in widened_grants(change.before_properties, change.after_properties):
        if grant.effect == "Deny":
            detail = f"no longer denies: {grant.describe().removeprefix('Deny ')}"
            category = Category.ENCRYPTION if "SecureTransport" in grant.condition else Category.IAM
        else:
            detail = f"{'new grant' if change.kind == 'added' else 'grant added'}: "
            detail += grant.describe().removeprefix("Allow ")
            category = Category.IAM
        yield Risk(category, change.location(stack), change.resource_type, detail)


def _weakened(stack: str, change: ResourceChange) -> Iterator[Risk]:
    if change.kind != "modified":
        return
    location = change.location(stack)
    removed_settings = sorted(
        name
        for name in PROTECTIVE_SETTINGS
        if name in change.before_properties and name not in change.after_properties
    )
    for name in removed_settings:
        yield Risk(Category.ENCRYPTION, location, change.resource_type, f"{name} removed")
    before = dict(_leaves(change.before_properties))
    after = dict(_leaves(change.after_properties))
    for path, value in sorted(before.items()):
        name = ".".join(path)
        if path[0] in removed_settings:
            continue
        if path[-1] in PROTECTIVE_FLAGS and value is True and after.get(path) is not True:
            state = "removed" if path not in after else f"set to {after[path]!r}"
            yield Risk(Category.ENCRYPTION, location, change.resource_type, f"{name} {state}")
        elif path[-1] == "SSEAlgorithm" and (value, after.get(path)) in WEAKER_ALGORITHMS:
            yield Risk(
                Category.ENCRYPTION,
                location,
                change.resource_type,
                f"{name} changed from {value} to {after[path]}",
            )


def _open_rules(properties: dict) -> set[str]:
    """Security group rules (inline or standalone) that reach any address."""
    rules = set()
    for direction in ("SecurityGroupIngress", "SecurityGroupEgress"):
        for rule in properties.get(direction, []):
            if isinstance(rule, dict):
                rules |= _open_rule(direction, rule)
    for key in ("CidrIp", "CidrIpv6"):
        if properties.get(key) in ANYWHERE:
            rules.add(f"{properties[key]} port {properties.get('FromPort', 'all')}")
    return rules


def _open_rule(direction: str, rule: dict) -> set[str]:
    peer = rule.get("CidrIp") or rule.get("CidrIpv6")
    if peer not in ANYWHERE:
        return set()
    way = "from" if direction.endswith("Ingress") else "to"
    ports = (
        f"{rule.get('IpProtocol', '?')} {rule.get('FromPort', 'all')}-{rule.get('ToPort', 'all')}"
    )
    return {f"{direction.removeprefix('SecurityGroup').lower()} {way} {peer} on {ports}"}


def _exposed(stack: str, change: ResourceChange) -> Iterator[Risk]:
    if change.kind == "removed":
        return
    location = change.location(stack)
    kind = change.resource_type
    if change.kind == "added" and kind in EXPOSING_TYPES:
        yield Risk(Category.NETWORK, location, kind, f"adds {EXPOSING_TYPES[kind]}")
    for rule in sorted(
        _open_rules(change.after_properties) - _open_rules(change.before_properties)
    ):
        yield Risk(Category.NETWORK, location, kind, f"opens {rule}")
    after, before = change.after_properties, change.before_properties
    if after.get("MapPublicIpOnLaunch") is True and before.get("MapPublicIpOnLaunch") is not True:
        yield Risk(Category.NETWORK, location, kind, "subnet gives public IPs to its instances")
    if after.get("Scheme") == "internet-facing" and before.get("Scheme") != "internet-facing":
        yield Risk(Category.NETWORK, location, kind, "load balancer is internet-facing")
    if change.kind == "modified":
        if (
            before.get("EnableNetworkIsolation") is True
            and after.get("EnableNetworkIsolation") is not True
        ):
            yield Risk(Category.NETWORK, location, kind, "network isolation turned off")
        if "VpcConfig" in before and "VpcConfig" not in after:
            yield Risk(Category.NETWORK, location, kind, "VpcConfig removed: runs outside the VPC")


CLASSIFIERS = (_destructive, _widened, _weakened, _exposed)


def stack_risks(diff: StackDiff) -> list[Risk]:
    """Every risk in one stack's changes."""
    return sorted(
        (
            risk
            for change in diff.resources
            for classify in CLASSIFIERS
            for risk in classify(diff.display_name, change)
        ),
        key=Risk.sort_key,
    )


def acknowledgment_risks(
    before: Iterable[Acknowledgment], after: Iterable[Acknowledgment]
) -> list[Risk]:
    """Findings acknowledged after the change but not before, one risk per construct and reason.

    One acknowledgment usually silences the same rule in several packs; they are listed together.
    """
    rules: dict[tuple[str, str], list[str]] = defaultdict(list)
    for ack in set(after) - set(before):
        rules[(ack.construct_path, ack.reason or "(no reason recorded)")].append(ack.rule)
    return sorted(
        (
            Risk(Category.ACKNOWLEDGMENT, path, ", ".join(sorted(names)), reason)
            for (path, reason), names in rules.items()
        ),
        key=Risk.sort_key,
    )
