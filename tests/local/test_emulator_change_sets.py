"""Change sets in the emulator are per stack, as in CloudFormation: the CDK CLI names every
stack's `cdk-deploy-change-set` and deploys stacks side by side, deleting a leftover one before
it creates its own (shim 3 of emulator_server)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sagestack.local import emulator

ONE = json.dumps({"Resources": {"T": {"Type": "AWS::SNS::Topic"}}})
TWO = json.dumps(
    {"Resources": {"T": {"Type": "AWS::SNS::Topic"}, "U": {"Type": "AWS::SNS::Topic"}}}
)
NAME = "cdk-deploy-change-set"


@pytest.fixture(scope="module")
def cloudformation(tmp_path_factory: pytest.TempPathFactory):
    with emulator.running(Path(tmp_path_factory.mktemp("change-sets"))) as server:
        yield server.client("cloudformation", "eu-west-1")


def _change_set(client, stack: str, kind: str, body: str) -> None:
    client.create_change_set(
        StackName=stack, ChangeSetName=NAME, ChangeSetType=kind, TemplateBody=body
    )


def test_stacks_created_and_updated_side_by_side_keep_their_own_change_sets(
    cloudformation,
) -> None:
    for stack in ("a", "b"):
        _change_set(cloudformation, stack, "CREATE", ONE)
    cloudformation.execute_change_set(StackName="a", ChangeSetName=NAME)
    _change_set(cloudformation, "a", "UPDATE", TWO)
    # b's pending change set survives a's update, which first deletes a's leftover one
    cloudformation.delete_change_set(StackName="a", ChangeSetName="no-such-change-set")
    described = cloudformation.describe_change_set(StackName="a", ChangeSetName=NAME)
    assert described["StackName"] == "a"
    cloudformation.execute_change_set(StackName="a", ChangeSetName=NAME)
    assert cloudformation.describe_change_set(StackName="b", ChangeSetName=NAME)["StackName"] == "b"
    cloudformation.execute_change_set(StackName="b", ChangeSetName=NAME)
    resources = {
        stack: len(cloudformation.list_stack_resources(StackName=stack)["StackResourceSummaries"])
        for stack in ("a", "b")
    }
    assert resources == {"a": 2, "b": 1}


def test_a_change_set_another_stack_has_is_not_this_stacks(cloudformation) -> None:
    _change_set(cloudformation, "c", "CREATE", ONE)
    cloudformation.delete_change_set(StackName="a", ChangeSetName=NAME)  # a has none: no-op
    assert cloudformation.describe_change_set(StackName="c", ChangeSetName=NAME)["StackName"] == "c"
    with pytest.raises(cloudformation.exceptions.ChangeSetNotFoundException) as missing:
        cloudformation.describe_change_set(StackName="a", ChangeSetName=NAME)
    assert missing.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
