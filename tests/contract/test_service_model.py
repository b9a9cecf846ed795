"""The request validator against botocore's service model: what botocore itself misses too."""

from __future__ import annotations

import botocore.session
import pytest
from botocore.exceptions import ParamValidationError
from botocore.validate import ParamValidator

from ground.contract.service_model import (
    compiled_pattern,
    member_enum,
    request_findings,
    service_model,
)
from ground.contract.unknown import Unknown

GROUP = {"ModelPackageGroupName": "churn-models"}


def _rules(operation: str, request: dict, **kwargs) -> list[str]:
    return [
        f"{f.path}: {f.rule}"
        for f in request_findings("sagemaker", operation, request, "t", **kwargs)
    ]


def test_a_bad_name_is_refused_although_botocore_lets_it_through() -> None:
    request = {"ModelPackageGroupName": "churn_models"}
    model = service_model("sagemaker").operation_model("CreateModelPackageGroup")
    report = ParamValidator().validate(request, model.input_shape)
    assert not report.has_errors(), "botocore's own validator does not check patterns"
    [finding] = request_findings("sagemaker", "CreateModelPackageGroup", request, "group churn")
    assert finding.path == "ModelPackageGroupName" and "does not match the pattern" in finding.rule
    assert str(finding).startswith("group churn: CreateModelPackageGroup ModelPackageGroupName:")
    assert "'churn_models'" in str(finding)
    assert _rules("CreateModelPackageGroup", GROUP) == []


def test_an_empty_container_argument_list_is_refused() -> None:
    request = {
        "ProcessingResources": {
            "ClusterConfig": {
                "InstanceCount": 1,
                "InstanceType": "ml.m5.large",
                "VolumeSizeInGB": 30,
            }
        },
        "AppSpecification": {"ImageUri": "image", "ContainerArguments": []},
        "RoleArn": "arn:aws:iam::123456789012:role/r",
        "StoppingCondition": {"MaxRuntimeInSeconds": 60},
    }
    assert _rules(
        "CreateProcessingJob", request, filled_by_caller=frozenset({"ProcessingJobName"})
    ) == ["AppSpecification.ContainerArguments: length 0 is below the minimum 1"]
    with pytest.raises(ParamValidationError, match="ContainerArguments"):
        botocore.session.get_session().create_client(
            "sagemaker", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="y"
        ).create_processing_job(ProcessingJobName="j", **request)


@pytest.mark.parametrize("instance_type", ["ml.m5.huge", "ml.", "m5.large"])
def test_instance_types_come_from_the_enum_of_the_api(instance_type: str) -> None:
    request = {"TransformResources": {"InstanceType": instance_type, "InstanceCount": 1}}
    rules = _rules("CreateTransformJob", request)
    assert "TransformResources.InstanceType: is not one of the" in "\n".join(rules)
    assert "ml.m5.large" in member_enum(
        "sagemaker", "CreateTransformJob", "TransformResources.InstanceType"
    )


def test_required_unknown_types_ranges_and_unions_are_all_reported() -> None:
    rules = _rules(
        "CreateEndpointConfig",
        {
            "ProductionVariants": [
                {"VariantName": "v", "ModelName": "m", "InitialInstanceCount": 0, "Colour": "red"}
            ],
            "DataCaptureConfig": {
                "InitialSamplingPercentage": "20",
                "DestinationS3Uri": "s3://b/p",
                "CaptureOptions": [{"CaptureMode": "Input"}],
            },
        },
    )
    assert "EndpointConfigName: is required" in rules
    assert "ProductionVariants[0].InitialInstanceCount: is below the minimum 1" in rules
    assert any(rule.startswith("ProductionVariants[0].Colour: is not a member") for rule in rules)
    assert "DataCaptureConfig.InitialSamplingPercentage: expects a integer, not a str" in rules


def test_run_time_values_are_checked_for_type_only() -> None:
    runtime_string = Unknown("string", "Get Steps.Train.ModelArtifacts.S3ModelArtifacts")
    request = {
        "ModelPackageGroupName": "g",
        "InferenceSpecification": {
            "Containers": [{"Image": "i", "ModelDataUrl": runtime_string}],
            "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": ["text/csv"],
        },
    }
    assert _rules("CreateModelPackage", request) == []
    request["InferenceSpecification"]["Containers"][0]["ModelDataUrl"] = Unknown("integer", "x")
    [rule] = _rules("CreateModelPackage", request)
    assert rule == (
        "InferenceSpecification.Containers[0].ModelDataUrl: "
        "expects a string, gets a run-time integer"
    )


@pytest.mark.parametrize("service", ["sagemaker", "sagemaker-runtime"])
def test_every_pattern_of_the_models_compiles(service: str) -> None:
    model = service_model(service)
    patterns = {
        model.shape_for(name).metadata["pattern"]
        for name in model.shape_names
        if "pattern" in model.shape_for(name).metadata
    }
    assert len(patterns) > 10
    for pattern in patterns:
        compiled_pattern(pattern)


def test_java_patterns_mean_what_java_means() -> None:
    supplementary = compiled_pattern(
        "[\\u0020-\\uD7FF\\uE000-\\uFFFD\\uD800\\uDC00-\\uDBFF\\uDFFF\\t]*"
    )
    assert supplementary.fullmatch("catalog 😀")
    inference_id = compiled_pattern("\\A\\S[\\p{Print}]*\\z")
    assert inference_id.fullmatch("id-1 two") and not inference_id.fullmatch(" leading")
