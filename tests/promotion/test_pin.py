"""Pin rewriting: only `serving.model` changes, comments and layout stay byte for byte."""

from __future__ import annotations

import pytest

from ground.config.loader import CONFIG_DIR
from sagestack.promotion.pin import PinError, rewrite_pin

ARN = "arn:aws:sagemaker:eu-west-1:123456789012:model-package/sagestack-dev-models/{}"


@pytest.mark.parametrize("environment", ["dev", "staging", "prod"])
def test_rewrites_only_the_pin_of_every_environment_file(environment: str) -> None:
    text = (CONFIG_DIR / f"{environment}.yaml").read_text()
    first = rewrite_pin(text, ARN.format(1), environment)
    second = rewrite_pin(first, ARN.format(2), environment)
    assert second == first.replace(ARN.format(1), ARN.format(2))
    model_line = next(line for line in text.splitlines() if line.startswith("  model:"))
    assert second.replace(f"  model:\n    arn: {ARN.format(2)}\n", f"{model_line}\n") == text


def test_keeps_the_comments_of_an_existing_pin() -> None:
    text = (
        "serving:\n"
        "  # promoted by the platform team\n"
        "  model:  # see the runbook\n"
        f"    arn: {ARN.format(1)}  # from dev\n"
        "  serverless:\n"
        "    memory_mb: 2048\n"
    )
    assert rewrite_pin(text, ARN.format(7), "f.yaml") == text.replace(ARN.format(1), ARN.format(7))


def test_replaces_a_group_and_version_pin_by_the_arn() -> None:
    text = "serving:\n  model:\n    group: sagestack-dev-models\n    version: 3\n"
    assert (
        rewrite_pin(text, ARN.format(3), "f.yaml")
        == f"serving:\n  model:\n    arn: {ARN.format(3)}\n"
    )


def test_refuses_a_file_whose_layout_would_change_elsewhere() -> None:
    text = "alarm_emails:\n- a@example.com\nserving:\n  model: null\n"
    with pytest.raises(
        PinError, match=r"f\.yaml: rewriting serving\.model would also change line 2"
    ):
        rewrite_pin(text, ARN.format(1), "f.yaml")


def test_refuses_a_file_without_a_pin() -> None:
    with pytest.raises(PinError, match=r"f\.yaml: has no serving\.model key"):
        rewrite_pin("serving:\n  serverless: {}\n", ARN.format(1), "f.yaml")


def test_writes_the_baseline_with_the_arn_and_replaces_both() -> None:
    baseline = "s3://sagestack-dev-ml-artifacts-123456789012-eu-west-1/models/{}/baseline/"
    text = "serving:\n  # promote rewrites this\n  model: null\n  serverless: {}\n"
    first = rewrite_pin(text, ARN.format(1), "f.yaml", baseline.format(1))
    assert first == (
        f"serving:\n  # promote rewrites this\n  model:\n    arn: {ARN.format(1)}\n"
        f"    baseline_uri: {baseline.format(1)}\n  serverless: {{}}\n"
    )
    second = rewrite_pin(first, ARN.format(2), "f.yaml", baseline.format(2))
    assert second == first.replace("/1", "/2")
    assert rewrite_pin(second, ARN.format(3), "f.yaml") == (
        f"serving:\n  # promote rewrites this\n  model:\n    arn: {ARN.format(3)}\n"
        "  serverless: {}\n"
    )
