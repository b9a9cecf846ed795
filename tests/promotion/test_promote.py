"""`sagestack promote` against the embedded emulator: accepted, and refused for each reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from ground.config import load_environment
from sagestack.cli import main
from sagestack.promotion.aws import AwsTarget
from sagestack.promotion.candidate import Candidate
from sagestack.promotion.checks import Outcome, check_baseline, check_served
from sagestack.promotion.pin import rewrite_pin
from tests.promotion.conftest import Registry, baseline_folder


def promote(capsys, registry: Registry, config_dir: Path, *args: str) -> tuple[int, str]:
    code = main(
        [
            "promote",
            *args,
            "--config-dir",
            str(config_dir),
            "--emulator",
            "--state-dir",
            str(registry.state_dir),
        ]
    )
    return code, capsys.readouterr().out


def changed_lines(before: str, after: str) -> list[str]:
    old, new = before.splitlines(), after.splitlines()
    return [line for line in new if line not in old] + [
        f"-{line}" for line in old if line not in new
    ]


def test_promotes_what_dev_serves_and_prints_the_cdk_diff(capsys, registry, config_dir) -> None:
    staging = config_dir / "staging.yaml"
    before = staging.read_text()
    code, out = promote(capsys, registry, config_dir, "--to", "staging")
    assert code == 0, out
    for gate in ("approved", "metrics", "baseline", "served"):
        assert f"  {gate}: passed" in out
    assert "auc 0.9700 meets staging's training.min_roc_auc 0.95" in out
    assert f"  baseline: passed: {baseline_folder(1)} holds the data-quality baseline" in out
    pin = load_environment(staging).serving.model
    assert (pin.arn, pin.baseline_uri) == (registry.arns[1], baseline_folder(1))
    assert changed_lines(before, staging.read_text()) == [
        "  model:",
        f"    arn: {registry.arns[1]}",
        f"    baseline_uri: {baseline_folder(1)}",
        "-  model: null",
    ]
    # The real CDK CLI's diff of staging: the pin brings the serving stack and the endpoint.
    assert "Stack staging/serving (sagestack-staging-serving)" in out
    assert "AWS::SageMaker::Endpoint" in out
    assert registry.arns[1] in out.split("cdk diff of staging", 1)[1]


@pytest.mark.parametrize(
    ("version", "gate", "reason"),
    [
        (2, "approved", "is PendingManualApproval, not Approved"),
        (3, "metrics", "auc 0.9200 is below staging's training.min_roc_auc 0.95"),
        (4, "served", "sagestack-dev-endpoint serves"),
        (5, "metrics", "records no ModelMetrics.ModelQuality.Statistics"),
        (7, "baseline", "records no DriftCheckBaselines.ModelDataQuality"),
        (8, "baseline", f"cannot read {baseline_folder(8)}statistics.json"),
    ],
)
def test_refuses_a_candidate_that_fails_a_gate(
    capsys, registry, config_dir, version, gate, reason
) -> None:
    staging = config_dir / "staging.yaml"
    before = staging.read_text()
    code, out = promote(capsys, registry, config_dir, "--to", "staging", "--version", str(version))
    assert code == 1
    assert f"  {gate}: FAILED: " in out and reason in out, out
    assert f"refused: {gate} check(s) failed" in out
    assert staging.read_text() == before


def test_lists_every_failed_gate_at_once(capsys, registry, config_dir) -> None:
    """v6 is pending, below staging's threshold and never served: three reasons, one refusal."""
    code, out = promote(capsys, registry, config_dir, "--to", "staging", "--version", "6")
    assert code == 1
    assert "refused: approved, metrics, served check(s) failed" in out


def test_refuses_when_the_previous_environment_has_no_endpoint(
    capsys, registry, config_dir
) -> None:
    """staging pins v1 but was never deployed here: its endpoint cannot have served it."""
    promote(capsys, registry, config_dir, "--to", "staging", "--no-diff")
    code, out = promote(capsys, registry, config_dir, "--to", "prod", "--no-diff")
    assert code == 1
    assert (
        "  served: FAILED: staging's endpoint sagestack-staging-endpoint-m5-large cannot be read"
        in out
    )
    assert load_environment(config_dir / "prod.yaml").serving.model is None


def test_refuses_when_the_previous_environment_pins_nothing(capsys, registry, config_dir) -> None:
    code, out = promote(capsys, registry, config_dir, "--to", "prod")
    assert code == 1
    assert "refused: staging pins no model (serving.model is null in" in out
    assert "--version N" in out


def test_refuses_an_unknown_version(capsys, registry, config_dir) -> None:
    code, out = promote(capsys, registry, config_dir, "--to", "staging", "--version", "99")
    assert code == 1
    assert "model-package/sagestack-dev-models/99 (--version 99 of sagestack-dev-models)" in out
    assert "cannot be read in the emulator" in out


@pytest.mark.parametrize(
    ("target", "reason"),
    [("dev", "dev is the first environment"), ("qa", "has no qa.yaml")],
)
def test_refuses_a_target_without_a_previous_environment(
    capsys, registry, config_dir, target, reason
) -> None:
    code, out = promote(capsys, registry, config_dir, "--to", target)
    assert code == 1
    assert f"refused: --to {target}: " in out and reason in out


def test_dry_run_checks_and_shows_the_change_but_writes_nothing(
    capsys, registry, config_dir
) -> None:
    staging = config_dir / "staging.yaml"
    before = staging.read_text()
    code, out = promote(capsys, registry, config_dir, "--to", "staging", "--dry-run", "--no-diff")
    assert code == 0
    assert f"+    arn: {registry.arns[1]}" in out
    assert "dry run:" in out
    assert staging.read_text() == before


def test_a_second_promotion_of_the_same_package_changes_nothing(
    capsys, registry, config_dir
) -> None:
    promote(capsys, registry, config_dir, "--to", "staging", "--no-diff")
    after_first = (config_dir / "staging.yaml").read_text()
    code, out = promote(capsys, registry, config_dir, "--to", "staging", "--no-diff")
    assert code == 0
    assert "already pins it, with its baseline; nothing to do" in out
    assert (config_dir / "staging.yaml").read_text() == after_first


def test_a_pin_missing_its_baseline_is_completed(capsys, registry, config_dir) -> None:
    """A pin written by hand (or before packages recorded baselines) gets the baseline added."""
    staging = config_dir / "staging.yaml"
    staging.write_text(rewrite_pin(staging.read_text(), registry.arns[1], str(staging)))
    code, out = promote(capsys, registry, config_dir, "--to", "staging", "--no-diff")
    assert code == 0, out
    assert f"+    baseline_uri: {baseline_folder(1)}" in out
    assert load_environment(staging).serving.model.baseline_uri == baseline_folder(1)


def test_emulator_must_be_running(capsys, config_dir, tmp_path) -> None:
    code = main(
        [
            "promote",
            "--to",
            "staging",
            "--config-dir",
            str(config_dir),
            "--emulator",
            "--state-dir",
            str(tmp_path / "none"),
        ]
    )
    assert code == 1
    assert "no emulator is running" in capsys.readouterr().out


def test_other_accounts_endpoint_is_not_checked_and_says_why(
    capsys, registry, config_dir, monkeypatch
) -> None:
    """Against AWS (here: the emulator as plain AWS), staging's endpoint is in staging's account.

    The credentials are the emulator's account, so the served gate cannot look and says so;
    the other gates pass and the promotion goes ahead.
    """
    promote(capsys, registry, config_dir, "--to", "staging", "--no-diff")
    for name, value in registry.emulator.client_environment("eu-west-1").items():
        monkeypatch.setenv(name, value)
    code = main(["promote", "--to", "prod", "--config-dir", str(config_dir), "--no-diff"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "read from AWS" in out
    assert (
        "  served: not checked: sagestack-staging-endpoint-m5-large is in staging's account "
        "210987654321 and these credentials are for 123456789012" in out
    )
    assert load_environment(config_dir / "prod.yaml").serving.model.arn == registry.arns[1]


def test_unreachable_aws_is_not_checked(registry, config_dir, monkeypatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "unused")
    dev = load_environment(config_dir / "dev.yaml")
    candidate = Candidate(registry.arns[1], {}, "test")
    result = check_served(candidate, dev, AwsTarget())
    assert result.outcome is Outcome.NOT_CHECKED
    assert "cannot learn which account these credentials belong to" in result.detail


def test_a_target_without_model_monitor_needs_no_baseline(registry, config_dir) -> None:
    dev = load_environment(config_dir / "dev.yaml")  # serverless: nothing captured to monitor
    aws = AwsTarget(registry.emulator)
    package = aws.client("sagemaker", "eu-west-1").describe_model_package(
        ModelPackageName=registry.arns[7]
    )
    result = check_baseline(Candidate(registry.arns[7], package, "test"), dev, aws)
    assert result.outcome is Outcome.PASSED
    assert result.detail == "dev runs no Model Monitor; pinned with it: none"
