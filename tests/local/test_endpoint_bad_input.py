"""Bad input never gets a 500 (issue 12), over real HTTP on 127.0.0.1.

Property-based (hypothesis): any body (rows of the model's width or not, garbage, JSON
documents, damaged .npy files) with any Content-Type and Accept header (q-values included), on
either invocation path, is answered 2xx with the model's own predictions or 4xx with a message,
and /ping still answers. Then oversized bodies refused before they are read, and the server
process: stopping with a stalled upload, clients leaving mid-upload, memory after rejected
requests, and operator errors in one line.
"""

from __future__ import annotations

import contextlib
import http.client
import io
import json
import math
import signal
import socket
import subprocess
import sys
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import boto3
import numpy as np
import psutil
import pytest
import xgboost as xgb
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays, floating_dtypes, integer_dtypes

from sagestack.local.endpoint import (
    HOST,
    MAX_PAYLOAD_BYTES,
    READY_PREFIX,
    LocalEndpoint,
    start_endpoint,
)
from tests.bodies import json_documents, npy, npy_declaring, npz

FEATURES = 30  # the bundled breast-cancer data's
CSV, JSON, NPY = "text/csv", "application/json", "application/x-npy"
PATHS = ("/invocations", "/endpoints/e/invocations")
MiB = 2**20


class Reference(NamedTuple):
    """The trained model read with XGBoost itself, to check the endpoint's answers."""

    booster: xgb.Booster
    threshold: float


class Case(NamedTuple):
    body: bytes
    content_type: str | None
    rows: np.ndarray | None  # what the body encodes when it is a valid request, else None


@pytest.fixture(scope="module")
def endpoint(demo) -> Iterator[LocalEndpoint]:
    with start_endpoint(demo.training.model_artifact, port=0) as running:
        yield running


@pytest.fixture(scope="module")
def port(endpoint: LocalEndpoint) -> int:
    return int(endpoint.url.rsplit(":", 1)[1])


@pytest.fixture(scope="module")
def reference(demo, tmp_path_factory: pytest.TempPathFactory) -> Reference:
    directory = tmp_path_factory.mktemp("reference-model")
    with tarfile.open(demo.training.model_artifact) as tar:
        tar.extractall(directory, filter="data")
    metadata = json.loads((directory / "metadata.json").read_text())
    return Reference(xgb.Booster(model_file=str(directory / "model.ubj")), metadata["threshold"])


def _request(
    port: int, method: str, path: str, body: bytes | None = None, headers: dict | None = None
) -> tuple[int, str, bytes]:
    """(status, content type, body) of one request on its own connection."""
    connection = http.client.HTTPConnection(HOST, port, timeout=60)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.getheader("content-type", ""), response.read()
    finally:
        connection.close()


# --- what clients send ------------------------------------------------------------------------


def _csv(rows: np.ndarray) -> bytes:
    """One line per row, exact float32 values; NaN (missing) as an empty field."""
    text = "".join(
        ",".join("" if math.isnan(v) else repr(v) for v in row.tolist()) + "\n" for row in rows
    )
    return text.encode()


def _json(rows: np.ndarray, shape: str) -> bytes:
    values = [[None if math.isnan(v) else v for v in row] for row in rows.tolist()]
    document = {"rows": values, "instances": {"instances": values}, "row": values[0]}[shape]
    return json.dumps(document).encode()


@st.composite
def encoded_rows(draw: st.DrawFn, width: st.SearchStrategy[int]) -> Case:
    """Rows of `width` values in one of the request encodings, labelled with its type."""
    count = draw(st.integers(1, 4))
    values = st.floats(-1e4, 1e4, width=32) | st.just(math.nan)
    rows = draw(arrays(np.float32, (count, draw(width)), elements=values))
    encoding = draw(st.sampled_from(["csv", "rows", "instances", "row", "npy32", "npy64F"]))
    if encoding == "row":
        rows = rows[:1]
    if encoding == "csv":
        body = _csv(rows)
    elif encoding.startswith("npy"):
        body = npy(rows if encoding == "npy32" else np.asfortranarray(rows, np.float64))
    else:
        body = _json(rows, encoding)
    media = {"c": CSV, "n": NPY}.get(encoding[0], JSON)
    content_type = draw(st.sampled_from([media, media.upper(), f"{media}; charset=utf-8"]))
    return Case(body, content_type, rows)


def _not_a_request(case: Case, content_type: str | None) -> Case:
    """The same body sent as `content_type`, not counted as a valid request."""
    return Case(case.body, content_type, None)


@st.composite
def damaged_npy(draw: st.DrawFn) -> bytes:
    dtype = draw(integer_dtypes(endianness="?") | floating_dtypes(endianness="?"))
    body = bytearray(npy(draw(arrays(dtype, array_shapes(min_dims=0, max_dims=3, max_side=4)))))
    changes = st.lists(st.tuples(st.integers(0, 160), st.integers(0, 255)), max_size=4)
    for position, value in draw(changes):
        body[position % len(body)] = value
    return bytes(body[: max(len(body) - draw(st.integers(0, 200)), 0)])


any_content_type = st.sampled_from([CSV, JSON, NPY, "application/xml", "text/plain", "", None])
cases = st.one_of(
    encoded_rows(st.just(FEATURES)),
    encoded_rows(st.integers(1, 2 * FEATURES).filter(lambda width: width != FEATURES)).map(
        lambda case: _not_a_request(case, case.content_type)
    ),
    st.builds(_not_a_request, encoded_rows(st.just(FEATURES)), any_content_type),
    st.builds(Case, st.binary(max_size=300), any_content_type, st.none()),
    st.builds(
        Case, json_documents.map(lambda doc: json.dumps(doc).encode()), st.just(JSON), st.none()
    ),
    st.builds(Case, damaged_npy(), st.just(NPY), st.none()),
    st.builds(
        Case,
        st.sampled_from(
            [npz(2, FEATURES), b"PK\x03\x04" + bytes(100), npy_declaring((10**9, FEATURES))]
        ),
        st.just(NPY),
        st.none(),
    ),
)
media_ranges = st.sampled_from(
    ["text/csv", "application/json", "text/*", "application/*", "*/*", "application/xml"]
)
q_values = st.sampled_from(["", ";q=0", ";q=0.3", ";q=0.8", "; q=1", ";q=7", ";Q=0.5"])
accept_headers = st.none() | st.lists(st.tuples(media_ranges, q_values), max_size=3).map(
    lambda ranges: ", ".join(media + q for media, q in ranges)
)


# --- what the answers must be -----------------------------------------------------------------


def _quality(accept: str | None, media: str) -> float:
    """How much `accept` wants `media` (RFC 9110 §12.5.1): the q of the most specific range that
    matches it, the first listed among equals; JSON when there is no header."""
    if not accept:
        return 1.0 if media == JSON else 0.5
    best = (-1, 0.0)  # (specificity, q)
    for entry in accept.split(","):
        name, *parameters = (part.strip().lower() for part in entry.split(";"))
        ranges = {media: 2, media.split("/")[0] + "/*": 1, "*/*": 0}
        quality = float(parameters[0][2:]) if parameters else 1.0
        if name in ranges and ranges[name] > best[0] and quality <= 1:
            best = (ranges[name], quality)
    return best[1]


def _predictions(content_type: str, body: bytes) -> tuple[np.ndarray, np.ndarray]:
    """(probabilities, labels) from an answer in either type."""
    if content_type.startswith(CSV):
        lines = [line.split(",") for line in body.decode().splitlines()]
        return np.array([float(p) for p, _ in lines]), np.array([int(y) for _, y in lines])
    predictions = json.loads(body)["predictions"]
    return (
        np.array([p["probability"] for p in predictions]),
        np.array([p["label"] for p in predictions]),
    )


def _check_answer(
    case: Case, accept: str | None, path: str, answer: tuple[int, str, bytes], model: Reference
) -> None:
    status, content_type, body = answer
    preference = {media: _quality(accept, media) for media in (JSON, CSV)}
    if case.rows is not None:
        not_acceptable = 406 if path == "/invocations" else 424  # ModelError, from a 406
        assert status == (200 if max(preference.values()) > 0 else not_acceptable), body
    assert status < 500, body
    if status >= 300:
        assert 400 <= status < 500 and body.strip(), body
        return
    media = content_type.split(";")[0]
    assert preference[media] == max(preference.values()) > 0, content_type
    probabilities, labels = _predictions(content_type, body)
    if case.rows is not None:
        expected = model.booster.inplace_predict(case.rows)
        np.testing.assert_allclose(probabilities, expected, rtol=1e-6)
        np.testing.assert_array_equal(labels, expected >= model.threshold)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(case=cases, accept=accept_headers, path=st.sampled_from(PATHS))
def test_any_request_gets_a_prediction_or_a_client_error(
    port: int, reference: Reference, case: Case, accept: str | None, path: str
) -> None:
    headers = {"Content-Type": case.content_type, "Accept": accept}
    sent = {name: value for name, value in headers.items() if value is not None}
    answer = _request(port, "POST", path, case.body, sent)
    _check_answer(case, accept, path, answer, reference)
    assert _request(port, "GET", "/ping")[0] == 200


# --- bodies over the limit --------------------------------------------------------------------


@contextlib.contextmanager
def _raw_connection(port: int) -> Iterator[socket.socket]:
    with socket.create_connection((HOST, port), timeout=60) as connection:
        yield connection


def _head(path: str, *headers: str) -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: test", "Content-Type: text/csv", *headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _status_of_answer(connection: socket.socket) -> int:
    """The status of the answer on a raw connection (waits for it, up to the socket timeout)."""
    return int(connection.recv(65536).split(b" ", 2)[1])


@pytest.mark.parametrize("path", PATHS)
def test_a_body_declared_too_large_is_refused_before_it_is_sent(port: int, path: str) -> None:
    with _raw_connection(port) as connection:
        connection.sendall(_head(path, f"Content-Length: {MAX_PAYLOAD_BYTES + 1}"))
        assert _status_of_answer(connection) == 413  # not one byte of the body was sent


@pytest.mark.parametrize("path", PATHS)
def test_a_chunked_body_is_refused_as_soon_as_it_passes_the_limit(port: int, path: str) -> None:
    chunk = b"0," * 32_768
    with _raw_connection(port) as connection:
        connection.sendall(_head(path, "Transfer-Encoding: chunked"))
        for _ in range(MAX_PAYLOAD_BYTES // len(chunk) + 1):
            connection.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        assert _status_of_answer(connection) == 413  # the last chunk was never sent


@pytest.mark.parametrize("framing", ["Content-Length", "Transfer-Encoding"])
def test_a_client_closing_after_the_answer_reads_the_413_too(port: int, framing: str) -> None:
    """Such a client (urllib is one) writes the whole body before reading anything."""
    body = b"0" * (MAX_PAYLOAD_BYTES + MiB)
    connection = http.client.HTTPConnection(HOST, port, timeout=60)
    try:
        connection.putrequest("POST", "/invocations")
        connection.putheader("Connection", "close")
        if framing == "Content-Length":
            connection.putheader("Content-Length", str(len(body)))
            connection.endheaders(body)
        else:
            connection.putheader("Transfer-Encoding", "chunked")
            connection.endheaders(io.BytesIO(body), encode_chunked=True)
        assert connection.getresponse().status == 413
    finally:
        connection.close()


def test_the_runtime_api_refuses_a_too_large_body_as_the_service_does(
    endpoint: LocalEndpoint, aws_env
) -> None:
    runtime = boto3.client("sagemaker-runtime", endpoint_url=endpoint.url)
    with pytest.raises(ClientError) as caught:
        runtime.invoke_endpoint(
            EndpointName="e", ContentType=CSV, Body=b"0" * (MAX_PAYLOAD_BYTES + 1)
        )
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 413
    assert caught.value.response["Error"] == {
        "Code": "413",
        "Message": f"HTTP content length exceeded {MAX_PAYLOAD_BYTES} bytes.",
    }


# --- the server process -----------------------------------------------------------------------


# `sagestack local serve` runs what `python -m sagestack.local.endpoint` runs; the module starts
# in a fifth of the time (the CLI imports every command), so most tests use it.
SERVE = (sys.executable, "-m", "sagestack.local.endpoint")
CLI_SERVE = (sys.executable, "-m", "sagestack.cli", "local", "serve")


def _command(*arguments: object) -> list[str]:
    return [str(argument) for argument in arguments]


@contextlib.contextmanager
def _serving(artifact: Path, log: Path, *options: str) -> Iterator[tuple[subprocess.Popen, int]]:
    """`sagestack local serve` in a child process, its stderr written to `log`."""
    with log.open("w") as stderr:
        child = subprocess.Popen(
            _command(*SERVE, artifact, "--port", 0, *options),
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
    try:
        line = child.stdout.readline()  # type: ignore[union-attr]
        assert line.startswith(READY_PREFIX), log.read_text()
        yield child, int(line.rsplit(":", 1)[1])
    finally:
        if child.poll() is None:
            child.kill()
        child.wait()
        child.stdout.close()  # type: ignore[union-attr]


def _start_upload(port: int) -> socket.socket:
    """A connection that announces a 1,000-byte body and sends 2 bytes of it, once a first
    request on it has been answered (so the server has surely accepted it)."""
    connection = socket.create_connection((HOST, port), timeout=60)
    connection.sendall(b"GET /ping HTTP/1.1\r\nHost: test\r\n\r\n")
    assert _status_of_answer(connection) == 200
    connection.sendall(_head("/invocations", "Content-Length: 1000") + b"ab")
    return connection


def _wait_until_refused(port: int) -> None:
    """Return once the server no longer accepts connections (it is stopping)."""
    for _ in range(600):
        try:
            socket.create_connection((HOST, port), timeout=1).close()
        except ConnectionRefusedError:
            return
        time.sleep(0.1)
    raise AssertionError(f"127.0.0.1:{port} still accepts connections")


@contextlib.contextmanager
def _serving_a_stalled_upload(
    artifact: Path, log: Path, grace_period: str
) -> Iterator[tuple[subprocess.Popen, int, socket.socket]]:
    """A served model, and a client stalled in the middle of an upload to it."""
    with contextlib.ExitStack() as stack:
        child, port = stack.enter_context(_serving(artifact, log, "--grace-period", grace_period))
        yield child, port, stack.enter_context(_start_upload(port))


def test_sigterm_stops_the_server_despite_a_stalled_upload(demo, tmp_path: Path) -> None:
    log = tmp_path / "stderr.log"
    with _serving_a_stalled_upload(demo.training.model_artifact, log, "1") as (child, _, stalled):
        child.send_signal(signal.SIGTERM)
        assert _status_of_answer(stalled) == 503  # when the grace period ends
        assert child.wait(timeout=60) == 0
    assert "Traceback" not in log.read_text()


def test_a_second_signal_stops_the_server_at_once(demo, tmp_path: Path) -> None:
    log = tmp_path / "stderr.log"
    artifact = demo.training.model_artifact
    with _serving_a_stalled_upload(artifact, log, "600") as (child, port, stalled):
        child.send_signal(signal.SIGINT)
        _wait_until_refused(port)  # the first signal is being handled
        child.send_signal(signal.SIGINT)
        assert child.wait(timeout=60) == 1  # nowhere near the 600 s grace period
        assert _status_of_answer(stalled) == 503
    stderr = log.read_text()
    assert "stopped without waiting for open requests" in stderr and "Traceback" not in stderr


def _bodies_to_refuse() -> list[tuple[bytes, str]]:
    """Bodies under the 6 MB limit that once cost the server seconds or a gigabyte."""
    return [
        (b"," * 5_000_000, CSV),
        (b"0" + b"\n" * (MAX_PAYLOAD_BYTES - 2), CSV),
        (b"[1" + b"0" * 400 + b"]", JSON),
        (b"[" * 5000 + b"]" * 5000, JSON),
        (b"[" + b"[]," * (MAX_PAYLOAD_BYTES // 3 - 2) + b"[]]", JSON),
        (npz(2, FEATURES), NPY),
        (npy_declaring((10**9, FEATURES)), NPY),
    ]


def _leave_mid_upload(port: int) -> None:
    with socket.create_connection((HOST, port), timeout=60) as connection:
        connection.sendall(_head("/invocations", "Content-Length: 1000") + b"ab")


def test_refused_requests_give_their_memory_back_and_log_no_traceback(demo, tmp_path: Path) -> None:
    rows = np.random.default_rng(0).normal(size=(20_000, FEATURES)).astype(np.float32)
    valid = ("\n".join(",".join(f"{v:.7g}" for v in row) for row in rows) + "\n").encode()
    assert len(valid) <= MAX_PAYLOAD_BYTES
    log = tmp_path / "stderr.log"
    with _serving(demo.training.model_artifact, log) as (child, port):
        server = psutil.Process(child.pid)
        for _ in range(3):  # what serving valid requests of any size keeps
            assert _request(port, "POST", "/invocations", valid, {"Content-Type": CSV})[0] == 200
        before = server.memory_info().rss
        for body, content_type in _bodies_to_refuse():
            status, _, answer = _request(
                port, "POST", "/invocations", body, {"Content-Type": content_type}
            )
            assert status == 400, answer
        for _ in range(3):
            _leave_mid_upload(port)
        grown = server.memory_info().rss - before
        assert _request(port, "GET", "/ping")[0] == 200
        child.send_signal(signal.SIGTERM)
        assert child.wait(timeout=60) == 0
    assert grown < 64 * MiB, f"{grown / MiB:.0f} MiB more after refusing bad requests"
    stderr = log.read_text()
    assert "Traceback" not in stderr and "Exception in ASGI application" not in stderr, stderr


def test_operator_errors_are_one_line_on_stderr(demo, tmp_path: Path) -> None:
    not_a_tarball = tmp_path / "model.tar.gz"
    not_a_tarball.write_text("not a tarball")
    with socket.socket() as busy:
        busy.bind((HOST, 0))
        busy.listen()
        port = busy.getsockname()[1]
        commands = {
            f"cannot listen on {HOST}:{port}: ": (
                *SERVE,
                demo.training.model_artifact,
                "--port",
                port,
            ),
            "does not exist; pass the model.tar.gz": (*CLI_SERVE, tmp_path / "missing.tar.gz"),
            "is not a tar archive; pass the model.tar.gz": (*SERVE, not_a_tarball),
        }
        children = {
            message: subprocess.Popen(
                _command(*command), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
            )
            for message, command in commands.items()
        }
        outcomes = {message: child.communicate(timeout=120) for message, child in children.items()}
    for message, (stdout, stderr) in outcomes.items():
        assert children[message].returncode == 1
        assert (stdout, len(stderr.splitlines())) == ("", 1), stderr
        assert stderr.startswith("sagestack: ") and message in stderr, stderr
