"""The delivery stack: stages, gates, approval, smoke test, keys, self-update, compliance."""

from __future__ import annotations

import json

from aws_cdk.assertions import Match, Template

from ground.config import load_environment
from ground.config.delivery import load_delivery
from sagestack.assembly import CloudAssembly
from stacks.delivery import CDK_CLI_VERSION, SMOKE_TEST_ROLE, smoke_tested
from tests.delivery.conftest import build_spec_of
from tests.synth import Assembly

ENVIRONMENTS = ["dev", "staging", "prod"]


def kinds(actions: list[dict]) -> list[tuple[str, str]]:
    return [(a["ActionTypeId"]["Category"], a["ActionTypeId"]["Provider"]) for a in actions]


def test_stages_run_source_synth_self_update_assets_then_each_environment(stages) -> None:
    assert list(stages) == ["Source", "Build", "UpdatePipeline", "Assets", *ENVIRONMENTS]
    assert kinds(stages["UpdatePipeline"]) == [("Build", "CodeBuild")]
    for environment in ENVIRONMENTS:
        names = [action["Name"] for action in stages[environment]]
        assert f"sagestack-{environment}-data.Deploy" in names


def test_source_is_the_configured_repository_connection(stages, delivery_config_dir) -> None:
    delivery = load_delivery(delivery_config_dir)
    [source] = stages["Source"]
    assert kinds([source]) == [("Source", "CodeStarSourceConnection")]
    assert source["Configuration"] == {
        "ConnectionArn": delivery.connection_arn,
        "FullRepositoryId": delivery.repository,
        "BranchName": delivery.branch,
    }


def test_synth_step_runs_the_tests_and_gates_then_synthesizes_the_pipeline(
    stages, pipeline_template
) -> None:
    [synth] = stages["Build"]
    spec = build_spec_of(pipeline_template, synth)
    assert spec.index("make test") < spec.index("cdk synth --quiet -c delivery=true")
    assert '\\"python\\": \\"3.11\\"' in spec


def test_prod_waits_for_a_manual_approval_and_nothing_else_does(stages) -> None:
    approvals = {
        name: [a for a in actions if a["ActionTypeId"]["Category"] == "Approval"]
        for name, actions in stages.items()
    }
    assert {name: len(found) for name, found in approvals.items() if found} == {"prod": 1}
    [approval] = approvals["prod"]
    assert approval["ActionTypeId"]["Provider"] == "Manual"
    deploys = [a["RunOrder"] for a in stages["prod"] if a["ActionTypeId"]["Category"] == "Deploy"]
    assert approval["RunOrder"] < min(deploys)


def test_staging_is_smoke_tested_after_its_deployment(stages, pipeline_template) -> None:
    [smoke] = [a for a in stages["staging"] if a["Name"] == "SmokeTest-staging"]
    deploys = [
        a["RunOrder"] for a in stages["staging"] if a["ActionTypeId"]["Category"] == "Deploy"
    ]
    assert smoke["RunOrder"] > max(deploys)
    spec = build_spec_of(pipeline_template, smoke)
    assert "sagemaker wait endpoint-in-service --endpoint-name sagestack-staging-endpoint" in spec
    assert "sagemaker-runtime invoke-endpoint --endpoint-name sagestack-staging-endpoint" in spec
    assert ":iam::210987654321:role/sagestack-staging-smoke-test" in spec
    assert not any(a["Name"].startswith("SmokeTest") for a in stages["dev"] + stages["prod"])


def test_smoke_test_role_in_staging_may_only_invoke_its_endpoint(delivery_assembly) -> None:
    access = Template.from_json(delivery_assembly.stacks["delivery/staging/smoke-test"].template())
    access.has_resource_properties(
        "AWS::IAM::Role",
        {
            "RoleName": "sagestack-staging-smoke-test",
            "AssumeRolePolicyDocument": {
                "Statement": [
                    Match.object_like(
                        {"Principal": {"AWS": f"arn:aws:iam::111122223333:role/{SMOKE_TEST_ROLE}"}}
                    )
                ],
                "Version": "2012-10-17",
            },
        },
    )
    [policy] = access.find_resources("AWS::IAM::ManagedPolicy").values()
    [statement] = policy["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Action"] == ["sagemaker:DescribeEndpoint", "sagemaker:InvokeEndpoint"]
    assert "endpoint/sagestack-staging-endpoint" in json.dumps(statement["Resource"])


def test_artifacts_use_a_rotating_cross_account_key(pipeline, pipeline_template) -> None:
    pipeline.has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": True})
    [key_id] = pipeline.find_resources("AWS::KMS::Key")
    pipeline.has_resource_properties(
        "AWS::CodePipeline::Pipeline",
        {
            "ArtifactStore": Match.object_like(
                {"EncryptionKey": {"Id": {"Fn::GetAtt": [key_id, "Arn"]}, "Type": "KMS"}}
            )
        },
    )
    key_policy = json.dumps(pipeline_template["Resources"][key_id]["Properties"]["KeyPolicy"])
    for account in ("123456789012", "210987654321", "345678901234"):
        assert f"cdk-hnb659fds-deploy-role-{account}-eu-west-1" in key_policy


def test_pipeline_updates_itself_with_the_pinned_cli(stages, pipeline_template) -> None:
    [mutate] = stages["UpdatePipeline"]
    spec = build_spec_of(pipeline_template, mutate)
    assert f"npm install -g aws-cdk@{CDK_CLI_VERSION}" in spec
    assert "cdk -a . deploy delivery --require-approval=never" in spec


def test_artifact_bucket_is_versioned_and_logged(pipeline) -> None:
    pipeline.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "VersioningConfiguration": {"Status": "Enabled"},
            "LoggingConfiguration": Match.object_like({"LogFilePrefix": "pipeline-artifacts/"}),
        },
    )


def test_the_compliance_gates_pass_with_the_pipeline(delivery_assembly) -> None:
    report = json.loads((delivery_assembly.directory / "validation-report.json").read_text())
    assert {plugin["pluginName"] for plugin in report["pluginReports"]} >= {
        "AwsSolutions",
        "NIST.800.53.R5",
        "HIPAA.Security",
        "PCI.DSS.321",
    }
    for plugin in report["pluginReports"]:
        assert plugin["violations"] == [], plugin["pluginName"]


def test_the_normal_synth_has_no_pipeline(assembly: Assembly) -> None:
    stacks = CloudAssembly(assembly.directory).stacks
    assert "delivery" not in stacks
    assert {stack.split("/")[0] for stack in stacks} == set(ENVIRONMENTS)


def test_an_environment_without_a_model_is_not_smoke_tested(delivery_config_dir) -> None:
    delivery = load_delivery(delivery_config_dir)
    assert smoke_tested(load_environment(delivery_config_dir / "staging.yaml"), delivery)
    assert not smoke_tested(load_environment(delivery_config_dir / "prod.yaml"), delivery)
