"""The review of prepared changes: each risk flagged where it is, and nothing else flagged."""

from __future__ import annotations

from ground.config import load_environment
from sagestack.review.command import EXIT_DESTRUCTIVE, exit_code
from sagestack.review.engine import Review
from sagestack.review.report import MARKER, render
from sagestack.review.risks import RISK_CATEGORIES, Category, Risk
from tests.review.conftest import RENAMED_RAW_DATA
from tests.serving.pinned import MODELS

STUDIO_PROFILES = [p.name for p in load_environment("dev").config.studio.user_profiles]


def risks_in(review: Review, category: Category) -> list[Risk]:
    return [risk for risk in review.risks if risk.category is category]


def stack(review: Review, name: str):
    return next(item for item in review.stacks if item.diff.display_name == name)


def test_renamed_bucket_is_flagged_as_a_replacement(review: Review) -> None:
    [replaced] = [r for r in review.destructive if r.location.startswith("dev/data/RawData")]
    assert replaced.subject == "AWS::S3::Bucket"
    assert replaced.detail.startswith("replaced") and "BucketName changed" in replaced.detail
    # The CDK CLI's own rendering says the same (and starts at its stack header).
    cli_diff = stack(review, "dev/data").cdk_diff
    assert cli_diff.startswith("Stack dev/data (sagestack-dev-data)")
    assert "BucketName (requires replacement)" in cli_diff


def test_grants_and_acknowledgment_following_the_renamed_bucket_only_moved(
    review: Review,
) -> None:
    """Its grants name the new bucket now; the same grants, so no widening and no new
    acknowledgment (the only ones flagged are the prepared logs:* ones below)."""
    for model in MODELS:
        assert RENAMED_RAW_DATA in stack(review, f"dev/{model}-training").cdk_diff
    bucket = "moved with `dev/data/RawData/Bucket (RawDataBucket46CFA8FB)`"
    moved = [(risk.location.split(" (")[0], risk.subject, risk.detail) for risk in review.moved]
    roles = [f"dev/{model}-training/TrainingPipeline/ProcessingRole/Policy" for model in MODELS]
    # Each Studio profile reads its team's raw data: its grants move with the bucket too.
    roles += [f"dev/studio/Role-{profile}/Policy" for profile in STUDIO_PROFILES]
    assert sorted(moved) == sorted(
        [
            ("dev/data/AccessLogs/Bucket/Policy", "grant", bucket),
            *[
                item
                for role in roles
                for item in (
                    (role, "grant", bucket),
                    (role, "grant", bucket),
                    (role + "/Resource", "acknowledgment", bucket),
                )
            ],
        ]
    )


def test_removed_kms_key_is_flagged_as_a_deletion(review: Review) -> None:
    [deleted] = [r for r in review.destructive if r.location.startswith("staging/data/AlertsKey")]
    assert deleted.subject == "AWS::KMS::Key"
    assert deleted.detail == "deleted, with its contents"
    assert stack(review, "staging/data").diff.count("removed") == 1


def test_only_the_bucket_and_the_key_are_destructive(review: Review) -> None:
    assert len(review.destructive) == 2
    assert exit_code(review, allow_destructive=False) == EXIT_DESTRUCTIVE
    assert exit_code(review, allow_destructive=True) == 0


def test_widened_policy_is_flagged(review: Review) -> None:
    [widened] = risks_in(review, Category.IAM)
    assert widened.location.startswith("dev/network/FlowLogRole/Policy (FlowLogRolePolicy")
    assert widened.subject == "AWS::IAM::ManagedPolicy"
    assert widened.detail == "grant added: logs:* on *"


def test_public_access_block_turned_off_is_flagged(review: Review) -> None:
    [weakened] = risks_in(review, Category.ENCRYPTION)
    assert weakened.location.startswith("prod/data/AccessLogs/Bucket (AccessLogsBucket")
    assert weakened.detail == "PublicAccessBlockConfiguration.BlockPublicPolicy set to False"


def test_ssh_from_anywhere_is_flagged(review: Review) -> None:
    [exposed] = risks_in(review, Category.NETWORK)
    assert exposed.location.startswith("staging/network/WorkloadSecurityGroup")
    assert exposed.detail == "opens ingress from 0.0.0.0/0 on tcp 22-22"


def test_new_acknowledgment_is_listed_with_its_reason(review: Review) -> None:
    [acknowledged] = risks_in(review, Category.ACKNOWLEDGMENT)
    assert acknowledged.location == "dev/network/FlowLogRole/Policy/Resource"
    assert acknowledged.subject == "AwsSolutions-IAM5[Action::logs:*]"
    assert acknowledged.detail.startswith("Prepared change")


def test_pure_tag_change_is_shown_but_not_flagged(review: Review) -> None:
    retagged = stack(review, "prod/network")
    assert retagged.diff.count("modified") > 10
    assert {name for change in retagged.diff.resources for name in change.changed_properties} == {
        "Tags"
    }
    assert retagged.risks == []
    assert "cdk-pipelines" in retagged.cdk_diff


def test_unchanged_stacks_are_not_diffed(review: Review) -> None:
    unchanged = stack(review, "staging/cancer-training")
    assert unchanged.diff.status == "unchanged"
    assert unchanged.cdk_diff == ""


def test_report_puts_the_risks_first_then_each_environment(review: Review) -> None:
    report = render(review)
    assert report.startswith(MARKER + "\n")
    assert "**2 destructive change(s)**" in report
    headings = [line for line in report.splitlines() if line.startswith("#")]
    assert headings == [
        "## sagestack review: `main` → `prepared`",
        "### Risks a reviewer must see",
        f"#### {Category.DESTRUCTIVE.value} (2)",
        f"#### {Category.IAM.value} (1)",
        f"#### {Category.ENCRYPTION.value} (1)",
        f"#### {Category.NETWORK.value} (1)",
        f"#### {Category.ACKNOWLEDGMENT.value} (1)",
        f"### {Category.MOVED.value} ({1 + 3 * (len(MODELS) + len(STUDIO_PROFILES))})",
        "### Changes per environment and model",
        "#### dev",
        "##### shared stacks",
        *[f"##### model `{model}`" for model in sorted(MODELS)],
        "#### staging",
        "##### shared stacks",
        *[f"##### model `{model}`: no changes in its 1 stack" for model in sorted(MODELS)],
        "#### prod",
        "##### shared stacks",
        *[f"##### model `{model}`: no changes in its 1 stack" for model in sorted(MODELS)],
    ]
    assert (
        "- `dev/cancer-training/TrainingPipeline/ProcessingRole/Policy/Resource`: "
        "1 acknowledgment(s) "
        "moved with `dev/data/RawData/Bucket (RawDataBucket46CFA8FB)`"
    ) in report
    assert "| `staging/data` | modified | 0 | 0 | 1 |" in report
    assert len(report) < 65536, "a GitHub comment holds at most 65,536 characters"


def test_report_names_every_class_of_risk_it_checks(review: Review) -> None:
    report = render(review)
    [checked] = [line for line in report.splitlines() if line.startswith("Checked for: ")]
    assert checked.removeprefix("Checked for: ").startswith(
        "; ".join(category.value for category in RISK_CATEGORIES)
    )
    assert report.index(checked) < report.index("### Risks a reviewer must see")
