"""The delivery stack: stages, gates, approval, smoke test, keys, self-update, compliance."""

from __future__ import annotations

import json

import pytest
from aws_cdk.assertions import Match, Template

from ground.config import load_environment, load_environments
from ground.config.delivery import load_delivery
from sagestack.assembly import CloudAssembly
from stacks.delivery import CDK_CLI_VERSION, SMOKE_TEST_ROLE, smoke_tested
from tests.delivery.conftest import MODELS, SMOKE_TESTED, build_spec_of
from tests.synth import Assembly

ENVIRONMENTS = ["dev", "staging", "prod"]
STAGING_ACCOUNT = "210987654321"


def endpoint(model: str) -> str:
    return f"sagestack-staging-{model}-m5-large"


def kinds(actions: list[dict]) -> list[tuple[str, str]]:
    return [(a["ActionTypeId"]["Category"], a["ActionTypeId"]["Provider"]) for a in actions]


def test_stages_run_source_synth_self_update_assets_then_each_environment(stages) -> None:
    assert list(stages) == ["Source", "Build", "UpdatePipeline", "Assets", *ENVIRONMENTS]
    assert kinds(stages["UpdatePipeline"]) == [("Build", "CodeBuild")]


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_each_environment_deploys_its_shared_stacks_then_every_models_stacks(
    stages, environment: str
) -> None:
    """staging pins every model here: serving and monitoring stacks for each, after training."""
    deploys = {
        action["Name"].removesuffix(".Deploy"): action["RunOrder"]
        for action in stages[environment]
        if action["Name"].endswith(".Deploy")
    }
    prefix = f"sagestack-{environment}"
    kinds_per_model = (
        ("training", "serving", "monitoring") if environment == "staging" else ("training",)
    )
    expected = {f"{prefix}-data", f"{prefix}-network", f"{prefix}-studio"}
    expected |= {f"{prefix}-{model}-{kind}" for model in MODELS for kind in kinds_per_model}
    if environment == "staging":
        expected.add(f"{prefix}-smoke-test")
    assert set(deploys) == expected
    for model in MODELS:
        assert deploys[f"{prefix}-network"] < deploys[f"{prefix}-{model}-training"]
        if environment == "staging":
            assert deploys[f"{prefix}-{model}-serving"] < deploys[f"{prefix}-{model}-monitoring"]


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


def test_each_pinned_model_with_a_request_is_smoke_tested_after_the_deployment(
    stages, pipeline_template, delivery_config_dir
) -> None:
    """cancer and wine are pinned and have requests; diabetes is pinned but has none."""
    smoke = {a["Name"]: a for a in stages["staging"] if a["Name"].startswith("SmokeTest")}
    assert set(smoke) == {f"SmokeTest-staging-{model}" for model in SMOKE_TESTED}
    deploys = [
        a["RunOrder"] for a in stages["staging"] if a["ActionTypeId"]["Category"] == "Deploy"
    ]
    requests = load_delivery(delivery_config_dir).smoke_test.requests
    resources = pipeline_template["Resources"]
    for model in SMOKE_TESTED:
        action = smoke[f"SmokeTest-staging-{model}"]
        assert action["RunOrder"] > max(deploys)
        spec = build_spec_of(pipeline_template, action)
        assert f"sagemaker wait endpoint-in-service --endpoint-name {endpoint(model)}" in spec
        assert (
            f"sagemaker-runtime invoke-endpoint --endpoint-name {endpoint(model)} "
            f"--content-type {requests[model].content_type} " in spec
        )
        assert f":iam::{STAGING_ACCOUNT}:role/sagestack-staging-smoke-test" in spec
        for other in MODELS:
            assert other == model or f"sagestack-staging-{other}-" not in spec
        project = resources[action["Configuration"]["ProjectName"]["Ref"]]["Properties"]
        variables = {v["Name"]: v["Value"] for v in project["Environment"]["EnvironmentVariables"]}
        assert variables == {"SMOKE_TEST_BODY": requests[model].body}
    assert not any(a["Name"].startswith("SmokeTest") for a in stages["dev"] + stages["prod"])


def test_smoke_test_role_in_staging_may_only_invoke_the_tested_endpoints(
    delivery_assembly,
) -> None:
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
    assert statement["Resource"] == [
        f"arn:aws:sagemaker:eu-west-1:{STAGING_ACCOUNT}:endpoint/{endpoint(model)}"
        for model in SMOKE_TESTED
    ]


def test_the_pipelines_smoke_role_may_only_assume_staging_smoke_test_role(
    pipeline_template,
) -> None:
    resources = pipeline_template["Resources"]
    (role_id,) = [
        key
        for key, value in resources.items()
        if value["Type"] == "AWS::IAM::Role"
        and value["Properties"].get("RoleName") == SMOKE_TEST_ROLE
    ]
    assumed = [
        statement
        for value in resources.values()
        if value["Type"] == "AWS::IAM::Policy" and {"Ref": role_id} in value["Properties"]["Roles"]
        for statement in value["Properties"]["PolicyDocument"]["Statement"]
        if "sts:AssumeRole" in json.dumps(statement["Action"])
    ]
    assert [s["Resource"] for s in assumed] == [
        f"arn:aws:iam::{STAGING_ACCOUNT}:role/sagestack-staging-smoke-test"
    ]


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


def test_smoke_tested_models_are_those_pinned_with_a_request(delivery_config_dir) -> None:
    delivery = load_delivery(delivery_config_dir)
    staging = load_environment("staging", delivery_config_dir)
    assert [d.name for d in smoke_tested(staging, delivery)] == sorted(SMOKE_TESTED)
    assert all(d.serving.model is not None for d in staging.models), "diabetes is pinned too"
    # An environment not listed for smoke tests, or whose models are unpinned, has none.
    everywhere = delivery.model_copy(
        update={"smoke_test": delivery.smoke_test.model_copy(update={"environments": ENVIRONMENTS})}
    )
    for environment in load_environments([], delivery_config_dir):
        tested = [d.name for d in smoke_tested(environment, everywhere)]
        assert tested == (sorted(SMOKE_TESTED) if environment.name == "staging" else [])
        if environment.name != "staging":
            assert not smoke_tested(environment, delivery)
