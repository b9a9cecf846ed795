"""Pin rewriting: only `environments.<env>.serving.model` of one model file changes; comments,
layout and every other environment's pin stay byte for byte."""

from __future__ import annotations

import difflib

import pytest
import yaml

from ground.config.loader import CONFIG_DIR
from sagestack.promotion.pin import PinError, pin_path, rewrite_pin

ARN = "arn:aws:sagemaker:eu-west-1:123456789012:model-package/sagestack-dev-{}/{}"
BASELINE = "s3://sagestack-dev-ml-artifacts-123456789012-eu-west-1/models/{}/baseline/"
MODEL_FILES = sorted(path.stem for path in (CONFIG_DIR / "models").glob("*.yaml"))
CASES = [
    (model, env)
    for model in MODEL_FILES
    for env in yaml.safe_load((CONFIG_DIR / "models" / f"{model}.yaml").read_text())["environments"]
]


def _changed_line_numbers(before: str, after: str) -> list[int]:
    """0-based numbers of the lines of `before` that `after` replaces or deletes."""
    matcher = difflib.SequenceMatcher(a=before.splitlines(), b=after.splitlines(), autojunk=False)
    return [
        number
        for tag, i1, i2, _, _ in matcher.get_opcodes()
        if tag != "equal"
        for number in range(i1, i2)
    ]


def test_every_committed_model_lists_dev_staging_and_prod() -> None:
    assert MODEL_FILES == ["cancer", "diabetes", "wine"]
    assert {env for _, env in CASES} == {"dev", "staging", "prod"}


@pytest.mark.parametrize(("model", "env"), CASES, ids=[f"{m}-{e}" for m, e in CASES])
def test_rewrites_only_the_pin_of_one_environment_of_a_model_file(model: str, env: str) -> None:
    text = (CONFIG_DIR / "models" / f"{model}.yaml").read_text()
    arn1, arn2 = ARN.format(model, 1), ARN.format(model, 2)
    first = rewrite_pin(text, pin_path(env), arn1, f"{model}.yaml")
    second = rewrite_pin(first, pin_path(env), arn2, f"{model}.yaml")
    assert second == first.replace(arn1, arn2)
    # Only the one `model: null` line of this environment was replaced.
    (changed,) = _changed_line_numbers(text, first)
    assert text.splitlines()[changed] == "      model: null"
    assert first.splitlines()[changed : changed + 2] == ["      model:", f"        arn: {arn1}"]
    parsed, original = yaml.safe_load(first), yaml.safe_load(text)
    assert parsed["environments"][env]["serving"]["model"] == {"arn": arn1}
    parsed["environments"][env]["serving"]["model"] = None
    assert parsed == original, "every other environment's pin and every other key unchanged"


def test_keeps_the_comments_of_an_existing_pin() -> None:
    text = (
        "environments:\n"
        "  staging:\n"
        "    serving:\n"
        "      # promoted by the platform team\n"
        "      model:  # see the runbook\n"
        f"        arn: {ARN.format('cancer', 1)}  # from dev\n"
        "      serverless:\n"
        "        memory_mb: 2048\n"
        "  prod:\n"
        "    serving:\n"
        "      model: null  # not yet\n"
    )
    rewritten = rewrite_pin(text, pin_path("staging"), ARN.format("cancer", 7), "f.yaml")
    assert rewritten == text.replace(ARN.format("cancer", 1), ARN.format("cancer", 7))


def test_replaces_a_group_and_version_pin_by_the_arn() -> None:
    text = (
        "environments:\n  dev:\n    serving:\n"
        "      model:\n        group: sagestack-dev-cancer\n        version: 3\n"
    )
    assert rewrite_pin(text, pin_path("dev"), ARN.format("cancer", 3), "f.yaml") == (
        "environments:\n  dev:\n    serving:\n"
        f"      model:\n        arn: {ARN.format('cancer', 3)}\n"
    )


def test_refuses_a_file_whose_layout_would_change_elsewhere() -> None:
    text = "team:\n- a\nenvironments:\n  prod:\n    serving:\n      model: null\n"
    with pytest.raises(
        PinError,
        match=r"f\.yaml: rewriting environments\.prod\.serving\.model would also change line 2",
    ):
        rewrite_pin(text, pin_path("prod"), ARN.format("cancer", 1), "f.yaml")


@pytest.mark.parametrize(
    "text",
    [
        "environments:\n  prod:\n    serving:\n      instance: {}\n",
        "environments:\n  prod: {}\n",
        "environments:\n  staging:\n    serving:\n      model: null\n",
        "team: oncology\n",
    ],
    ids=["no model key", "no serving", "environment not listed", "no environments"],
)
def test_refuses_a_file_without_the_pin(text: str) -> None:
    with pytest.raises(
        PinError, match=r"f\.yaml: has no environments\.prod\.serving\.model key; add it"
    ):
        rewrite_pin(text, pin_path("prod"), ARN.format("cancer", 1), "f.yaml")


def test_writes_the_baseline_with_the_arn_and_replaces_both() -> None:
    text = (
        "environments:\n  staging:\n    serving:\n"
        "      # promote rewrites this\n      model: null\n      instance: {}\n"
    )
    path = pin_path("staging")
    first = rewrite_pin(text, path, ARN.format("wine", 1), "f.yaml", BASELINE.format(1))
    assert first == (
        "environments:\n  staging:\n    serving:\n      # promote rewrites this\n"
        f"      model:\n        arn: {ARN.format('wine', 1)}\n"
        f"        baseline_uri: {BASELINE.format(1)}\n      instance: {{}}\n"
    )
    second = rewrite_pin(first, path, ARN.format("wine", 2), "f.yaml", BASELINE.format(2))
    assert second == first.replace("/1", "/2")
    assert rewrite_pin(second, path, ARN.format("wine", 3), "f.yaml") == (
        "environments:\n  staging:\n    serving:\n      # promote rewrites this\n"
        f"      model:\n        arn: {ARN.format('wine', 3)}\n      instance: {{}}\n"
    )


def test_the_pin_lives_under_the_environment_in_the_model_file() -> None:
    assert pin_path("prod") == ("environments", "prod", "serving", "model")
