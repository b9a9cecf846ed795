"""Security invariants of every job in a definition, which compliance scanners never see.

cdk-nag and checkov read CloudFormation resources; a pipeline definition is one JSON string
to them. These checks read the definition itself and fail closed on step types they do not
know, so a new kind of job cannot slip past them.
"""

from __future__ import annotations

from collections.abc import Callable

from ground.pipeline.walk import iter_steps

NOT_JOBS = frozenset({"Condition", "RegisterModel", "Fail"})


def _missing(arguments: dict, paths: dict[str, str]) -> list[str]:
    """Names of the requirements whose dotted path is absent, empty or not true."""
    failed = []
    for requirement, path in paths.items():
        value: object = arguments
        for part in path.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if value is None or value is False or value == [] or value == "":
            failed.append(requirement)
    return failed


TRAINING_JOB = {
    "network isolation": "EnableNetworkIsolation",
    "inter-container traffic encryption": "EnableInterContainerTrafficEncryption",
    "VPC subnets": "VpcConfig.Subnets",
    "VPC security groups": "VpcConfig.SecurityGroupIds",
    "KMS key for volumes": "ResourceConfig.VolumeKmsKeyId",
    "KMS key for outputs": "OutputDataConfig.KmsKeyId",
}
PROCESSING_JOB = {
    "network isolation": "NetworkConfig.EnableNetworkIsolation",
    "inter-container traffic encryption": "NetworkConfig.EnableInterContainerTrafficEncryption",
    "VPC subnets": "NetworkConfig.VpcConfig.Subnets",
    "VPC security groups": "NetworkConfig.VpcConfig.SecurityGroupIds",
    "KMS key for volumes": "ProcessingResources.ClusterConfig.VolumeKmsKeyId",
    "KMS key for outputs": "ProcessingOutputConfig.KmsKeyId",
}


# A transform job runs the model's own network settings (VPC, isolation are CreateModel's):
# the job itself carries only its keys.
TRANSFORM_JOB = {
    "KMS key for volumes": "TransformResources.VolumeKmsKeyId",
    "KMS key for outputs": "TransformOutput.KmsKeyId",
}


def _processing(arguments: dict) -> list[str]:
    return _missing(arguments, PROCESSING_JOB)


def _training(arguments: dict) -> list[str]:
    return _missing(arguments, TRAINING_JOB)


def _tuning(arguments: dict) -> list[str]:
    single = arguments.get("TrainingJobDefinition")
    definitions = [*([single] if single else []), *arguments.get("TrainingJobDefinitions", [])]
    if not definitions:
        return ["a training job definition"]
    return sorted({problem for item in definitions for problem in _training(item)})


def _transform(arguments: dict) -> list[str]:
    return _missing(arguments, TRANSFORM_JOB)


CHECKS: dict[str, Callable[[dict], list[str]]] = {
    "Transform": _transform,
    "Processing": _processing,
    "Training": _training,
    "Tuning": _tuning,
}


def job_security_violations(definition: dict) -> list[str]:
    """One line per job step lacking KMS, VPC, network isolation or traffic encryption."""
    violations = []
    for step in iter_steps(definition.get("Steps", [])):
        kind = step.get("Type")
        if kind in NOT_JOBS:
            continue
        check = CHECKS.get(str(kind))
        if check is None:
            violations.append(
                f"step {step.get('Name')!r}: type {kind!r} is not known to the security checks; "
                "add a check for it in ground/pipeline/invariants.py"
            )
            continue
        for missing in check(step.get("Arguments", {})):
            violations.append(f"step {step.get('Name')!r} ({kind}) has no {missing}")
    return violations
