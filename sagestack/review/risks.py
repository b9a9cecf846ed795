"""The risks a reviewer must see in a change of templates, found from structured diffs.

The tables below are small and explicit, and not exhaustive: they cover the stateful
resources, the network and the security settings this platform uses. Which resources are
replaced comes from two sources: the table of properties that replace a stateful resource,
and the CDK CLI's diff, which knows every replacement of the CloudFormation resource
specification and follows it through references (a new VPC replaces its subnets).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from enum import Enum
from functools import partial

from sagestack.assembly import Acknowledgment
from sagestack.review.cli_diff import Impact
from sagestack.review.compare import (
    ResourceChange,
    StackDiff,
    construct_path,
    resource_location,
)
from sagestack.review.policies import Grant, grant_changes, resource_grants
from sagestack.review.renames import Rename, Renames

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
# How well a DeletionPolicy or UpdateReplacePolicy keeps a resource's data when CloudFormation
# deletes or replaces it; without one, CloudFormation deletes it.
RETENTION_STRENGTH = {"Retain": 2, "RetainExceptOnCreate": 2, "Snapshot": 1, "Delete": 0}
RETENTION_POLICIES = ("DeletionPolicy", "UpdateReplacePolicy")
# The network that endpoints, jobs and Studio run in: replacing one of these cuts them off
# until they are recreated in the new one (and CloudFormation cannot update exports in use).
NETWORK_TYPES = frozenset(
    {
        "AWS::EC2::VPC",
        "AWS::EC2::Subnet",
        "AWS::EC2::RouteTable",
        "AWS::EC2::SecurityGroup",
        "AWS::EC2::VPCEndpoint",
        "AWS::EC2::NatGateway",
        "AWS::EC2::InternetGateway",
    }
)
# What the CLI's impacts mean for a resource; "orphan" keeps it running.
LOST: dict[Impact, str] = {
    "replace": "replaced",
    "may be replaced": "may be replaced",
    "destroy": "deleted",
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
    NETWORK_LOST = "Replacement or deletion of network resources"
    RETENTION = "Retention of stateful resources weakened"
    IAM = "IAM permissions widened"
    ENCRYPTION = "Encryption or public-access settings weakened"
    NETWORK = "Network exposure added"
    ACKNOWLEDGMENT = "Compliance acknowledgments added"
    # Not a risk: grants and acknowledgments that follow a renamed resource, for information.
    MOVED = "Moved with a renamed resource"

    @property
    def destructive(self) -> bool:
        """Whether a risk of this class fails the review unless destruction is allowed."""
        return self in DESTRUCTIVE_CATEGORIES


DESTRUCTIVE_CATEGORIES = frozenset(
    {Category.DESTRUCTIVE, Category.NETWORK_LOST, Category.RETENTION}
)
# What the review checks: every class of risk, in the order the report lists them.
RISK_CATEGORIES = tuple(category for category in Category if category is not Category.MOVED)


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


@dataclass(frozen=True)
class Context:
    """What the review knows of a stack's change besides its two templates."""

    impacts: Mapping[str, Impact]  # what the CDK CLI's diff says, by logical id
    renames: Renames


def _forcing(change: ResourceChange) -> list[str]:
    """The changed properties that make CloudFormation replace a stateful resource."""
    if change.kind != "modified":
        return []
    names = STATEFUL_REPLACEMENT_PROPERTIES.get(change.resource_type, ())
    return [name for name in names if name in change.changed_properties]


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
    elif forcing := _forcing(change):
        yield Risk(
            Category.DESTRUCTIVE,
            location,
            kind,
            f"replaced (a new one is created and the old one deleted): "
            f"{', '.join(forcing)} changed",
        )


def _replaced_per_cli(diff: StackDiff, impacts: Mapping[str, Impact]) -> Iterator[Risk]:
    """Stateful resources that the CLI's diff replaces for a reason the table does not know: a
    property it does not list, or a replaced resource they refer to."""
    forced = {change.logical_id for change in diff.resources if _forcing(change)}
    for logical_id, impact in sorted(impacts.items()):
        resource = diff.resource(logical_id)
        kind = resource.get("Type", "?")
        if (
            impact in ("replace", "may be replaced")
            and logical_id not in forced
            and kind in STATEFUL_REPLACEMENT_PROPERTIES
        ):
            yield Risk(
                Category.DESTRUCTIVE,
                resource_location(diff.display_name, logical_id, resource),
                kind,
                f"{LOST[impact]}, says the CDK CLI's diff (a new one is created and the old "
                "one deleted)",
            )


def _network_lost(diff: StackDiff, impacts: Mapping[str, Impact]) -> Iterator[Risk]:
    """The network resources replaced or deleted: one risk per resource type and fate, naming
    them by construct path within the stack."""
    fates = {change.logical_id: "deleted" for change in diff.resources if change.kind == "removed"}
    fates |= {logical_id: LOST[impact] for logical_id, impact in impacts.items() if impact in LOST}
    names: dict[tuple[str, str], list[str]] = defaultdict(list)
    for logical_id, fate in fates.items():
        resource = diff.resource(logical_id)
        if resource.get("Type") in NETWORK_TYPES:
            path = construct_path(resource).removeprefix(f"{diff.display_name}/")
            names[(resource["Type"], fate)].append(path or logical_id)
    for (kind, fate), found in sorted(names.items()):
        detail = f"{fate}: {', '.join(sorted(found))}"
        yield Risk(Category.NETWORK_LOST, diff.display_name, kind, detail)


def _strength(policy: object) -> int:
    return RETENTION_STRENGTH.get(policy, 0) if isinstance(policy, str) else 0


def _retention(stack: str, change: ResourceChange) -> Iterator[Risk]:
    """A stateful resource whose DeletionPolicy or UpdateReplacePolicy keeps less than before."""
    if change.kind != "modified" or change.resource_type not in STATEFUL_REPLACEMENT_PROPERTIES:
        return
    before, after = change.before or {}, change.after or {}
    weakened = [
        f"{policy} {before[policy]} → {after.get(policy, 'removed (Delete)')}"
        for policy in RETENTION_POLICIES
        if _strength(before.get(policy)) > _strength(after.get(policy))
    ]
    if weakened:
        detail = f"{', '.join(weakened)}: removing or replacing it now deletes its contents"
        yield Risk(Category.RETENTION, change.location(stack), change.resource_type, detail)


def _widening(grant: Grant, added: bool) -> tuple[Category, str]:
    if grant.effect == "Deny":
        category = Category.ENCRYPTION if "SecureTransport" in grant.condition else Category.IAM
        return category, f"no longer denies: {grant.describe().removeprefix('Deny ')}"
    what = "new grant" if added else "grant added"
    return Category.IAM, f"{what}: {grant.describe().removeprefix('Allow ')}"


def _moved(location: str, what: str, renames: list[Rename]) -> Risk:
    """A grant or acknowledgment (`what`) at `location` that follows renamed resources."""
    resources = ", ".join(sorted({f"`{rename.resource}`" for rename in renames}))
    return Risk(Category.MOVED, location, what, f"moved with {resources}")


def _grants(stack: str, change: ResourceChange, renames: Renames) -> Iterator[Risk]:
    """Widened grants, and grants that moved with a renamed resource (or with this one)."""
    location, kind = change.location(stack), change.resource_type
    twin = renames.twin(stack, change.logical_id)
    if twin is not None:
        grants = resource_grants(change.after_properties)
        yield from [_moved(location, "grant", [twin])] * len(grants)
        return
    changes = grant_changes(
        change.before_properties, change.after_properties, partial(renames.restore, where=stack)
    )
    for grant in changes.widened:
        category, detail = _widening(grant, change.kind == "added")
        yield Risk(category, location, kind, detail)
    for grant in changes.moved:
        yield _moved(location, "grant", renames.involved(grant.describe(), stack))


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


# Each looks at one resource's change.
CLASSIFIERS = (_destructive, _retention, _weakened, _exposed)


def stack_risks(diff: StackDiff, context: Context) -> list[Risk]:
    """Every risk in one stack's changes (and the grants that moved, as Category.MOVED)."""
    stack = diff.display_name
    found = [*_replaced_per_cli(diff, context.impacts), *_network_lost(diff, context.impacts)]
    for change in diff.resources:
        found += _grants(stack, change, context.renames)
        found += (risk for classify in CLASSIFIERS for risk in classify(stack, change))
    return sorted(found, key=Risk.sort_key)


def _restored(ack: Acknowledgment, renames: Renames) -> Acknowledgment:
    where = ack.construct_path
    return Acknowledgment(
        renames.restore(ack.rule, where), renames.restore(where, where), ack.reason
    )


def acknowledgment_risks(
    before: Iterable[Acknowledgment], after: Iterable[Acknowledgment], renames: Renames
) -> list[Risk]:
    """Findings acknowledged after the change but not before, one risk per construct and reason;
    those that are old ones moved with a renamed resource as Category.MOVED.

    One acknowledgment usually silences the same rule in several packs; they are listed together.
    """
    old = set(before)
    rules: dict[tuple[str, str], list[str]] = defaultdict(list)
    moved = []
    for ack in set(after) - old:
        if _restored(ack, renames) in old:
            where = ack.construct_path
            involved = renames.involved(f"{ack.rule} {where}", where)
            moved.append(_moved(where, "acknowledgment", involved))
        else:
            rules[(ack.construct_path, ack.reason or "(no reason recorded)")].append(ack.rule)
    found = [
        Risk(Category.ACKNOWLEDGMENT, path, ", ".join(sorted(names)), reason)
        for (path, reason), names in rules.items()
    ]
    return sorted(found + moved, key=Risk.sort_key)
