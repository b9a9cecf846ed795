"""The studio stack on every environment's template: the domain and its guardrails, the user
profiles and their roles, and persona isolation checked statement by statement.

What each role may do is worked out here from the config and ground/ (names and layout), never
read from the templates, and every (action, resource) pair of every Allow statement of every
Studio role is held against it. Planted breaches prove the check catches what it must.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from typing import Any

import pytest

from ground.config import Environment, ModelDeployment, load_environments
from ground.config.studio import DEFAULT_ROLE, UserProfileConfig, granted_models
from ground.contract.templates import StackResources, assembly_findings
from ground.layout import (
    ARTIFACTS,
    MODELS_PREFIX,
    PIPELINE_PREFIX,
    RAW_DATA,
    bucket_name,
    raw_data_prefix,
)
from ground.naming import TRAINING, TUNING, endpoint_name_parameter, pipeline_name

LOADED = {environment.name: environment for environment in load_environments()}
ENVIRONMENTS = list(LOADED)
PROFILES = [(env, p.name) for env, e in LOADED.items() for p in e.config.studio.user_profiles]
DOMAIN = "<domain>"
DATA_KEY = "<data-key>"
LISTS = {"sagemaker:ListApps", "sagemaker:ListSpaces", "sagemaker:ListModelPackages"}
APP_TYPES = {"jupyterlab": "jupyterlab", "code-editor": "codeeditor", "canvas": "canvas"}
NEVER_ALLOWED = re.compile(r"^sagemaker:(Create|Update|Delete)(Endpoint|EndpointConfig|Model)$")


def render(value: Any, domain_id: str, env: str) -> str:
    """A policy resource as text: the domain id and the data key as placeholders."""
    if isinstance(value, str):
        return value
    if "Fn::Join" in value:
        return "".join(render(part, domain_id, env) for part in value["Fn::Join"][1])
    if value.get("Fn::GetAtt") == [domain_id, "DomainId"]:
        return DOMAIN
    output = value.get("Fn::GetStackOutput", {})
    if output.get("StackName") == f"sagestack-{env}-data" and re.fullmatch(
        r"PublishOutputFnGetAttDataKey\w+Arn\w+", output.get("OutputName", "")
    ):
        return DATA_KEY
    return json.dumps(value, sort_keys=True)


@dataclass(frozen=True)
class Arns:
    region: str
    account: str

    def sagemaker(self, resource: str) -> str:
        return f"arn:aws:sagemaker:{self.region}:{self.account}:{resource}"


def domain_pairs(environment: Environment) -> set[tuple[str, str]]:
    """What every Studio role of the environment may do in its domain."""
    config = environment.config
    arns = Arns(config.region, config.account)
    spaces, apps = arns.sagemaker(f"space/{DOMAIN}/*"), arns.sagemaker(f"app/{DOMAIN}/*")
    pairs = {
        ("sagemaker:DescribeDomain", arns.sagemaker(f"domain/{DOMAIN}")),
        ("sagemaker:DescribeUserProfile", arns.sagemaker(f"user-profile/{DOMAIN}/*")),
        ("kms:CreateGrant", DATA_KEY),
        *((action, "*") for action in LISTS),
        *(
            (f"sagemaker:{verb}", spaces)
            for verb in ("CreateSpace", "UpdateSpace", "DeleteSpace", "DescribeSpace", "AddTags")
        ),
        *((f"sagemaker:{verb}", apps) for verb in ("DeleteApp", "DescribeApp", "AddTags")),
    }
    for app in config.studio.apps:
        pairs.add(("sagemaker:CreateApp", arns.sagemaker(f"app/{DOMAIN}/*/{APP_TYPES[app]}/*")))
    return pairs


def pipelines_of(deployment: ModelDeployment) -> list[str]:
    kinds = [TRAINING, *([TUNING] if deployment.model.tuning_ranges else [])]
    return [pipeline_name(deployment.prefix, kind) for kind in kinds]


def model_pairs(deployment: ModelDeployment, persona: str) -> set[tuple[str, str]]:
    """What a persona may do with one model it is granted."""
    config = deployment.environment
    arns = Arns(config.region, config.account)
    raw = bucket_name(config.prefix, RAW_DATA, config.account, config.region)
    artifacts = bucket_name(config.prefix, ARTIFACTS, config.account, config.region)
    objects = [f"arn:aws:s3:::{raw}/{raw_data_prefix(deployment.name)}*"]
    pairs = {("kms:Decrypt", DATA_KEY), ("kms:DescribeKey", DATA_KEY)}
    pairs |= {("s3:ListBucket", f"arn:aws:s3:::{bucket}") for bucket in (raw, artifacts)}
    group = deployment.registry_group
    versions = arns.sagemaker(f"model-package/{group}/*")
    for name in pipelines_of(deployment):
        objects += [
            f"arn:aws:s3:::{artifacts}/{top}{name}/*" for top in (MODELS_PREFIX, PIPELINE_PREFIX)
        ]
        pipeline = arns.sagemaker(f"pipeline/{name}")
        pairs |= {
            (f"sagemaker:{verb}", pipeline)
            for verb in ("DescribePipeline", "StartPipelineExecution", "ListPipelineExecutions")
        }
        pairs |= {
            (f"sagemaker:{verb}", f"{pipeline}/execution/*")
            for verb in (
                "DescribePipelineExecution",
                "ListPipelineExecutionSteps",
                "ListPipelineParametersForExecution",
                "DescribePipelineDefinitionForExecution",
                "StopPipelineExecution",
            )
        }
    pairs |= {("s3:GetObject", pattern) for pattern in objects}
    endpoint = arns.sagemaker(f"endpoint/{deployment.endpoint_name}")
    parameter = endpoint_name_parameter(deployment.prefix)
    pairs |= {
        ("sagemaker:DescribeModelPackageGroup", arns.sagemaker(f"model-package-group/{group}")),
        ("sagemaker:DescribeModelPackage", versions),
        ("sagemaker:DescribeEndpoint", endpoint),
        ("sagemaker:InvokeEndpoint", endpoint),
        ("ssm:GetParameter", f"arn:aws:ssm:{config.region}:{config.account}:parameter{parameter}"),
    }
    if persona == "ml-engineer":
        alarms = f"arn:aws:cloudwatch:{config.region}:{config.account}:alarm:"
        alarms += f"{deployment.prefix}-endpoint-*"
        pairs |= {
            ("sagemaker:UpdateModelPackage", versions),
            ("cloudwatch:DescribeAlarms", alarms),
            ("cloudwatch:DescribeAlarmHistory", alarms),
        }
    return pairs


def allowed_pairs(env: str, profile: UserProfileConfig | None) -> set[tuple[str, str]]:
    environment = LOADED[env]
    pairs = domain_pairs(environment)
    if profile is not None:
        for deployment in granted_models(profile, environment.models):
            pairs |= model_pairs(deployment, profile.persona)
    return pairs


def statement_problems(
    statements: list[dict[str, Any]], allowed: set[tuple[str, str]], domain_id: str, env: str
) -> list[str]:
    """Every (action, resource) of every Allow statement outside `allowed`, and a missing deny."""
    problems = []
    for statement in statements:
        actions = (
            statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        )
        resources = (
            statement["Resource"]
            if isinstance(statement["Resource"], list)
            else [statement["Resource"]]
        )
        if statement["Effect"] == "Deny":
            continue
        for action in actions:
            if NEVER_ALLOWED.match(action):
                problems.append(f"{statement.get('Sid')}: {action} is never allowed")
            for resource in resources:
                text = render(resource, domain_id, env)
                if (action, text) not in allowed:
                    problems.append(f"{statement.get('Sid')}: {action} on {text}")
    denied = [s for s in statements if s["Effect"] == "Deny"]
    if not any("sagemaker:CreateEndpoint" in s["Action"] for s in denied):
        problems.append("no statement denies sagemaker:CreateEndpoint")
    return problems


def resources_of(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


def domain_of(template: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    ((logical_id, domain),) = resources_of(template, "AWS::SageMaker::Domain").items()
    return logical_id, domain


def role_named(template: dict[str, Any], role_name: str) -> tuple[str, list[dict[str, Any]]]:
    """The logical id of the role called `role_name` and the statements of its policy."""
    roles = resources_of(template, "AWS::IAM::Role")
    (logical_id,) = [k for k, v in roles.items() if v["Properties"]["RoleName"] == role_name]
    (policy,) = [
        p
        for p in resources_of(template, "AWS::IAM::ManagedPolicy").values()
        if p["Properties"]["Roles"] == [{"Ref": logical_id}]
    ]
    return logical_id, policy["Properties"]["PolicyDocument"]["Statement"]


@pytest.fixture(scope="module")
def studio(assembly) -> dict[str, dict[str, Any]]:
    """Every environment's studio template as plain JSON."""
    return {env: assembly.template(env, "studio") for env in ENVIRONMENTS}


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_domain_is_vpc_only_encrypted_and_jupyterlab_first(studio, env: str) -> None:
    config = LOADED[env].config
    _, domain = domain_of(studio[env])
    props = domain["Properties"]
    assert props["DomainName"] == f"{config.prefix}-studio"
    assert props["AppNetworkAccessType"] == "VpcOnly"
    assert props["AuthMode"] == config.studio.auth.upper()
    assert "DataKey" in props["KmsKeyId"]["Fn::GetStackOutput"]["OutputName"]
    assert len(props["SubnetIds"]) == config.network.max_azs
    assert all("workloads" in json.dumps(s) for s in props["SubnetIds"])
    user = props["DefaultUserSettings"]
    assert "WorkloadSecurityGroup" in json.dumps(user["SecurityGroups"])
    assert user["DefaultLandingUri"] == "studio::"
    assert user["SharingSettings"] == {"NotebookOutputOption": "Disabled"}
    hidden = set(user["StudioWebPortalSettings"]["HiddenAppTypes"])
    assert "JupyterLab" not in hidden and "JupyterServer" in hidden
    assert ("Canvas" in hidden) == ("canvas" not in config.studio.apps)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_idle_jupyterlab_apps_shut_down_on_allowed_instances(studio, env: str) -> None:
    studio_config = LOADED[env].config.studio
    _, domain = domain_of(studio[env])
    for settings in (
        domain["Properties"]["DefaultUserSettings"],
        domain["Properties"]["DefaultSpaceSettings"],
    ):
        lab = settings["JupyterLabAppSettings"]
        idle = lab["AppLifecycleManagement"]["IdleSettings"]
        assert idle["LifecycleManagement"] == "ENABLED"
        assert idle["IdleTimeoutInMinutes"] == studio_config.idle_shutdown.timeout_minutes
        assert idle["MaxIdleTimeoutInMinutes"] == studio_config.idle_shutdown.max_timeout_minutes
        assert lab["DefaultResourceSpec"]["InstanceType"] == studio_config.default_instance_type
    for role_name in [
        f"sagestack-{env}-studio-{DEFAULT_ROLE}",
        *(f"sagestack-{env}-studio-{p.name}" for p in studio_config.user_profiles),
    ]:
        _, statements = role_named(studio[env], role_name)
        (create,) = [s for s in statements if s.get("Sid") == "AllowedAppsOnAllowedInstances"]
        condition = create["Condition"]["ForAllValues:StringEquals"]["sagemaker:InstanceTypes"]
        assert condition == studio_config.allowed_instance_types


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_teardown_follows_the_environments_retention(studio, env: str) -> None:
    """Destroying environments create no home EFS (CloudFormation would leave it behind);
    retaining ones keep domain, profiles and file system."""
    config = LOADED[env].config
    _, domain = domain_of(studio[env])
    expected = "Retain" if config.retains_data else "Delete"
    assert domain["DeletionPolicy"] == expected
    creation = domain["Properties"]["HomeEfsFileSystemCreation"]
    assert creation == ("Enabled" if config.retains_data else "Disabled")
    for profile in resources_of(studio[env], "AWS::SageMaker::UserProfile").values():
        assert profile["DeletionPolicy"] == expected


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_each_profile_runs_as_its_own_role(studio, env: str) -> None:
    config = LOADED[env].config
    domain_id, _ = domain_of(studio[env])
    profiles = {
        p["Properties"]["UserProfileName"]: p["Properties"]
        for p in resources_of(studio[env], "AWS::SageMaker::UserProfile").values()
    }
    assert sorted(profiles) == sorted(p.name for p in config.studio.user_profiles)
    roles = set()
    for profile in config.studio.user_profiles:
        props = profiles[profile.name]
        assert props["DomainId"] == {"Fn::GetAtt": [domain_id, "DomainId"]}
        role_id, _ = role_named(studio[env], f"{config.prefix}-studio-{profile.name}")
        assert props["UserSettings"]["ExecutionRole"] == {"Fn::GetAtt": [role_id, "Arn"]}
        roles.add(role_id)
    assert len(roles) == len(config.studio.user_profiles)
    for role in resources_of(studio[env], "AWS::IAM::Role").values():
        trust = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        assert [s["Principal"] for s in trust] == [{"Service": "sagemaker.amazonaws.com"}]


def test_production_has_no_profiles_and_dev_covers_both_personas() -> None:
    production = [e for e in LOADED.values() if e.config.production]
    assert production and all(not e.config.studio.user_profiles for e in production)
    personas = {p.persona for p in LOADED["dev"].config.studio.user_profiles}
    assert personas == {"data-scientist", "ml-engineer"}


@pytest.mark.parametrize(("env", "profile"), PROFILES)
def test_persona_statements_stay_within_its_models(studio, env: str, profile: str) -> None:
    config = LOADED[env].config
    (settings,) = [p for p in config.studio.user_profiles if p.name == profile]
    domain_id, _ = domain_of(studio[env])
    _, statements = role_named(studio[env], f"{config.prefix}-studio-{profile}")
    allowed = allowed_pairs(env, settings)
    assert statement_problems(statements, allowed, domain_id, env) == []
    # Each granted model is reachable: the allowed scope is not vacuous.
    granted = {render(r, domain_id, env) for s in statements for r in _list(s["Resource"])}
    for deployment in granted_models(settings, LOADED[env].models):
        assert any(f"/{raw_data_prefix(deployment.name)}" in text for text in granted)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_default_role_reaches_no_data(studio, env: str) -> None:
    domain_id, _ = domain_of(studio[env])
    _, statements = role_named(studio[env], f"sagestack-{env}-studio-{DEFAULT_ROLE}")
    assert statement_problems(statements, allowed_pairs(env, None), domain_id, env) == []


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _breaches(env: str, profile: UserProfileConfig) -> dict[str, dict[str, Any]]:
    """Statements a reviewer must never let through for `profile`."""
    config = LOADED[env].config
    own = {d.name for d in granted_models(profile, LOADED[env].models)}
    other = next(d for d in LOADED[env].models if d.name not in own)
    raw = bucket_name(config.prefix, RAW_DATA, config.account, config.region)
    prod = LOADED["prod"].config
    prod_raw = bucket_name(prod.prefix, RAW_DATA, prod.account, prod.region)
    arn = Arns(config.region, config.account)
    return {
        "another team's raw data": {
            "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{raw}/{raw_data_prefix(other.name)}*",
        },
        "the whole raw bucket": {"Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{raw}/*"},
        "prod data": {
            "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{prod_raw}/{raw_data_prefix(other.name)}*",
        },
        "another model's endpoint": {
            "Action": "sagemaker:InvokeEndpoint",
            "Resource": arn.sagemaker(f"endpoint/{other.endpoint_name}"),
        },
        "another model's pipeline": {
            "Action": "sagemaker:StartPipelineExecution",
            "Resource": arn.sagemaker(f"pipeline/{other.prefix}-training"),
        },
        "creating an endpoint": {"Action": "sagemaker:CreateEndpoint", "Resource": "*"},
        "any action on any resource": {"Action": "sagemaker:*", "Resource": "*"},
        "approving as a data scientist": {
            "Action": "sagemaker:UpdateModelPackage",
            "Resource": arn.sagemaker(f"model-package/{other.registry_group}/*"),
        },
    }


@pytest.mark.parametrize("breach", range(8))
def test_planted_breaches_are_caught(studio, breach: int) -> None:
    env = "dev"
    (profile,) = [
        p for p in LOADED[env].config.studio.user_profiles if p.persona == "data-scientist"
    ][:1]
    domain_id, _ = domain_of(studio[env])
    _, statements = role_named(studio[env], f"sagestack-{env}-studio-{profile.name}")
    name, planted = list(_breaches(env, profile).items())[breach]
    mutated = [*copy.deepcopy(statements), {"Effect": "Allow", "Sid": "Planted", **planted}]
    problems = statement_problems(mutated, allowed_pairs(env, profile), domain_id, env)
    assert any(p.startswith("Planted:") for p in problems), name


def test_a_missing_deny_is_caught(studio) -> None:
    domain_id, _ = domain_of(studio["dev"])
    _, statements = role_named(studio["dev"], f"sagestack-dev-studio-{DEFAULT_ROLE}")
    allowed = allowed_pairs("dev", None)
    kept = [s for s in statements if s["Effect"] != "Deny"]
    assert statement_problems(kept, allowed, domain_id, "dev") == [
        "no statement denies sagemaker:CreateEndpoint"
    ]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_domain_and_profiles_pass_the_sagemaker_contract(studio, env: str) -> None:
    """CreateDomain and CreateUserProfile as CloudFormation will call them: no finding, and
    a value SageMaker would refuse is named."""
    config = LOADED[env].config
    resources = studio[env]["Resources"]
    stack = StackResources(f"{config.prefix}-studio", config.region, config.account, resources)
    assert assembly_findings([stack]) == []
    broken = copy.deepcopy(resources)
    _, domain = domain_of({"Resources": broken})
    domain["Properties"]["DefaultUserSettings"]["StudioWebPortalSettings"]["HiddenAppTypes"] = [
        "Spreadsheets"
    ]
    stack = StackResources(stack.stack_name, config.region, config.account, broken)
    (finding,) = assembly_findings([stack])
    assert "CreateDomain" in str(finding) and "HiddenAppTypes" in str(finding)
