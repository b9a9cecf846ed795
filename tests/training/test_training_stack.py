"""Every model's training stack in every environment: its pipelines, registry group, roles,
triggers and failure alerts, in the synthesized templates."""

from __future__ import annotations

import json
import shutil

import pytest
import yaml
from aws_cdk.assertions import Match, Template

from ground.config import load_environment
from ground.config.loader import CONFIG_DIR
from tests.training.conftest import ENVIRONMENTS, EVERY, EVERY_IDS, MODELS

ACCOUNTS = {"dev": "123456789012", "staging": "210987654321", "prod": "345678901234"}
ALERTED = {
    "SageMaker Model Building Pipeline Execution Status Change",
    "SageMaker Training Job State Change",
    "SageMaker Processing Job State Change",
}


def _resources(template: Template, kind: str) -> dict:
    return template.find_resources(kind)


def _listed(value: str | list) -> list:
    return value if isinstance(value, list) else [value]


def _statements(template: Template, policy_name: str | None = None) -> list[dict]:
    return [
        statement
        for policy in _resources(template, "AWS::IAM::ManagedPolicy").values()
        if policy_name in (None, policy["Properties"]["ManagedPolicyName"])
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def _training(templates, env: str, model: str) -> Template:
    return templates[(env, f"{model}-training")]


def _pipeline_arn(env: str, name: str) -> str:
    return f"arn:aws:sagemaker:eu-west-1:{ACCOUNTS[env]}:pipeline/{name}"


def test_every_environment_has_a_training_stack_per_model_and_nothing_unpinned(
    templates,
) -> None:
    for env in ENVIRONMENTS:
        names = {name for e, name in templates if e == env}
        shared = {"data", "network", "studio"}
        assert names == {*shared, *(f"{model}-training" for model in MODELS)}, env


@pytest.mark.parametrize(("env", "model"), EVERY, ids=EVERY_IDS)
def test_pipelines_and_group_are_named_from_the_models_prefix(templates, env, model) -> None:
    template = _training(templates, env, model)
    prefix = f"sagestack-{env}-{model}"
    pipelines = _resources(template, "AWS::SageMaker::Pipeline")
    assert sorted(p["Properties"]["PipelineName"] for p in pipelines.values()) == [
        f"{prefix}-training",
        f"{prefix}-tuning",
    ]
    for pipeline in pipelines.values():
        role_id = pipeline["Properties"]["RoleArn"]["Fn::GetAtt"][0]
        role = template.to_json()["Resources"][role_id]["Properties"]
        assert role["RoleName"] == f"{prefix}-training-pipeline"
        assert "PipelineDefinitionBody" in pipeline["Properties"]["PipelineDefinition"]
    (group,) = _resources(template, "AWS::SageMaker::ModelPackageGroup").values()
    assert group["Properties"]["ModelPackageGroupName"] == prefix
    description = group["Properties"]["ModelPackageGroupDescription"]
    assert description.startswith(f"{model} (") and len(description) <= 1024


@pytest.mark.parametrize(("env", "model"), EVERY, ids=EVERY_IDS)
def test_roles_are_the_models_platform_roles_without_wildcard_actions(
    templates, env: str, model: str
) -> None:
    template = _training(templates, env, model)
    prefix = f"sagestack-{env}-{model}"
    names = {
        role["Properties"]["RoleName"] for role in _resources(template, "AWS::IAM::Role").values()
    }
    expected = {f"{prefix}-training-{kind}" for kind in ("processing", "job", "pipeline", "alerts")}
    if env == "prod":
        expected.add(f"{prefix}-training-trigger")
    if env != "dev":  # new data and drift retrain through the guard there
        expected.add(f"{prefix}-retrain")
    assert names == expected
    for role in _resources(template, "AWS::IAM::Role").values():
        assert "ManagedPolicyArns" not in role["Properties"], "no AWS managed policy"
        assert "Policies" not in role["Properties"], "no inline policy"
    assert not _resources(template, "AWS::IAM::Policy")
    for statement in _statements(template):
        actions = _listed(statement["Action"])
        assert not [a for a in actions if a == "*" or a.endswith(":*")], statement
    assert "AmazonSageMakerFullAccess" not in json.dumps(template.to_json())


@pytest.mark.parametrize(("env", "model"), EVERY, ids=EVERY_IDS)
def test_pipeline_role_may_only_start_isolated_encrypted_jobs_and_register_into_its_group(
    templates, env, model
) -> None:
    template = _training(templates, env, model)
    prefix = f"sagestack-{env}-{model}"
    statements = _statements(template, f"{prefix}-training-pipeline")
    start = next(s for s in statements if s.get("Sid") == "StartIsolatedEncryptedJobsInPlatformVpc")
    assert sorted(start["Action"]) == [
        "sagemaker:CreateHyperParameterTuningJob",
        "sagemaker:CreateProcessingJob",
        "sagemaker:CreateTrainingJob",
    ]
    conditions = start["Condition"]
    assert conditions["Bool"] == {
        "sagemaker:NetworkIsolation": "true",
        "sagemaker:InterContainerTrafficEncryption": "true",
    }
    assert set(conditions["ArnEquals"]) == {"sagemaker:VolumeKmsKey", "sagemaker:OutputKmsKey"}
    assert set(conditions["ForAllValues:StringEquals"]) == {
        "sagemaker:VpcSubnets",
        "sagemaker:VpcSecurityGroupIds",
    }
    assert conditions["Null"] == {
        "sagemaker:VpcSubnets": "false",
        "sagemaker:VpcSecurityGroupIds": "false",
    }
    passing = next(s for s in statements if s.get("Sid") == "PassJobRoles")
    assert passing["Condition"] == {
        "StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}
    }
    resources = template.to_json()["Resources"]
    passed = {resources[r["Fn::GetAtt"][0]]["Properties"]["RoleName"] for r in passing["Resource"]}
    assert passed == {f"{prefix}-training-processing", f"{prefix}-training-job"}
    register = next(s for s in statements if s.get("Sid") == "RegisterModels")
    arn = f"arn:aws:sagemaker:eu-west-1:{ACCOUNTS[env]}"
    assert register["Resource"] == [
        f"{arn}:model-package-group/{prefix}",
        f"{arn}:model-package/{prefix}/*",
    ]


@pytest.mark.parametrize(("env", "model"), EVERY, ids=EVERY_IDS)
def test_job_roles_reach_only_their_models_prefixes_and_the_code_asset(
    templates, env, model
) -> None:
    template = _training(templates, env, model)
    prefix = f"sagestack-{env}-{model}"
    account = ACCOUNTS[env]
    raw = f"arn:aws:s3:::sagestack-{env}-raw-data-{account}-eu-west-1"
    artifacts = f"arn:aws:s3:::sagestack-{env}-ml-artifacts-{account}-eu-west-1"
    runs = [f"{prefix}-training", f"{prefix}-tuning"]

    def objects(role: str) -> dict[str, list[str]]:
        return {
            resource: _listed(statement["Action"])
            for statement in _statements(template, f"{prefix}-training-{role}")
            if "s3:GetObject" in _listed(statement["Action"])
            for resource in _listed(statement["Resource"])
        }

    read, write = ["s3:GetObject"], ["s3:AbortMultipartUpload", "s3:GetObject", "s3:PutObject"]
    processing = objects("processing")
    code = [r for r in processing if r.startswith(f"arn:aws:s3:::cdk-hnb659fds-assets-{account}")]
    assert len(code) == 1 and code[0].endswith(".gz")
    assert processing == {
        f"{raw}/raw/{model}/*": read,
        **{f"{artifacts}/pipelines/{run}/*": write for run in runs},
        **{f"{artifacts}/models/{run}/*": write for run in runs},
        code[0]: read,
    }
    assert objects("job") == {
        **{f"{artifacts}/pipelines/{run}/*": read for run in runs},
        **{f"{artifacts}/models/{run}/*": write for run in runs},
        **{f"{artifacts}/checkpoints/{run}/*": write for run in runs},
        code[0]: read,
    }
    assert objects("pipeline") == {f"{artifacts}/models/{run}/*": read for run in runs}


@pytest.mark.parametrize("model", MODELS)
def test_group_policy_lets_promotion_targets_read_and_deploy_the_models_packages(
    templates, model
) -> None:
    for env, consumers in (
        ("dev", ["210987654321", "345678901234"]),
        ("staging", [ACCOUNTS["prod"]]),
    ):
        config = load_environment(env).config
        assert config.consumer_accounts == consumers
        (group,) = _resources(
            _training(templates, env, model), "AWS::SageMaker::ModelPackageGroup"
        ).values()
        policy = group["Properties"]["ModelPackageGroupPolicy"]
        principals = json.dumps([s["Principal"]["AWS"] for s in policy["Statement"]])
        assert all(account in principals for account in consumers)
        actions = sorted(a for s in policy["Statement"] for a in _listed(s["Action"]))
        assert actions == [
            "sagemaker:CreateModel",
            "sagemaker:DescribeModelPackage",
            "sagemaker:DescribeModelPackageGroup",
            "sagemaker:ListModelPackages",
        ]
        resources = json.dumps([s["Resource"] for s in policy["Statement"]])
        assert f"model-package-group/sagestack-{env}-{model}" in resources
        assert f"model-package/sagestack-{env}-{model}/*" in resources
    (prod,) = _resources(
        _training(templates, "prod", model), "AWS::SageMaker::ModelPackageGroup"
    ).values()
    assert "ModelPackageGroupPolicy" not in prod["Properties"], "prod promotes to nobody"


@pytest.mark.parametrize("model", MODELS)
def test_triggers_follow_config(templates, deployments, model) -> None:
    prod = _training(templates, "prod", model)
    schedule = deployments[("prod", model)].training.triggers.schedule
    assert schedule and not deployments[("prod", model)].training.tuning.enabled
    prod.has_resource_properties(
        "AWS::Events::Rule",
        {
            "ScheduleExpression": schedule,
            "Targets": [
                Match.object_like(
                    {
                        "Arn": _pipeline_arn("prod", f"sagestack-prod-{model}-training"),
                        "RoleArn": {"Fn::GetAtt": [Match.string_like_regexp("TriggerRole"), "Arn"]},
                    }
                )
            ],
        },
    )
    trigger = _statements(prod, f"sagestack-prod-{model}-training-trigger")
    assert trigger == [
        {
            "Action": "sagemaker:StartPipelineExecution",
            "Effect": "Allow",
            "Resource": _pipeline_arn("prod", f"sagestack-prod-{model}-training"),
        }
    ]
    for env in ("dev", "staging"):
        template = _training(templates, env, model)
        rules = _resources(template, "AWS::Events::Rule")
        assert not [r for r in rules.values() if "ScheduleExpression" in r["Properties"]]
        assert f"sagestack-{env}-{model}-training-trigger" not in json.dumps(template.to_json())


@pytest.mark.parametrize(("env", "model"), EVERY, ids=EVERY_IDS)
def test_the_models_pipeline_and_job_failures_alert_the_topic(templates, env, model) -> None:
    template = _training(templates, env, model)
    resources = template.to_json()["Resources"]
    rules = _resources(template, "AWS::Events::Rule").values()
    patterns = {
        r["Properties"]["EventPattern"]["detail-type"][0]: r
        for r in rules
        if "AlertsTopic" in json.dumps(r["Properties"].get("Targets", []))
    }
    assert set(patterns) == ALERTED
    prefix = f"sagestack-{env}-{model}"
    execution = patterns["SageMaker Model Building Pipeline Execution Status Change"]
    detail = execution["Properties"]["EventPattern"]["detail"]
    assert "Failed" in detail["currentPipelineExecutionStatus"]
    assert detail["pipelineArn"] == [
        _pipeline_arn(env, f"{prefix}-training"),
        _pipeline_arn(env, f"{prefix}-tuning"),
    ]
    for kind, role in (("Training", "job"), ("Processing", "processing")):
        detail = patterns[f"SageMaker {kind} Job State Change"]["Properties"]["EventPattern"]
        (role_arn,) = detail["detail"]["RoleArn"]
        role_id = role_arn["Fn::GetAtt"][0]
        assert resources[role_id]["Properties"]["RoleName"] == f"{prefix}-training-{role}"
        assert detail["detail"][f"{kind}JobStatus"] == ["Failed"]
    for rule in patterns.values():
        (target,) = rule["Properties"]["Targets"]
        assert "AlertsTopic" in json.dumps(target["Arn"])
        role_id = target["RoleArn"]["Fn::GetAtt"][0]
        assert resources[role_id]["Properties"]["RoleName"] == f"{prefix}-training-alerts"


# --- Triggers that start the tuning pipeline, in-process ------------------------------------


@pytest.fixture(scope="module")
def triggered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    """staging (tuning enabled; new data retrains every model through the guard) with a
    schedule for cancer only, synthesized in-process: its model stacks' templates by name."""
    from stacks.stage import SageStackStage
    from tests.inprocess import app

    config_dir = tmp_path_factory.mktemp("triggered") / "config"
    shutil.copytree(CONFIG_DIR, config_dir)
    path = config_dir / "models" / "cancer.yaml"
    data = yaml.safe_load(path.read_text())
    data["environments"]["staging"]["training"] = {
        "triggers": {"schedule": "cron(0 5 ? * SUN *)", "on_new_data": True}
    }
    path.write_text(yaml.safe_dump(data))
    environment = load_environment("staging", config_dir)
    assert environment.model("cancer").training.tuning.enabled
    application = app(str(tmp_path_factory.mktemp("triggered-out")))
    SageStackStage(application, environment)
    stage = application.synth().get_nested_assembly("assembly-staging")
    return {stack.stack_name: stack.template for stack in stage.stacks}


def _rules(template: dict) -> dict[str, dict]:
    return {
        logical_id: resource["Properties"]
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Events::Rule"
    }


def _policy(template: dict, name: str) -> list[tuple]:
    return [
        (statement["Action"], statement["Resource"])
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::IAM::ManagedPolicy"
        and resource["Properties"]["ManagedPolicyName"] == name
        for statement in resource["Properties"]["PolicyDocument"]["Statement"]
    ]


def test_triggers_start_the_tuning_pipeline_when_tuning_is_enabled(triggered) -> None:
    template = triggered["sagestack-staging-cancer-training"]
    tuning = _pipeline_arn("staging", "sagestack-staging-cancer-tuning")
    rules = _rules(template)
    (schedule,) = [r for r in rules.values() if "ScheduleExpression" in r]
    assert schedule["ScheduleExpression"] == "cron(0 5 ? * SUN *)"
    assert schedule["Targets"][0]["Arn"] == tuning
    assert _policy(template, "sagestack-staging-cancer-training-trigger") == [
        ("sagemaker:StartPipelineExecution", tuning)
    ]
    (retrain,) = [r for r in rules.values() if r.get("Name") == "sagestack-staging-cancer-retrain"]
    (target,) = retrain["Targets"]
    assert target["Arn"] == tuning
    assert target["SageMakerPipelineParameters"] == {
        "PipelineParameterList": [
            {
                "Name": "InputDataUrl",
                "Value": "s3://sagestack-staging-raw-data-210987654321-eu-west-1/raw/cancer/",
            }
        ]
    }
    assert _policy(template, "sagestack-staging-cancer-retrain") == [
        ("sagemaker:StartPipelineExecution", tuning)
    ]


def test_new_data_is_a_signal_that_retrains_through_the_guard(triggered) -> None:
    """The new-data rule has no target: the guard alarm counts its matches, and only the
    alarm's change into ALARM starts the pipeline, at most max_runs per window."""
    template = triggered["sagestack-staging-cancer-training"]
    rules = _rules(template)
    new_data = rules[
        next(k for k, r in rules.items() if r.get("Name") == "sagestack-staging-cancer-new-data")
    ]
    assert "Targets" not in new_data
    assert new_data["EventPattern"] == {
        "source": ["aws.s3"],
        "detail-type": ["Object Created"],
        "detail": {
            "bucket": {"name": ["sagestack-staging-raw-data-210987654321-eu-west-1"]},
            "object": {"key": [{"prefix": "raw/cancer/"}]},
        },
    }
    (alarm,) = [
        r["Properties"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::CloudWatch::Alarm"
    ]
    assert alarm["AlarmName"] == "sagestack-staging-cancer-retrain-guard"
    assert alarm["EvaluationPeriods"] == 1 and alarm["Threshold"] == 0
    assert alarm["TreatMissingData"] == "notBreaching"
    (expression, signal) = alarm["Metrics"]
    assert expression["Expression"] == "FILL(s0, 0)"
    stat = signal["MetricStat"]
    # config/staging.yaml: at most 2 runs per 24 h -> one run per 12 h period.
    assert stat["Period"] == 12 * 3600 and stat["Stat"] == "Sum"
    assert stat["Metric"]["MetricName"] == "MatchedEvents"
    assert stat["Metric"]["Dimensions"] == [
        {"Name": "RuleName", "Value": "sagestack-staging-cancer-new-data"}
    ]
    retrain = next(r for r in rules.values() if r.get("Name") == "sagestack-staging-cancer-retrain")
    pattern = retrain["EventPattern"]
    assert pattern["detail-type"] == ["CloudWatch Alarm State Change"]
    assert pattern["detail"] == {"state": {"value": ["ALARM"]}}
    assert "RetrainGuardAlarm" in json.dumps(pattern["resources"])


def test_a_models_triggers_leave_the_other_models_alone(triggered) -> None:
    for model in ("wine", "diabetes"):
        template = triggered[f"sagestack-staging-{model}-training"]
        text = json.dumps(template)
        assert "ScheduleExpression" not in text
        assert f"sagestack-staging-{model}-training-trigger" not in text
        assert "raw/cancer/" not in text and "sagestack-staging-cancer" not in text
        names = {r.get("Name") for r in _rules(template).values()}
        prefix = f"sagestack-staging-{model}"
        assert {f"{prefix}-new-data", f"{prefix}-retrain"} <= names
