"""Data stack: keys rotate, buckets are encrypted, TLS-only, private, versioned, logged; one per
environment, shared by every model it hosts, each model in its own prefixes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from aws_cdk.assertions import Match, Template

from ground.config import ConfigError, load_environments
from ground.config.loader import CONFIG_DIR
from ground.config.values import known_regions

ENVIRONMENTS = ["dev", "staging", "prod"]
LOADED = {environment.name: environment for environment in load_environments()}
MODELS = sorted({d.name for environment in LOADED.values() for d in environment.models})


def resources(template: Template, kind: str) -> dict[str, dict]:
    return template.find_resources(kind)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_three_rotating_customer_managed_keys(templates, env: str) -> None:
    keys = resources(templates[(env, "data")], "AWS::KMS::Key")
    assert len(keys) == 3
    for key in keys.values():
        assert key["Properties"]["EnableKeyRotation"] is True


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_key_use_is_limited_to_platform_roles(templates, env: str) -> None:
    for key in resources(templates[(env, "data")], "AWS::KMS::Key").values():
        statements = key["Properties"]["KeyPolicy"]["Statement"]
        by_sid = {statement["Sid"]: statement for statement in statements}
        admin = by_sid["AccountAdministersKey"]
        assert not any(a in admin["Action"] for a in ("kms:Decrypt", "kms:Encrypt", "kms:*"))
        use = by_sid["PlatformRolesUseKey"]
        pattern = use["Condition"]["ArnLike"]["aws:PrincipalArn"]
        assert f":role/sagestack-{env}-*" in str(pattern)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_bucket_is_private_versioned_tls_only_with_lifecycle(templates, env: str) -> None:
    template = templates[(env, "data")]
    buckets = resources(template, "AWS::S3::Bucket")
    assert len(buckets) == 3
    for bucket in buckets.values():
        props = bucket["Properties"]
        assert props["VersioningConfiguration"] == {"Status": "Enabled"}
        assert props["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }
        rules = {rule["Id"]: rule for rule in props["LifecycleConfiguration"]["Rules"]}
        assert "NoncurrentVersionExpiration" in rules["expire-noncurrent-versions"]
        assert "AbortIncompleteMultipartUpload" in rules["abort-incomplete-uploads"]
    policies = resources(template, "AWS::S3::BucketPolicy")
    assert len(policies) == 3
    for policy in policies.values():
        denies = [
            statement
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]
            if statement["Effect"] == "Deny"
        ]
        conditions = [statement["Condition"] for statement in denies]
        assert {"Bool": {"aws:SecureTransport": "false"}} in conditions
        assert {"NumericLessThan": {"s3:TlsVersion": 1.2}} in conditions


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_data_buckets_use_kms_with_bucket_keys_and_log_access(templates, env: str) -> None:
    template = templates[(env, "data")]
    for name in ("raw-data", "ml-artifacts"):
        template.has_resource_properties(
            "AWS::S3::Bucket",
            {
                "BucketName": Match.string_like_regexp(f"^sagestack-{env}-{name}-"),
                "BucketEncryption": {
                    "ServerSideEncryptionConfiguration": [
                        {
                            "BucketKeyEnabled": True,
                            "ServerSideEncryptionByDefault": {
                                "SSEAlgorithm": "aws:kms",
                                "KMSMasterKeyID": Match.any_value(),
                            },
                        }
                    ]
                },
                "LoggingConfiguration": {
                    "DestinationBucketName": Match.any_value(),
                    "LogFilePrefix": Match.string_like_regexp(f"^sagestack-{env}-{name}-"),
                },
            },
        )


@pytest.mark.parametrize(
    ("env", "policy"), [("dev", "Delete"), ("staging", "Delete"), ("prod", "Retain")]
)
def test_retention_follows_the_environment(templates, env: str, policy: str) -> None:
    template = templates[(env, "data")]
    for kind in ("AWS::S3::Bucket", "AWS::KMS::Key"):
        for resource in resources(template, kind).values():
            assert resource["DeletionPolicy"] == policy
            assert resource["UpdateReplacePolicy"] == policy


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_alerts_topic_is_encrypted_and_tls_only(templates, env: str) -> None:
    template = templates[(env, "data")]
    template.has_resource_properties(
        "AWS::SNS::Topic",
        {"TopicName": f"sagestack-{env}-alerts", "KmsMasterKeyId": Match.any_value()},
    )
    template.has_resource_properties("AWS::SNS::Subscription", {"Protocol": "email"})


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_raw_bucket_sends_events_for_the_new_data_trigger(templates, env: str) -> None:
    templates[(env, "data")].has_resource_properties(
        "AWS::S3::Bucket",
        {
            "BucketName": Match.string_like_regexp(f"^sagestack-{env}-raw-data-"),
            "NotificationConfiguration": {"EventBridgeConfiguration": {"EventBridgeEnabled": True}},
        },
    )


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_models_roles_may_use_the_keys_and_nothing_names_a_model(templates, env) -> None:
    template = templates[(env, "data")].to_json()
    assert [m for m in MODELS if f"sagestack-{env}-{m}" in json.dumps(template)] == []
    for model in MODELS:
        roles = templates[(env, f"{model}-training")].find_resources("AWS::IAM::Role")
        for role in roles.values():
            # PlatformRolesUseKey admits sagestack-<env>-* roles: every model's are.
            assert role["Properties"]["RoleName"].startswith(f"sagestack-{env}-{model}-")


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_promotion_targets_read_only_the_model_folders_of_the_artifacts(templates, env) -> None:
    """Consumers (the next environments' accounts) read models/, where every model's pipelines
    write their model data and baselines; nothing else of the bucket."""
    template = templates[(env, "data")]
    consumers = LOADED[env].config.consumer_accounts
    statements = [
        statement
        for policy in resources(template, "AWS::S3::BucketPolicy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if statement.get("Sid") == "PromotionTargetsReadModels"
    ]
    if not consumers:
        assert statements == []
        return
    (statement,) = statements
    assert statement["Action"] == ["s3:GetObject", "s3:GetObjectVersion"]
    assert json.dumps(statement["Resource"]).endswith('/models/*"]]}')
    assert all(account in json.dumps(statement["Principal"]) for account in consumers)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_model_reaches_the_data_stack_through_the_same_outputs(templates, env) -> None:
    outputs = set(templates[(env, "data")].to_json().get("Outputs", {}))
    assert len(outputs) == 4  # the data, logs and alerts keys, the alerts topic
    for model in MODELS:
        training = json.dumps(templates[(env, f"{model}-training")].to_json())
        used = {name for name in outputs if name in training}
        assert used and used <= outputs, model


LONGEST_ENVIRONMENT = "production-east1"  # 16 characters, the most the config allows


def test_bucket_names_fit_for_the_longest_environment_name_in_every_region(
    tmp_path: Path,
) -> None:
    """S3 bucket names are at most 63 characters. `<prefix>-ml-artifacts-<account>-<region>`
    with a 16-character environment fits in eu-west-1 (62) but not in a region with a longer
    name: the config must refuse the combination, or the names must be shortened."""
    from stacks.data import DataStack
    from tests.inprocess import app

    region = max(sorted(r for r in known_regions() if r.count("-") == 2), key=len)
    config_dir = tmp_path / "config"
    config_dir.mkdir()
    environment_file = yaml.safe_load((CONFIG_DIR / "prod.yaml").read_text())
    environment_file["region"] = region
    (config_dir / f"{LONGEST_ENVIRONMENT}.yaml").write_text(yaml.safe_dump(environment_file))
    platform = {"environments": [LONGEST_ENVIRONMENT]}
    (config_dir / "platform.yaml").write_text(yaml.safe_dump(platform))
    try:
        (environment,) = load_environments([], config_dir)
    except ConfigError as refused:
        assert "name" in str(refused) or "region" in str(refused)
        return
    config = environment.config
    try:
        stack = DataStack(
            app(str(tmp_path / "out")),
            "data",
            config=config,
            env={"account": config.account, "region": config.region},
        )
    except RuntimeError as error:  # CDK refuses the bucket name: a crash, not a config message
        pytest.fail(f"{LONGEST_ENVIRONMENT} in {region} passes the config, then: {error}")
    names = [
        bucket["Properties"]["BucketName"]
        for bucket in resources(Template.from_stack(stack), "AWS::S3::Bucket").values()
    ]
    assert len(names) == 3
    assert [name for name in names if len(name) > 63] == [], region
