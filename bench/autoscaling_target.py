"""Derive the autoscaling target (invocations per instance per minute) from local throughput.

Serves a staging-sized model (staging's hyperparameters, every round, 30 features) with
training_code/inference.py behind the local endpoint (sagestack.local.endpoint, one server
process) and sends it real-time-shaped requests (one CSV row; ten rows for comparison) one
after another over a keep-alive connection. The handler chain alone (input_fn, predict_fn,
output_fn) is timed too, to show how much of a request is HTTP and server. Then:

    requests/s per worker   = 1 / median seconds per HTTP request
    requests/s per instance = requests/s per worker x vCPUs (the XGBoost serving container
                              runs one model-server worker per vCPU)
    target per minute       = requests/s per instance x 60 x SAFETY_FACTOR

SAFETY_FACTOR = 0.5 follows AWS's load-testing guidance for SageMakerVariantInvocationsPerInstance
and covers what this bench does not see: SageMaker's own front end (OverheadLatency), a slower
or busier CPU than this machine's, and the traffic that keeps arriving during a scale-out.

Run `python bench/autoscaling_target.py`; record the result in bench/README.md and in the
AutoscalingConfig default (ground/config/serving.py).
"""

from __future__ import annotations

import http.client
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_models import (
    INFERENCE_SCRIPT,
    configured_size,
    csv_body,
    inference,
    pack_model,
    train_model,
)

from sagestack.local.endpoint import start_endpoint

SAFETY_FACTOR = 0.5
FEATURES = 30
TRAINING_ROWS = 5000
WARMUP, REQUESTS = 200, 2000
VCPUS = {"ml.m5.large": 2, "ml.m5.xlarge": 4}


def staging_sized_model(directory: Path) -> tuple[Path, inference.Model]:
    """Train like staging would and pack model.tar.gz as train.py does (model.ubj, metadata)."""
    model_dir = directory / "model"
    model_dir.mkdir()
    model = train_model(model_dir, FEATURES, configured_size("staging"), rows=TRAINING_ROWS)
    return pack_model(model_dir, directory / "model.tar.gz"), model


def median_seconds(call: Callable[[], None]) -> float:
    for _ in range(WARMUP):
        call()
    times = []
    for _ in range(REQUESTS):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def handler_chain(model: inference.Model, body: bytes) -> Callable[[], None]:
    def call() -> None:
        rows = inference.input_fn(body, "text/csv")
        inference.output_fn(inference.predict_fn(rows, model), "text/csv")

    return call


def http_request(connection: http.client.HTTPConnection, body: bytes) -> Callable[[], None]:
    headers = {"Content-Type": "text/csv", "Accept": "text/csv"}

    def call() -> None:
        connection.request("POST", "/invocations", body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        if response.status != 200:
            raise RuntimeError(f"the endpoint answered {response.status}")

    return call


def request_body(rows: int) -> bytes:
    return csv_body(np.random.default_rng(rows).standard_normal((rows, FEATURES)))


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        artifact, model = staging_sized_model(Path(scratch))
        rounds = model.booster.num_boosted_rounds()
        print(f"machine: {platform.machine()}, Python {platform.python_version()}")
        print(f"model: {rounds} rounds, {FEATURES} features; safety factor {SAFETY_FACTOR}")
        with start_endpoint(artifact, entry_point=INFERENCE_SCRIPT, in_process=False) as endpoint:
            address = urlsplit(endpoint.url)
            connection = http.client.HTTPConnection(address.hostname, address.port)
            for rows in (1, 10):
                body = request_body(rows)
                chain = median_seconds(handler_chain(model, body))
                request = median_seconds(http_request(connection, body))
                per_worker = 1 / request
                print(
                    f"\n{rows} row(s)/request: handler chain {chain * 1e3:.3f} ms, HTTP request "
                    f"{request * 1e3:.3f} ms -> {per_worker:,.0f} requests/s per worker"
                )
                for instance, vcpus in VCPUS.items():
                    target = per_worker * vcpus * 60 * SAFETY_FACTOR
                    print(f"  {instance:13} {vcpus} vCPUs: target {target:,.0f} invocations/min")
            connection.close()


if __name__ == "__main__":
    main()
