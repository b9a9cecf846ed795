"""The executor's checks and expression evaluation, without running any job."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest

from ground.pipeline.evaluation import ExecutionState, ExpressionError, evaluate, holds
from sagestack.cli import build_parser
from sagestack.intrinsics import IntrinsicError, Resolver, StackTemplate
from sagestack.local.pipeline.assembly import AssemblyError, load_pipeline
from sagestack.local.pipeline.executor import DefinitionError, Executor, resolve_parameters
from sagestack.storage import LocalStorage, relative_key
from tests.synth import Assembly


@pytest.fixture(scope="module")
def definition(assembly: Assembly) -> dict:
    return load_pipeline(assembly.directory, "dev", "sagestack-dev-cancer-training").definition


def _executor(definition: dict, tmp_path: Path) -> Executor:
    return Executor(
        definition,
        pipeline_name="p",
        region="eu-west-1",
        account="123456789012",
        storage=LocalStorage(tmp_path),
        registry=None,  # type: ignore[arg-type]  # never reached: the checks fail first
        workdir=tmp_path,
        echo=lambda _line: None,
    )


def _train(definition: dict) -> dict:
    return next(s for s in definition["Steps"] if s["Name"] == "Train")


def test_a_broken_reference_is_named_before_anything_runs(definition, tmp_path) -> None:
    broken = copy.deepcopy(definition)
    _train(broken)["Arguments"]["InputDataConfig"][0]["DataSource"]["S3DataSource"]["S3Uri"] = {
        "Get": "Steps.Prepare.ProcessingOutputConfig.Outputs['train'].S3Output.S3Uri"
    }
    with pytest.raises(DefinitionError) as caught:
        _executor(broken, tmp_path)
    message = str(caught.value)
    assert "step 'Train' references Steps.Prepare." in message
    assert "no step 'Prepare'" in message and "Preprocess" in message


def test_an_unknown_step_type_is_named(definition, tmp_path) -> None:
    broken = copy.deepcopy(definition)
    broken["Steps"].append({"Name": "Ship", "Type": "EMR", "Arguments": {}})
    with pytest.raises(DefinitionError, match="step 'Ship': step type 'EMR' is not supported"):
        _executor(broken, tmp_path)


def test_an_unknown_expression_is_named(definition, tmp_path) -> None:
    broken = copy.deepcopy(definition)
    _train(broken)["Arguments"]["RoleArn"] = {"Std:Concat": ["a", "b"]}
    with pytest.raises(DefinitionError, match=r"step 'Train'.*unknown expression Std:Concat"):
        _executor(broken, tmp_path)


def test_parameter_overrides_are_checked_and_typed(definition) -> None:
    values = resolve_parameters(definition, {"GateThreshold": "0.5"})
    assert values["GateThreshold"] == 0.5
    assert values["NumRound"] == "300"
    with pytest.raises(DefinitionError, match=r"unknown parameter.*NumRounds.*declares"):
        resolve_parameters(definition, {"NumRounds": "3"})
    with pytest.raises(DefinitionError, match="'two' is not of type Integer"):
        resolve_parameters(definition, {"TrainingInstanceCount": "two"})


def test_expressions_read_parameters_steps_and_property_files() -> None:
    state = ExecutionState(
        parameters={"Threshold": 0.9, "Flag": True},
        execution={"PipelineExecutionId": "abc"},
        steps={"P": {"Outputs": {"train": {"Uri": "s3://b/k"}}, "List": [{"N": "first"}]}},
        property_files={("E", "Report"): {"m": {"auc": {"value": 0.95}}}},
    )
    joined = evaluate(
        {
            "Std:Join": {
                "On": "/",
                "Values": [
                    {"Get": "Steps.P.Outputs['train'].Uri"},
                    {"Get": "Execution.PipelineExecutionId"},
                    {"Get": "Steps.P.List[0].N"},
                    {"Get": "Parameters.Flag"},
                ],
            }
        },
        state,
    )
    assert joined == "s3://b/k/abc/first/true"
    auc = {
        "Std:JsonGet": {
            "PropertyFile": {"Get": "Steps.E.PropertyFiles.Report"},
            "Path": "m.auc.value",
        }
    }
    assert holds(
        {
            "Type": "GreaterThanOrEqualTo",
            "LeftValue": auc,
            "RightValue": {"Get": "Parameters.Threshold"},
        },
        state,
    )
    assert not holds(
        {"Type": "Not", "Expression": {"Type": "Equals", "LeftValue": 1, "RightValue": 1}}, state
    )
    with pytest.raises(ExpressionError, match="nothing at 'missing'"):
        evaluate({"Get": "Steps.P.Outputs['missing'].Uri"}, state)
    with pytest.raises(ExpressionError, match="unknown condition type 'Between'"):
        holds({"Type": "Between"}, state)


def _stack(tmp_path: Path, name: str, template: dict) -> StackTemplate:
    path = tmp_path / f"{name}.template.json"
    path.write_text(json.dumps(template), encoding="utf-8")
    return StackTemplate(f"dev/{name}", name, path, "123456789012", "eu-west-1")


def test_template_intrinsics_resolve_from_the_assembly(tmp_path) -> None:
    data = _stack(
        tmp_path,
        "data",
        {
            "Resources": {
                "Key": {"Type": "AWS::KMS::Key", "Properties": {}},
                "Role": {"Type": "AWS::IAM::Role", "Properties": {"RoleName": "r"}},
            },
            "Outputs": {"KeyArn": {"Value": {"Fn::GetAtt": ["Key", "Arn"]}}},
        },
    )
    training = _stack(tmp_path, "training", {"Resources": {}})
    resolver = Resolver({"data": data, "training": training})
    value = {
        "Fn::Join": [
            "",
            [
                {
                    "Fn::GetStackOutput": {
                        "StackName": "data",
                        "Region": "eu-west-1",
                        "OutputName": "KeyArn",
                    }
                },
                "|",
                {"Ref": "AWS::Region"},
            ],
        ]
    }
    key_id = resolver.resolve({"Ref": "Key"}, data)
    assert re.fullmatch(r"[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}", str(key_id))
    assert resolver.resolve(value, training) == (
        f"arn:aws:kms:eu-west-1:123456789012:key/{key_id}|eu-west-1"
    )
    assert resolver.resolve({"Fn::GetAtt": ["Role", "Arn"]}, data) == (
        "arn:aws:iam::123456789012:role/r"
    )
    with pytest.raises(IntrinsicError, match="intrinsic Fn::Cidr is not supported"):
        resolver.resolve({"Fn::Cidr": ["10.0.0.0/16", 2, 8]}, training)
    with pytest.raises(IntrinsicError, match="stack nowhere, which is not in the assembly"):
        resolver.resolve(
            {"Fn::GetStackOutput": {"StackName": "nowhere", "OutputName": "X"}}, training
        )


def test_missing_assembly_says_what_to_run(tmp_path) -> None:
    with pytest.raises(AssemblyError, match="cdk synth -c envs=dev"):
        load_pipeline(tmp_path, "dev")


def test_local_storage_follows_s3_prefix_semantics(tmp_path) -> None:
    assert relative_key("raw/", "raw/a.csv") == "a.csv"
    assert relative_key("p/train", "p/train/train.csv") == "train.csv"
    assert relative_key("x/model.tar.gz", "x/model.tar.gz") == "model.tar.gz"
    storage = LocalStorage(tmp_path / "store")
    source = tmp_path / "a.csv"
    source.write_text("1,2\n")
    storage.upload_file(source, "s3://bucket/raw/a.csv")
    placed = storage.download("s3://bucket/raw/", tmp_path / "in")
    assert [p.read_text() for p in placed] == ["1,2\n"]


def test_the_cli_has_pipeline_run() -> None:
    args = build_parser().parse_args(
        ["local", "pipeline", "run", "--no-synth", "-p", "NumRound=5", "--storage", "local:x"]
    )
    assert args.parameter == ["NumRound=5"] and args.storage == "local:x" and not args.synth
