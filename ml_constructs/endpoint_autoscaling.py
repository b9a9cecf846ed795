"""Target tracking on invocations per instance for one endpoint variant.

Application Auto Scaling acts through its service-linked role for SageMaker, which it creates
on first use; naming that role keeps CDK from creating an unused role of its own.
"""

from __future__ import annotations

from aws_cdk import Duration, Stack
from aws_cdk import aws_applicationautoscaling as autoscaling
from aws_cdk import aws_iam as iam
from constructs import Construct, IConstruct

from ground.config.serving import AutoscalingConfig

SERVICE_LINKED_ROLE = (
    "aws-service-role/sagemaker.application-autoscaling.amazonaws.com/"
    "AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint"
)


class EndpointAutoscaling(Construct):
    """Scalable target `endpoint/<name>/variant/<variant>` between min and max capacity."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        endpoint: IConstruct,
        endpoint_name: str,
        variant_name: str,
        config: AutoscalingConfig,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        role = iam.Role.from_role_arn(
            self,
            "ServiceLinkedRole",
            f"arn:{stack.partition}:iam::{stack.account}:role/{SERVICE_LINKED_ROLE}",
            mutable=False,
        )
        self.target = autoscaling.ScalableTarget(
            self,
            "Target",
            service_namespace=autoscaling.ServiceNamespace.SAGEMAKER,
            resource_id=f"endpoint/{endpoint_name}/variant/{variant_name}",
            scalable_dimension="sagemaker:variant:DesiredInstanceCount",
            min_capacity=config.min_capacity,
            max_capacity=config.max_capacity,
            role=role,
        )
        self.target.node.add_dependency(endpoint)
        self.target.scale_to_track_metric(
            "InvocationsPerInstance",
            target_value=config.target_invocations_per_instance,
            predefined_metric=autoscaling.PredefinedMetric.SAGEMAKER_VARIANT_INVOCATIONS_PER_INSTANCE,
            scale_in_cooldown=Duration.seconds(config.scale_in_cooldown_seconds),
            scale_out_cooldown=Duration.seconds(config.scale_out_cooldown_seconds),
        )
