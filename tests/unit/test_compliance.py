"""Compliance gates: cdk-nag packs, cfn-lint and checkov on every synthesized template."""

from __future__ import annotations

import json

import pytest
from aws_cdk import App, Stack
from aws_cdk import aws_s3 as s3

from ml_constructs import acknowledgments
from ml_constructs.compliance import attach_compliance_packs, findings
from tests.gates import cfn_lint, checkov, failed_checks, unjustified_skips
from tests.synth import ROOT, Assembly

PACKS = {"AwsSolutions", "NIST.800.53.R5", "HIPAA.Security", "PCI.DSS.321"}


def test_all_four_packs_ran_and_found_nothing(assembly: Assembly) -> None:
    report = json.loads((assembly.directory / "validation-report.json").read_text())
    plugins = {plugin["pluginName"]: plugin for plugin in report["pluginReports"]}
    assert set(plugins) >= PACKS
    for name in PACKS:
        assert plugins[name]["conclusion"] == "success", plugins[name]["violations"]
    assert findings(assembly.directory) == []


def test_gate_reports_an_unacknowledged_finding(tmp_path) -> None:
    """The same gate, on an app with one plain bucket, names rule and construct."""
    context = json.loads((ROOT / "cdk.json").read_text())["context"]
    # As under the CDK CLI: synth itself does not fail, the app reads the report.
    context["@aws-cdk/core:failSynthOnValidationErrors"] = False
    app = App(context=context, outdir=str(tmp_path))
    s3.Bucket(Stack(app, "probe"), "Plain")
    attach_compliance_packs(app)
    problems = findings(app.synth().directory)
    assert any(line.startswith("AwsSolutions-S1 at probe/Plain/Resource") for line in problems)
    assert any("NIST.800.53.R5-S3BucketReplicationEnabled" in line for line in problems)


def test_every_acknowledgment_and_skip_carries_a_real_reason() -> None:
    entries = [
        value
        for value in vars(acknowledgments).values()
        if isinstance(value, acknowledgments.Finding | acknowledgments.CheckovSkip)
    ]
    assert entries
    for entry in entries:
        assert len(entry.reason.split()) >= 15, entry


def test_acknowledgments_are_scoped_to_resources_not_stacks(assembly: Assembly) -> None:
    """Acknowledgments recorded in the tree sit on resources, never on a stack or stage."""
    tree = json.loads((assembly.directory / "tree.json").read_text())
    scoped: list[str] = []

    def walk(node: dict) -> None:
        metadata = json.dumps(node.get("attributes", {})) + json.dumps(node.get("metadata", []))
        if "acknowledg" in metadata.lower():
            scoped.append(node["path"])
        for child in node.get("children", {}).values():
            walk(child)

    walk(tree["tree"])
    for path in scoped:
        assert path.count("/") >= 2, f"acknowledgment on a whole stack or stage: {path}"


def test_cfn_lint_finds_no_error_or_warning(assembly: Assembly) -> None:
    result = cfn_lint(assembly.template_paths().values())
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture(scope="module")
def checkov_report(assembly: Assembly) -> dict:
    return checkov(assembly.directory)


def test_checkov_finds_no_failed_check(checkov_report: dict) -> None:
    assert failed_checks(checkov_report) == []
    assert checkov_report["summary"]["passed"] > 100


def test_checkov_scans_every_models_stacks(assembly: Assembly, checkov_report: dict) -> None:
    """A stack per model: each of them is scanned, not just the environment's shared ones."""
    scanned = {
        check["file_path"].rsplit("/", 1)[-1]
        for check in checkov_report["results"]["passed_checks"]
    }
    templates = {path.name for path in assembly.template_paths().values()}
    assert templates <= scanned
    assert len(templates) == 3 * (3 + 3), "three environments: data, network, studio, 3 models"


def test_every_checkov_skip_is_justified(checkov_report: dict) -> None:
    skipped = checkov_report["results"]["skipped_checks"]
    assert len(skipped) == checkov_report["summary"]["skipped"]
    assert unjustified_skips(checkov_report) == []
