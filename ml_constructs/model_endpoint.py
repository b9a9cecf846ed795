"""Endpoint config and endpoint: KMS, data capture, and guarded blue/green deployments.

The endpoint config has no physical name: every change replaces it, and CloudFormation can only
replace resources it names itself. The endpoint keeps its name, so alarms, autoscaling and
Model Monitor can refer to it; CloudFormation updates it in place with the new config.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import aws_kms as kms
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from ground.config.serving import GuardrailsConfig, InstanceVariant, ServerlessVariant

CAPTURED_CSV = ["text/csv"]
CAPTURED_JSON = ["application/json"]


@dataclass(frozen=True)
class DataCapture:
    """Sample `percent` of requests and responses into `destination`, encrypted with `key`."""

    percent: int
    destination: str
    key: kms.IKey

    def to_property(self) -> sagemaker.CfnEndpointConfig.DataCaptureConfigProperty:
        return sagemaker.CfnEndpointConfig.DataCaptureConfigProperty(
            enable_capture=True,
            initial_sampling_percentage=self.percent,
            destination_s3_uri=self.destination,
            kms_key_id=self.key.key_arn,
            capture_options=[
                sagemaker.CfnEndpointConfig.CaptureOptionProperty(capture_mode="Input"),
                sagemaker.CfnEndpointConfig.CaptureOptionProperty(capture_mode="Output"),
            ],
            capture_content_type_header=sagemaker.CfnEndpointConfig.CaptureContentTypeHeaderProperty(
                csv_content_types=CAPTURED_CSV, json_content_types=CAPTURED_JSON
            ),
        )


@dataclass(frozen=True)
class Guardrails:
    """Canary traffic shifting, and the alarms whose firing rolls a deployment back."""

    config: GuardrailsConfig
    rollback_alarm_names: list[str]

    def to_property(self) -> sagemaker.CfnEndpoint.DeploymentConfigProperty:
        config = self.config
        return sagemaker.CfnEndpoint.DeploymentConfigProperty(
            blue_green_update_policy=sagemaker.CfnEndpoint.BlueGreenUpdatePolicyProperty(
                traffic_routing_configuration=sagemaker.CfnEndpoint.TrafficRoutingConfigProperty(
                    type="CANARY",
                    canary_size=sagemaker.CfnEndpoint.CapacitySizeProperty(
                        type="CAPACITY_PERCENT", value=config.canary_percent
                    ),
                    wait_interval_in_seconds=config.canary_wait_seconds,
                ),
                termination_wait_in_seconds=config.termination_wait_seconds,
                maximum_execution_timeout_in_seconds=config.max_execution_seconds,
            ),
            auto_rollback_configuration=sagemaker.CfnEndpoint.AutoRollbackConfigProperty(
                alarms=[
                    sagemaker.CfnEndpoint.AlarmProperty(alarm_name=name)
                    for name in self.rollback_alarm_names
                ]
            ),
        )


class ModelEndpoint(Construct):
    """One production variant of `model_name` behind the endpoint `endpoint_name`.

    Instance variants keep their current instance count and weight across updates
    (RetainAllVariantProperties), so a deployment does not undo autoscaling; data capture is
    excluded from that, so a changed sampling percentage takes effect.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        endpoint_name: str,
        variant_name: str,
        model_name: str,
        variant: ServerlessVariant | InstanceVariant,
        key: kms.IKey,
        data_capture: DataCapture | None,
        guardrails: Guardrails | None,
    ) -> None:
        super().__init__(scope, construct_id)
        serverless = isinstance(variant, ServerlessVariant)
        if serverless and (data_capture or guardrails):
            raise ValueError(
                f"endpoint {endpoint_name}: serverless variants support neither data capture "
                "nor guarded deployments"
            )
        self.config = sagemaker.CfnEndpointConfig(
            self,
            "Config",
            kms_key_id=key.key_arn,
            production_variants=[_production_variant(variant_name, model_name, variant)],
            data_capture_config=data_capture.to_property() if data_capture else None,
        )
        self.endpoint = sagemaker.CfnEndpoint(
            self,
            "Endpoint",
            endpoint_name=endpoint_name,
            endpoint_config_name=self.config.attr_endpoint_config_name,
            deployment_config=guardrails.to_property() if guardrails else None,
            retain_all_variant_properties=None if serverless else True,
            exclude_retained_variant_properties=None
            if serverless
            else [
                sagemaker.CfnEndpoint.VariantPropertyProperty(
                    variant_property_type="DataCaptureConfig"
                )
            ],
        )
        self.endpoint_name = endpoint_name
        self.variant_name = variant_name


def _production_variant(
    name: str, model_name: str, variant: ServerlessVariant | InstanceVariant
) -> sagemaker.CfnEndpointConfig.ProductionVariantProperty:
    if isinstance(variant, ServerlessVariant):
        return sagemaker.CfnEndpointConfig.ProductionVariantProperty(
            variant_name=name,
            model_name=model_name,
            serverless_config=sagemaker.CfnEndpointConfig.ServerlessConfigProperty(
                memory_size_in_mb=variant.memory_mb, max_concurrency=variant.max_concurrency
            ),
        )
    return sagemaker.CfnEndpointConfig.ProductionVariantProperty(
        variant_name=name,
        model_name=model_name,
        instance_type=variant.instance_type,
        initial_instance_count=variant.initial_count,
        initial_variant_weight=1,
    )
