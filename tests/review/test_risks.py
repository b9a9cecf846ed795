"""The risk classifier on small hand-written templates: what widens, weakens, exposes, destroys."""

from __future__ import annotations

from sagestack.review.cli_diff import Impact, resource_impacts
from sagestack.review.compare import compare_templates
from sagestack.review.renames import find_renames
from sagestack.review.risks import Category, Context, Risk, stack_risks


def risks(before: dict, after: dict, impacts: dict[str, Impact] | None = None) -> list[Risk]:
    """The risks of one stack's change; `impacts` as the CDK CLI's diff would report them."""
    diff = compare_templates("dev/s", {"Resources": before}, {"Resources": after})
    return stack_risks(diff, Context(impacts or {}, find_renames([diff])))


def policy(*statements: dict) -> dict:
    return {
        "P": {
            "Type": "AWS::IAM::ManagedPolicy",
            "Properties": {"PolicyDocument": {"Statement": list(statements)}},
        }
    }


READ = {"Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"], "Resource": ["a", "b"]}


def test_removing_an_action_narrows_and_is_not_flagged() -> None:
    narrower = {**READ, "Action": "s3:GetObject"}
    assert risks(policy(READ), policy(narrower)) == []


def test_each_new_action_resource_pair_is_one_widening() -> None:
    wider = {**READ, "Resource": ["a", "b", "c"]}
    assert [risk.detail for risk in risks(policy(READ), policy(wider))] == [
        "grant added: s3:GetObject on c",
        "grant added: s3:ListBucket on c",
    ]


def test_a_dropped_condition_is_a_new_grant() -> None:
    conditional = {
        **READ,
        "Action": "s3:GetObject",
        "Resource": "a",
        "Condition": {"Bool": {"x": "y"}},
    }
    [risk] = risks(policy(conditional), policy({**conditional, "Condition": {}}))
    assert (risk.category, risk.detail) == (Category.IAM, "grant added: s3:GetObject on a")


def test_dropping_the_tls_only_deny_weakens_encryption_in_transit() -> None:
    deny = {
        "Effect": "Deny",
        "Principal": {"AWS": "*"},
        "Action": "s3:*",
        "Resource": "a",
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }
    [risk] = risks(policy(READ, deny), policy(READ))
    assert risk.category is Category.ENCRYPTION
    assert risk.detail.startswith("no longer denies: s3:* on a to AWS:*")


def test_attaching_a_managed_policy_widens() -> None:
    role = {"Type": "AWS::IAM::Role", "Properties": {}}
    admin = {"Type": "AWS::IAM::Role", "Properties": {"ManagedPolicyArns": ["arn:admin"]}}
    [risk] = risks({"R": role}, {"R": admin})
    assert risk.detail == "grant added: managed policy arn:admin on * to (the role)"


def test_removing_a_retained_bucket_orphans_it() -> None:
    bucket = {"Type": "AWS::S3::Bucket", "DeletionPolicy": "Retain", "Properties": {}}
    [risk] = risks({"B": bucket}, {})
    assert risk.category is Category.DESTRUCTIVE
    assert "DeletionPolicy Retain orphans it" in risk.detail


def test_replacing_a_stateless_resource_is_not_destructive() -> None:
    topic = {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "a"}}
    assert risks({"T": topic}, {"T": {**topic, "Properties": {"TopicName": "b"}}}) == []


def test_removing_a_log_groups_key_weakens_encryption() -> None:
    group = {"Type": "AWS::Logs::LogGroup", "Properties": {"KmsKeyId": "k", "RetentionInDays": 30}}
    plain = {"Type": "AWS::Logs::LogGroup", "Properties": {"RetentionInDays": 30}}
    [risk] = risks({"G": group}, {"G": plain})
    assert (risk.category, risk.detail) == (Category.ENCRYPTION, "KmsKeyId removed")


def test_kms_to_s3_managed_encryption_is_weaker() -> None:
    def bucket(algorithm: str) -> dict:
        rule = {"ServerSideEncryptionByDefault": {"SSEAlgorithm": algorithm}}
        return {
            "Type": "AWS::S3::Bucket",
            "Properties": {"BucketEncryption": {"ServerSideEncryptionConfiguration": [rule]}},
        }

    [risk] = risks({"B": bucket("aws:kms")}, {"B": bucket("AES256")})
    assert risk.detail.endswith("SSEAlgorithm changed from aws:kms to AES256")


def test_an_internet_gateway_adds_exposure() -> None:
    [risk] = risks({}, {"I": {"Type": "AWS::EC2::InternetGateway", "Properties": {}}})
    assert (risk.category, risk.detail) == (Category.NETWORK, "adds an internet gateway")


def test_a_grant_moving_to_a_new_asset_version_is_not_a_widening() -> None:
    def on_asset(digest: str) -> dict:
        return {
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::b/{digest}.gz",
        }

    assert risks(policy(on_asset("a" * 64)), policy(on_asset("b" * 64))) == []


def bucket(policy: str | None = None, name: str = "b") -> dict:
    resource: dict = {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": name}}
    if policy is not None:
        resource |= {"DeletionPolicy": policy, "UpdateReplacePolicy": policy}
    return resource


def test_retain_to_delete_weakens_retention_and_is_destructive() -> None:
    [risk] = risks({"B": bucket("Retain")}, {"B": bucket("Delete")})
    assert (risk.category, risk.category.destructive) == (Category.RETENTION, True)
    assert risk.detail.startswith(
        "DeletionPolicy Retain → Delete, UpdateReplacePolicy Retain → Delete"
    )


def test_a_removed_snapshot_policy_weakens_retention() -> None:
    [risk] = risks({"B": bucket("Snapshot")}, {"B": bucket()})
    assert risk.detail.startswith("DeletionPolicy Snapshot → removed (Delete)")


def test_retaining_more_is_not_flagged() -> None:
    assert risks({"B": bucket("Delete")}, {"B": bucket("Retain")}) == []


def test_the_retention_of_a_stateless_resource_is_not_flagged() -> None:
    topic = {"Type": "AWS::SNS::Topic", "DeletionPolicy": "Retain", "Properties": {}}
    assert risks({"T": topic}, {"T": {**topic, "DeletionPolicy": "Delete"}}) == []


VPC = {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.10.0.0/16"}}


def subnet(name: str) -> dict:
    return {
        "Type": "AWS::EC2::Subnet",
        "Properties": {"VpcId": {"Ref": "V"}},
        "Metadata": {"aws:cdk:path": f"dev/s/Vpc/{name}/Subnet/Resource"},
    }


def test_network_resources_the_cli_replaces_are_destructive_grouped_by_type() -> None:
    """Only the VPC's template changes; the CLI's diff follows the replacement to subnets."""
    before = {"V": VPC, "S1": subnet("a"), "S2": subnet("b"), "S3": subnet("c")}
    after = {**before, "V": {**VPC, "Properties": {"CidrBlock": "10.11.0.0/16"}}}
    impacts: dict[str, Impact] = {
        "V": "replace",
        "S1": "replace",
        "S2": "replace",
        "S3": "may be replaced",
    }
    found = risks(before, after, impacts)
    assert [(risk.category, risk.location, risk.subject, risk.detail) for risk in found] == [
        (Category.NETWORK_LOST, "dev/s", "AWS::EC2::Subnet", "may be replaced: Vpc/c/Subnet"),
        (Category.NETWORK_LOST, "dev/s", "AWS::EC2::VPC", "replaced: V"),
        (
            Category.NETWORK_LOST,
            "dev/s",
            "AWS::EC2::Subnet",
            "replaced: Vpc/a/Subnet, Vpc/b/Subnet",
        ),
    ]
    assert all(risk.category.destructive for risk in found)


def test_a_deleted_vpc_endpoint_is_destructive() -> None:
    endpoint = {"Type": "AWS::EC2::VPCEndpoint", "Properties": {"VpcId": "vpc-1"}}
    [risk] = risks({"E": endpoint}, {})
    assert (risk.category, risk.detail) == (Category.NETWORK_LOST, "deleted: E")


def test_a_stateful_resource_the_cli_replaces_is_destructive_without_a_known_property() -> None:
    table = {"Type": "AWS::DynamoDB::Table", "Properties": {"StreamSpecification": {}}}
    [risk] = risks({"T": table}, {"T": table}, {"T": "replace"})
    assert risk.category is Category.DESTRUCTIVE
    assert risk.detail.startswith("replaced, says the CDK CLI's diff")


def reading(resource: object, kind: str = "AWS::IAM::ManagedPolicy", **properties: object) -> dict:
    """A policy allowing s3:GetObject on `resource`."""
    statement = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": resource}
    document = {"Statement": [statement]}
    return {"Type": kind, "Properties": {**properties, "PolicyDocument": document}}


def test_grants_that_follow_a_renamed_bucket_moved_and_widen_nothing() -> None:
    before = {"B": bucket(name="raw"), "P": reading("arn:aws:s3:::raw/*")}
    after = {"B": bucket(name="raw-v2"), "P": reading("arn:aws:s3:::raw-v2/*")}
    found = risks(before, after)
    assert [risk.category for risk in found] == [Category.DESTRUCTIVE, Category.MOVED]
    assert (found[1].location, found[1].subject) == ("dev/s (P)", "grant")
    assert found[1].detail == "moved with `dev/s (B)`"


def test_a_grant_on_another_bucket_still_widens_when_one_is_renamed() -> None:
    before = {"B": bucket(name="raw"), "P": reading("arn:aws:s3:::raw/*")}
    after = {"B": bucket(name="raw-v2"), "P": reading("arn:aws:s3:::logs/*")}
    assert Category.IAM in {risk.category for risk in risks(before, after)}


def bucket_policy(bucket_id: str) -> dict:
    arn = {"Fn::GetAtt": [bucket_id, "Arn"]}
    return reading(arn, "AWS::S3::BucketPolicy", Bucket={"Ref": bucket_id})


def test_grants_that_follow_a_new_logical_id_moved() -> None:
    """A construct renamed in code: the bucket and its policy get new logical ids."""
    before = {"Old": bucket(), "OldPolicy": bucket_policy("Old")}
    after = {"New": bucket(), "NewPolicy": bucket_policy("New")}
    found = risks(before, after)
    assert [(risk.category, risk.location) for risk in found] == [
        (Category.DESTRUCTIVE, "dev/s (Old)"),
        (Category.MOVED, "dev/s (NewPolicy)"),
    ]
    assert found[1].detail == "moved with `dev/s (OldPolicy)`"


def test_the_cli_diff_names_each_replaced_or_deleted_resource() -> None:
    text = "\n".join(
        [
            "Resources",
            "[~] AWS::EC2::VPC network/Vpc Vpc8378EB38 replace",
            " └─ [~] CidrBlock (requires replacement)",
            "[~] AWS::EC2::SecurityGroupIngress network/G/from x:ALL PORTS Rule1 may be replaced",
            "[-] AWS::KMS::Key data/Key Key1 destroy",
            "[-] AWS::S3::Bucket data/Bucket Bucket1 orphan",
            "[~] AWS::S3::Bucket data/Other Bucket2",
        ]
    )
    assert resource_impacts(text) == {
        "Vpc8378EB38": "replace",
        "Rule1": "may be replaced",
        "Key1": "destroy",
        "Bucket1": "orphan",
    }
