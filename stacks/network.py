"""Network stack: an isolated VPC (no NAT, no internet gateway) that reaches AWS via endpoints."""

from __future__ import annotations

from aws_cdk import Fn, RemovalPolicy, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from ground.config import EnvironmentConfig
from ml_constructs.acknowledgments import (
    DEFAULT_SG_PROVIDER_CONCURRENCY,
    DEFAULT_SG_PROVIDER_DLQ,
    DEFAULT_SG_PROVIDER_OUTSIDE_VPC,
    LOG_STREAMS_OF_ONE_GROUP,
    acknowledge,
    checkov_skip,
    logical_id,
)
from ml_constructs.cfn import cfn_resource
from ml_constructs.job_network import JobNetwork
from ml_constructs.platform_role import PlatformRole

INTERFACE_SERVICES: dict[str, ec2.InterfaceVpcEndpointAwsService] = {
    "sagemaker.api": ec2.InterfaceVpcEndpointAwsService.SAGEMAKER_API,
    "sagemaker.runtime": ec2.InterfaceVpcEndpointAwsService.SAGEMAKER_RUNTIME,
    "ecr.api": ec2.InterfaceVpcEndpointAwsService.ECR,
    "ecr.dkr": ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER,
    "logs": ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
    "monitoring": ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_MONITORING,
    "sts": ec2.InterfaceVpcEndpointAwsService.STS,
    "kms": ec2.InterfaceVpcEndpointAwsService.KMS,
    "sns": ec2.InterfaceVpcEndpointAwsService.SNS,
    "events": ec2.InterfaceVpcEndpointAwsService.EVENTBRIDGE,
}
HTTPS = ec2.Port.tcp(443)
RETENTION: dict[int, logs.RetentionDays] = {
    7: logs.RetentionDays.ONE_WEEK,
    14: logs.RetentionDays.TWO_WEEKS,
    30: logs.RetentionDays.ONE_MONTH,
    60: logs.RetentionDays.TWO_MONTHS,
    90: logs.RetentionDays.THREE_MONTHS,
    180: logs.RetentionDays.SIX_MONTHS,
    365: logs.RetentionDays.ONE_YEAR,
    731: logs.RetentionDays.TWO_YEARS,
    1827: logs.RetentionDays.FIVE_YEARS,
    3653: logs.RetentionDays.TEN_YEARS,
}


class NetworkStack(Stack):
    """VPC, endpoints, encrypted flow logs and the SageMaker workloads security group."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: EnvironmentConfig,
        logs_key: kms.IKey,
        **kwargs,
    ) -> None:
        self._max_azs = config.network.max_azs
        super().__init__(scope, construct_id, **kwargs)
        network = config.network
        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            vpc_name=f"{config.prefix}-vpc",
            ip_addresses=ec2.IpAddresses.cidr(network.cidr),
            max_azs=network.max_azs,
            nat_gateways=0,
            create_internet_gateway=False,
            subnet_configuration=[
                ec2.SubnetConfiguration(
                    name="workloads", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=20
                )
            ],
        )
        self._document_default_sg_provider()
        self.subnets = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
        self._add_flow_logs(config, logs_key)

        self.workload_security_group = ec2.SecurityGroup(
            self,
            "WorkloadSecurityGroup",
            vpc=self.vpc,
            security_group_name=f"{config.prefix}-sagemaker-workloads",
            description="SageMaker jobs and endpoints: own members and VPC endpoints only",
            allow_all_outbound=False,
        )
        sg = self.workload_security_group
        self.job_network = JobNetwork(
            vpc=self.vpc,
            subnets=self.vpc.select_subnets(subnet_type=self.subnets.subnet_type).subnets,
            security_group=sg,
        )
        sg.add_ingress_rule(sg, ec2.Port.all_tcp(), "distributed training between members")
        sg.add_egress_rule(sg, ec2.Port.all_tcp(), "distributed training between members")

        self.endpoint_security_group = ec2.SecurityGroup(
            self,
            "EndpointSecurityGroup",
            vpc=self.vpc,
            security_group_name=f"{config.prefix}-vpc-endpoints",
            description="Interface VPC endpoints: HTTPS from SageMaker workloads only",
            allow_all_outbound=False,
        )
        self.endpoint_security_group.add_ingress_rule(sg, HTTPS, "HTTPS from SageMaker workloads")
        # S3's prefix list id cannot be known at synth without a lookup. HTTPS to any address
        # is safe here: the isolated subnets' only routes out are the VPC endpoints.
        sg.add_egress_rule(ec2.Peer.any_ipv4(), HTTPS, "HTTPS to S3 and the VPC endpoints")

        self.vpc.add_gateway_endpoint(
            "S3Endpoint", service=ec2.GatewayVpcEndpointAwsService.S3, subnets=[self.subnets]
        )
        for name in network.interface_endpoints:
            self.vpc.add_interface_endpoint(
                f"{name.replace('.', '-')}-endpoint",
                service=INTERFACE_SERVICES[name],
                subnets=self.subnets,
                security_groups=[self.endpoint_security_group],
                open=False,
                private_dns_enabled=True,
            )

    @property
    def availability_zones(self) -> list[str]:
        """The region's zones as `Fn::GetAZs` picks, resolved at deploy time.

        Stack's default looks the zones up in the account at synth; hard-coded names are not
        portable across accounts. These tokens need neither.
        """
        return [Fn.select(index, Fn.get_azs()) for index in range(self._max_azs)]

    def _document_default_sg_provider(self) -> None:
        """CDK closes the default security group with a provider Lambda; tidy and document it."""
        provider = self.node.try_find_child("Custom::VpcRestrictDefaultSGCustomResourceProvider")
        if provider is not None:
            handler = cfn_resource(provider.node.find_child("Handler"))
            # Its DependsOn on the role repeats what the Role GetAtt enforces (cfn-lint W3005).
            handler.remove_resource_dependency(cfn_resource(provider.node.find_child("Role")))
            checkov_skip(
                handler,
                DEFAULT_SG_PROVIDER_CONCURRENCY,
                DEFAULT_SG_PROVIDER_DLQ,
                DEFAULT_SG_PROVIDER_OUTSIDE_VPC,
            )

    def _add_flow_logs(self, config: EnvironmentConfig, logs_key: kms.IKey) -> None:
        log_group = logs.LogGroup(
            self,
            "FlowLogGroup",
            log_group_name=f"/{config.prefix}/vpc-flow-logs",
            encryption_key=logs_key,
            retention=RETENTION[config.network.flow_log_retention_days],
            removal_policy=RemovalPolicy.RETAIN if config.retains_data else RemovalPolicy.DESTROY,
        )
        role = PlatformRole(
            self,
            "FlowLogRole",
            role_name=f"{config.prefix}-vpc-flow-logs",
            assumed_by=iam.ServicePrincipal("vpc-flow-logs.amazonaws.com"),
            description="VPC flow logs delivery to their encrypted log group",
        )
        role.allow(
            ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
            [log_group.log_group_arn, f"{log_group.log_group_arn}:log-stream:*"],
        )
        acknowledge(
            role.policy,
            LOG_STREAMS_OF_ONE_GROUP,
            f"Resource::<{logical_id(log_group)}.Arn>:log-stream:*",
        )
        self.vpc.add_flow_log(
            "FlowLog",
            destination=ec2.FlowLogDestination.to_cloud_watch_logs(log_group, role.immutable),
            traffic_type=ec2.FlowLogTrafficType.ALL,
        )
