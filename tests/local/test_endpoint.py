"""The local endpoint: hosting contract over real HTTP on 127.0.0.1, the Runtime API through a
real boto3 client, and the end of the chain preprocess → train → evaluate → serve → invoke."""

from __future__ import annotations

import io
import json
import socket
import urllib.error
import urllib.request

import boto3
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from sagestack.local.endpoint import MAX_PAYLOAD_BYTES, LocalEndpoint, _listen, start_endpoint


@pytest.fixture(scope="module")
def endpoint(demo, aws_env) -> LocalEndpoint:
    with start_endpoint(demo.training.model_artifact, port=0) as running:
        yield running


@pytest.fixture(scope="module")
def runtime(endpoint: LocalEndpoint):
    return boto3.client("sagemaker-runtime", endpoint_url=endpoint.url)


@pytest.fixture(scope="module")
def test_split(demo) -> pd.DataFrame:
    return pd.read_csv(demo.splits["test"] / "test.csv")


def _post(url: str, body: bytes, content_type: str, accept: str = "*/*") -> tuple[int, bytes]:
    request = urllib.request.Request(
        url, data=body, headers={"Content-Type": content_type, "Accept": accept}
    )
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_ping(endpoint: LocalEndpoint) -> None:
    with urllib.request.urlopen(endpoint.url + "/ping") as response:
        assert response.status == 200


def test_boto3_invocations_score_the_test_split_like_evaluate(
    runtime, test_split: pd.DataFrame, demo
) -> None:
    features = test_split.drop(columns="target")
    response = runtime.invoke_endpoint(
        EndpointName="anything",
        ContentType="text/csv",
        Accept="text/csv",
        Body=features.to_csv(header=False, index=False),
    )
    assert response["ContentType"].startswith("text/csv")
    lines = response["Body"].read().decode().splitlines()
    probabilities = np.array([float(line.split(",")[0]) for line in lines])
    assert len(probabilities) == len(test_split)
    report = json.loads((demo.evaluation_dir / "evaluation.json").read_text())
    expected = report["binary_classification_metrics"]["auc"]["value"]
    assert roc_auc_score(test_split["target"], probabilities) == pytest.approx(expected, abs=1e-9)


def test_json_and_npy_requests(runtime, test_split: pd.DataFrame) -> None:
    rows = test_split.drop(columns="target").to_numpy(np.float32)[:3]
    by_json = runtime.invoke_endpoint(
        EndpointName="e",
        ContentType="application/json",
        Body=json.dumps({"instances": rows.tolist()}),
    )
    buffer = io.BytesIO()
    np.save(buffer, rows)
    by_npy = runtime.invoke_endpoint(
        EndpointName="e",
        ContentType="application/x-npy",
        Accept="application/json",
        Body=buffer.getvalue(),
    )
    first = json.loads(by_json["Body"].read())["predictions"]
    second = json.loads(by_npy["Body"].read())["predictions"]
    assert first == second and len(first) == 3
    assert set(first[0]) == {"probability", "label"}


@pytest.mark.parametrize(
    ("body", "content_type", "accept", "status", "message"),
    [
        (b"1,2,3", "text/csv", "*/*", 400, b"each row needs 30 features"),
        (b"", "text/csv", "*/*", 400, b"the request body is empty"),
        (b"a" + b",0" * 29, "text/csv", "*/*", 400, b"row 1, column 1: 'a' is not a number"),
        (b"{}", "application/xml", "*/*", 415, b"content type 'application/xml' is not supported"),
        (b"0," * 29 + b"0", "text/csv", "image/png", 406, b"cannot answer in 'image/png'"),
        (b"1" * (MAX_PAYLOAD_BYTES + 1), "text/csv", "*/*", 413, b"the limit is 6 MB"),
    ],
)
def test_bad_requests_get_4xx_and_the_server_keeps_serving(
    endpoint: LocalEndpoint,
    body: bytes,
    content_type: str,
    accept: str,
    status: int,
    message: bytes,
) -> None:
    code, answer = _post(endpoint.url + "/invocations", body, content_type, accept)
    assert (code, message in answer) == (status, True), answer
    code, _ = _post(endpoint.url + "/invocations", b"0," * 29 + b"0", "text/csv")
    assert code == 200


def test_boto3_sees_client_errors_as_model_errors(runtime) -> None:
    with pytest.raises(runtime.exceptions.ModelError) as caught:
        runtime.invoke_endpoint(EndpointName="e", ContentType="text/csv", Body="1,2,x" + ",0" * 27)
    response = caught.value.response
    assert response["OriginalStatusCode"] == 400
    assert response["OriginalMessage"] == "text/csv row 1, column 3: 'x' is not a number"
    assert "Received client error (400)" in response["Error"]["Message"]


def test_endpoint_in_a_child_process(demo, aws_env, test_split: pd.DataFrame) -> None:
    row = test_split.drop(columns="target").iloc[:1].to_csv(header=False, index=False)
    with start_endpoint(demo.training.model_artifact, in_process=False) as child:
        assert child.url.startswith("http://127.0.0.1:")
        client = boto3.client("sagemaker-runtime", endpoint_url=child.url)
        answer = client.invoke_endpoint(
            EndpointName="e", ContentType="text/csv", Accept="text/csv", Body=row
        )
        probability, label = answer["Body"].read().decode().strip().split(",")
        assert 0 <= float(probability) <= 1 and label in ("0", "1")
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(child.url + "/ping", timeout=5)


def test_the_listening_socket_says_it_is_tcp() -> None:
    """asyncio sets TCP_NODELAY only on connections accepted from a socket whose protocol is
    IPPROTO_TCP; without it every answer waits ~40 ms for a delayed ACK (bench/endpoint_http.py
    shows it, no test here times anything)."""
    with _listen(0) as listener:
        assert listener.proto == socket.IPPROTO_TCP
