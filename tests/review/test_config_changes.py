"""The review of config edits that look harmless: a new VPC CIDR in dev, prod's data no
longer retained. Both are destructive; nothing else is flagged."""

from __future__ import annotations

from sagestack.review.command import EXIT_DESTRUCTIVE, exit_code
from sagestack.review.engine import Review
from sagestack.review.report import render
from sagestack.review.risks import Category, Risk

RETAINED_TYPES = {"AWS::S3::Bucket", "AWS::KMS::Key", "AWS::Logs::LogGroup"}


def found(review: Review, category: Category, environment: str) -> list[Risk]:
    return [
        risk
        for risk in review.risks
        if risk.category is category and risk.location.startswith(f"{environment}/")
    ]


def test_a_new_vpc_cidr_replaces_the_network_grouped_by_type(config_review: Review) -> None:
    replaced = found(config_review, Category.NETWORK_LOST, "dev")
    by_type = {risk.subject: risk.detail for risk in replaced}
    assert len(by_type) == len(replaced), "one line per resource type"
    assert {risk.location for risk in replaced} == {"dev/network"}
    assert by_type["AWS::EC2::VPC"] == "replaced: Vpc"
    assert by_type["AWS::EC2::Subnet"].startswith("replaced: Vpc/workloadsSubnet1/Subnet, ")
    assert by_type["AWS::EC2::RouteTable"].startswith("replaced: Vpc/workloadsSubnet1/RouteTable")
    assert by_type["AWS::EC2::SecurityGroup"] == (
        "replaced: EndpointSecurityGroup, WorkloadSecurityGroup"
    )
    for endpoint in ("S3Endpoint", "sagemaker-api-endpoint", "sagemaker-runtime-endpoint"):
        assert f"Vpc/{endpoint}" in by_type["AWS::EC2::VPCEndpoint"]


def test_prod_losing_its_retention_is_flagged_on_every_retained_resource(
    config_review: Review,
) -> None:
    weakened = found(config_review, Category.RETENTION, "prod")
    assert {risk.subject for risk in weakened} == RETAINED_TYPES
    assert {risk.location.split(" (")[0] for risk in weakened} >= {
        "prod/data/RawData/Bucket",
        "prod/data/Artifacts/Bucket",
        "prod/data/DataKey/Key",
        "prod/network/FlowLogGroup",
    }
    for risk in weakened:
        assert risk.detail.startswith(
            "DeletionPolicy Retain → Delete, UpdateReplacePolicy Retain → Delete"
        )


def test_both_are_destructive_and_nothing_else_is_flagged(config_review: Review) -> None:
    assert {risk.category for risk in config_review.risks} == {
        Category.NETWORK_LOST,
        Category.RETENTION,
    }
    assert config_review.destructive == config_review.risks
    assert not found(config_review, Category.NETWORK_LOST, "prod"), "prod's CIDR is unchanged"
    assert exit_code(config_review, allow_destructive=False) == EXIT_DESTRUCTIVE
    assert exit_code(config_review, allow_destructive=True) == 0
    report = render(config_review)
    assert f"**{len(config_review.destructive)} destructive change(s)**" in report
    assert "Nothing destructive" not in report
