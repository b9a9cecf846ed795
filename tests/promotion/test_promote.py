"""`sagestack promote --to ENV --model NAME` against the embedded emulator: per model, accepted,
and refused for each reason."""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest

from ground.config import load_environment
from sagestack.cli import main
from sagestack.promotion.aws import AwsTarget
from sagestack.promotion.candidate import Candidate
from sagestack.promotion.checks import Outcome, check_baseline, check_metrics, check_served
from tests.promotion.conftest import (
    DIABETES_STAGING_THRESHOLD,
    Registry,
    baseline_folder,
    endpoint,
    model_file,
    pin,
)

MODELS = ("cancer", "diabetes", "wine")


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
    """The lines a change adds (as they are) and removes (prefixed with -), in file order."""
    diff = difflib.ndiff(before.splitlines(), after.splitlines())
    return [line[2:] if line[0] == "+" else f"-{line[2:]}" for line in diff if line[0] in "+-"]


def snapshot(config_dir: Path) -> dict[str, str]:
    return {
        str(path.relative_to(config_dir)): path.read_text()
        for path in sorted(config_dir.rglob("*.yaml"))
    }


def staging_pin(config_dir: Path, model: str):
    return load_environment("staging", config_dir).model(model).serving.model


def test_promotes_what_dev_serves_and_writes_only_its_pin(capsys, registry, config_dir) -> None:
    """The gates and the pin; the `cdk diff` it prints is checked on the demo's promotion
    (tests/integration/test_lifecycle.py), which runs the same command with the real CLI."""
    before = snapshot(config_dir)
    code, out = promote(
        capsys, registry, config_dir, "--to", "staging", "--model", "cancer", "--no-diff"
    )
    assert code == 0, out
    for gate in ("approved", "metrics", "baseline", "served"):
        assert f"  {gate}: passed" in out
    assert "auc 0.9700 meets staging's gate (at least 0.95)" in out
    assert f"  baseline: passed: {baseline_folder('cancer', 1)} holds the data-quality" in out
    assert f"  served: passed: {endpoint('cancer')} serves it" in out
    pinned = staging_pin(config_dir, "cancer")
    assert (pinned.arn, pinned.baseline_uri) == (
        registry.arn("cancer", 1),
        baseline_folder("cancer", 1),
    )
    after = snapshot(config_dir)
    assert [name for name in before if before[name] != after[name]] == ["models/cancer.yaml"]
    # Only the staging pin changed, indented under environments.staging.serving.
    assert changed_lines(before["models/cancer.yaml"], after["models/cancer.yaml"]) == [
        "-      model: null",
        "      model:",
        f"        arn: {registry.arn('cancer', 1)}",
        f"        baseline_uri: {baseline_folder('cancer', 1)}",
    ]
    assert load_environment("staging", config_dir).model("wine").serving.model is None
    assert "cdk diff of staging" not in out


@pytest.mark.parametrize(
    ("version", "gate", "reason"),
    [
        (2, "approved", "is PendingManualApproval, not Approved"),
        (3, "metrics", "auc 0.9200 does not meet staging's gate (at least 0.95)"),
        (4, "served", f"{endpoint('cancer')} serves"),
        (5, "metrics", "records no ModelMetrics.ModelQuality.Statistics"),
        (7, "baseline", "records no DriftCheckBaselines.ModelDataQuality"),
        (8, "baseline", f"cannot read {baseline_folder('cancer', 8)}statistics.json"),
    ],
)
def test_refuses_a_candidate_that_fails_a_gate(
    capsys, registry, config_dir, version, gate, reason
) -> None:
    before = snapshot(config_dir)
    code, out = promote(
        capsys,
        registry,
        config_dir,
        "--to",
        "staging",
        "--model",
        "cancer",
        "--version",
        str(version),
    )
    assert code == 1
    assert f"  {gate}: FAILED: " in out and reason in out, out
    assert (
        f"refused: {gate} check(s) failed; {model_file(config_dir, 'cancer')} is unchanged" in out
    )
    assert snapshot(config_dir) == before


def test_lists_every_failed_gate_at_once(capsys, registry, config_dir) -> None:
    """v6 is pending, below staging's threshold and never served: three reasons, one refusal."""
    code, out = promote(
        capsys, registry, config_dir, "--to", "staging", "--model", "cancer", "--version", "6"
    )
    assert code == 1
    assert "refused: approved, metrics, served check(s) failed" in out


def test_a_regression_model_is_gated_at_most_its_error_threshold(
    capsys, registry, config_dir
) -> None:
    """diabetes is gated on rmse here: smaller is better, so the gate is `at most`."""
    code, out = promote(
        capsys, registry, config_dir, "--to", "staging", "--model", "diabetes", "--version", "2"
    )
    assert code == 1
    assert (
        f"  metrics: FAILED: rmse 58.0000 does not meet staging's gate "
        f"(at most {DIABETES_STAGING_THRESHOLD})" in out
    )
    assert "refused: metrics check(s) failed" in out
    code, out = promote(
        capsys, registry, config_dir, "--to", "staging", "--model", "diabetes", "--no-diff"
    )
    assert code == 0, out
    assert f"rmse 52.0000 meets staging's gate (at most {DIABETES_STAGING_THRESHOLD})" in out
    assert staging_pin(config_dir, "diabetes").arn == registry.arn("diabetes", 1)


def test_a_multiclass_model_is_gated_on_its_own_metric(capsys, registry, config_dir) -> None:
    code, out = promote(
        capsys, registry, config_dir, "--to", "staging", "--model", "wine", "--no-diff"
    )
    assert code == 0, out
    assert "weighted_f1 0.9500 meets staging's gate (at least 0.9)" in out
    assert f"  served: passed: {endpoint('wine')} serves it" in out


def test_the_served_gate_looks_at_the_models_own_endpoint(capsys, registry, config_dir) -> None:
    """wine v2 is behind cancer's endpoint only: that does not count as wine serving it."""
    code, out = promote(
        capsys, registry, config_dir, "--to", "staging", "--model", "wine", "--version", "2"
    )
    assert code == 1
    assert (
        f"  served: FAILED: {endpoint('wine')} serves {registry.arn('wine', 1)}, not "
        f"{registry.arn('wine', 2)}" in out
    )


def test_the_metrics_gate_reads_the_models_own_layout(registry, config_dir) -> None:
    """A regression package's report has no binary metrics: reading it as one would fail."""
    aws = AwsTarget(registry.emulator)
    sagemaker = aws.client("sagemaker", "eu-west-1")
    package = sagemaker.describe_model_package(ModelPackageName=registry.arn("diabetes", 1))
    candidate = Candidate(registry.arn("diabetes", 1), package, "test")
    staging = load_environment("staging", config_dir)
    assert check_metrics(candidate, staging.model("diabetes"), aws).outcome is Outcome.PASSED
    wrong = check_metrics(candidate, staging.model("cancer"), aws)
    assert wrong.outcome is Outcome.FAILED
    assert "cannot read binary_classification_metrics" in wrong.detail


def test_model_is_required_when_the_target_hosts_several(capsys, registry, config_dir) -> None:
    before = snapshot(config_dir)
    code, out = promote(capsys, registry, config_dir, "--to", "staging")
    assert code == 1
    assert "refused: --model: staging hosts 3 models (cancer, diabetes, wine); name the one" in out
    assert snapshot(config_dir) == before


def test_model_may_be_left_out_when_the_target_hosts_one(capsys, registry, config_dir) -> None:
    for model in ("diabetes", "wine"):
        path = model_file(config_dir, model)
        text = path.read_text()
        start, end = text.index("  staging:\n"), text.index("  prod:\n")
        path.write_text(text[:start] + text[end:])
    code, out = promote(capsys, registry, config_dir, "--to", "staging", "--no-diff")
    assert code == 0, out
    assert staging_pin(config_dir, "cancer").arn == registry.arn("cancer", 1)


@pytest.mark.parametrize("model", ["churn", "wine"])
def test_refuses_a_model_the_target_does_not_host(capsys, registry, config_dir, model) -> None:
    """wine here lists dev and staging but not prod; churn is no model at all."""
    path = model_file(config_dir, "wine")
    text = path.read_text()
    path.write_text(text[: text.index("  prod:\n")])
    pin(config_dir, "wine", "staging", registry.arn("wine", 1), baseline_folder("wine", 1))
    before = snapshot(config_dir)
    code, out = promote(capsys, registry, config_dir, "--to", "prod", "--model", model)
    assert code == 1
    assert f"refused: --model {model}: " in out and "does not host it" in out
    assert f"config/models/{model}.yaml" in out
    assert snapshot(config_dir) == before


def test_refuses_a_model_the_previous_environment_does_not_host(
    capsys, registry, config_dir
) -> None:
    path = model_file(config_dir, "wine")
    text = path.read_text()
    start, end = text.index("  staging:\n"), text.index("  prod:\n")
    path.write_text(text[:start] + text[end:])
    code, out = promote(capsys, registry, config_dir, "--to", "prod", "--model", "wine")
    assert code == 1
    assert "refused: --model wine: staging does not host it" in out


def test_refuses_when_the_previous_environment_has_no_endpoint(
    capsys, registry, config_dir
) -> None:
    """staging pins v1 but was never deployed here: its endpoint cannot have served it."""
    promote(capsys, registry, config_dir, "--to", "staging", "--model", "cancer", "--no-diff")
    code, out = promote(
        capsys, registry, config_dir, "--to", "prod", "--model", "cancer", "--no-diff"
    )
    assert code == 1
    assert (
        "  served: FAILED: staging's endpoint sagestack-staging-cancer-m5-large cannot be read"
        in out
    )
    assert load_environment("prod", config_dir).model("cancer").serving.model is None


def test_refuses_when_the_previous_environment_pins_nothing(capsys, registry, config_dir) -> None:
    code, out = promote(capsys, registry, config_dir, "--to", "prod", "--model", "wine")
    assert code == 1
    assert "refused: staging pins no package of wine (" in out
    assert f"{model_file(config_dir, 'wine')}: environments.staging.serving.model is null" in out
    assert "--version N to promote version N of sagestack-staging-wine" in out


def test_refuses_an_unknown_version(capsys, registry, config_dir) -> None:
    code, out = promote(
        capsys, registry, config_dir, "--to", "staging", "--model", "cancer", "--version", "99"
    )
    assert code == 1
    assert "model-package/sagestack-dev-cancer/99 (--version 99 of sagestack-dev-cancer)" in out
    assert "cannot be read in the emulator" in out


@pytest.mark.parametrize(
    ("target", "reason"),
    [("dev", "dev is the first environment"), ("qa", "declares no environment qa")],
)
def test_refuses_a_target_without_a_previous_environment(
    capsys, registry, config_dir, target, reason
) -> None:
    code, out = promote(capsys, registry, config_dir, "--to", target, "--model", "cancer")
    assert code == 1
    assert f"refused: --to {target}: " in out and reason in out


def test_dry_run_checks_and_shows_the_change_but_writes_nothing(
    capsys, registry, config_dir
) -> None:
    before = snapshot(config_dir)
    code, out = promote(
        capsys,
        registry,
        config_dir,
        *("--to", "staging", "--model", "wine", "--dry-run", "--no-diff"),
    )
    assert code == 0
    assert f"+        arn: {registry.arn('wine', 1)}" in out
    assert f"dry run: {model_file(config_dir, 'wine')} is unchanged" in out
    assert snapshot(config_dir) == before


def test_a_second_promotion_of_the_same_package_changes_nothing(
    capsys, registry, config_dir
) -> None:
    arguments = ("--to", "staging", "--model", "cancer", "--no-diff")
    promote(capsys, registry, config_dir, *arguments)
    after_first = snapshot(config_dir)
    code, out = promote(capsys, registry, config_dir, *arguments)
    assert code == 0
    assert (
        f"{model_file(config_dir, 'cancer')}: environments.staging.serving.model already pins "
        "it, with its baseline; nothing to do" in out
    )
    assert snapshot(config_dir) == after_first


def test_a_pin_missing_its_baseline_is_completed(capsys, registry, config_dir) -> None:
    """A pin written by hand (or before packages recorded baselines) gets the baseline added.

    The config refuses such a pin and tells the operator to "pin with `sagestack promote`";
    promote must then be able to do it, although the target's current pin does not load.
    """
    pin(config_dir, "cancer", "staging", registry.arn("cancer", 1))
    code, out = promote(
        capsys, registry, config_dir, "--to", "staging", "--model", "cancer", "--no-diff"
    )
    assert code == 0, out
    assert f"+        baseline_uri: {baseline_folder('cancer', 1)}" in out
    assert staging_pin(config_dir, "cancer").baseline_uri == baseline_folder("cancer", 1)


def test_emulator_must_be_running(capsys, config_dir, tmp_path) -> None:
    code = main(
        [
            "promote",
            *("--to", "staging", "--model", "cancer"),
            *("--config-dir", str(config_dir)),
            *("--emulator", "--state-dir", str(tmp_path / "none")),
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
    promote(capsys, registry, config_dir, "--to", "staging", "--model", "cancer", "--no-diff")
    for name, value in registry.emulator.client_environment("eu-west-1").items():
        monkeypatch.setenv(name, value)
    code = main(
        [
            *("promote", "--to", "prod", "--model", "cancer"),
            *("--config-dir", str(config_dir), "--no-diff"),
        ]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert "read from AWS" in out
    assert (
        "  served: not checked: sagestack-staging-cancer-m5-large is in staging's account "
        "210987654321 and these credentials are for 123456789012" in out
    )
    assert load_environment("prod", config_dir).model("cancer").serving.model.arn == (
        registry.arn("cancer", 1)
    )


def test_unreachable_aws_is_not_checked(registry, config_dir, monkeypatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "unused")
    dev = load_environment("dev", config_dir).model("cancer")
    candidate = Candidate(registry.arn("cancer", 1), {}, "test")
    result = check_served(candidate, dev, AwsTarget())
    assert result.outcome is Outcome.NOT_CHECKED
    assert "cannot learn which account these credentials belong to" in result.detail


def test_a_target_without_model_monitor_needs_no_baseline(registry, config_dir) -> None:
    dev = load_environment("dev", config_dir).model("cancer")  # serverless: nothing captured
    aws = AwsTarget(registry.emulator)
    package = aws.client("sagemaker", "eu-west-1").describe_model_package(
        ModelPackageName=registry.arn("cancer", 7)
    )
    result = check_baseline(Candidate(registry.arn("cancer", 7), package, "test"), dev, aws)
    assert result.outcome is Outcome.PASSED
    assert result.detail == "dev runs no Model Monitor for cancer; pinned with it: none"


def test_a_target_monitoring_against_its_own_baseline_needs_none_from_the_package(
    capsys, registry, config_dir
) -> None:
    """v7 records no baseline; staging's cancer monitors data quality against its own
    baseline_uri (and without a training run, not model quality)."""
    own = baseline_folder("cancer", 1)
    path = model_file(config_dir, "cancer")
    text = path.read_text().replace(
        "    gate: {threshold: 0.95}\n    serving:\n",
        "    gate: {threshold: 0.95}\n"
        f"    monitoring: {{model_monitor: {{baseline_uri: '{own}'}}, "
        "model_quality: {enabled: false}}\n"
        "    serving:\n",
        1,
    )
    path.write_text(text)
    code, out = promote(
        capsys,
        registry,
        config_dir,
        *("--to", "staging", "--model", "cancer", "--version", "7", "--no-diff"),
    )
    assert "  baseline: passed: staging monitors against its own" in out, out
    assert "  served: passed" in out and code == 0


def test_an_unreadable_baseline_names_the_environment_whose_monitor_would_fail(
    capsys, registry, config_dir
) -> None:
    """v8 records a baseline whose files were never written: staging's monitor would fail."""
    code, out = promote(
        capsys, registry, config_dir, "--to", "staging", "--model", "cancer", "--version", "8"
    )
    assert code == 1
    (line,) = [line for line in out.splitlines() if line.startswith("  baseline: FAILED")]
    assert line.endswith("staging's Model Monitor would fail on every run"), line
