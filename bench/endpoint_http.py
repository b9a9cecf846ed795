"""Local endpoint over HTTP on loopback: single-row latency and 1,000-row batch throughput.

The endpoint (sagestack.local.endpoint: uvicorn + Starlette + inference.py) runs in a child
process; this process is the client, one keep-alive connection (http.client), requests one
after another to POST /invocations with a text/csv body and Accept text/csv. Model: the small
one of bench_models.py (100 trees of depth 6, 50 features).

    .venv/bin/python bench/endpoint_http.py [--requests 2000]
"""

from __future__ import annotations

import argparse
import http.client
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_models import INFERENCE_SCRIPT, csv_body, feature_rows, pack_model, train_model

from sagestack.local.endpoint import start_endpoint


def timed_requests(url: str, body: bytes, count: int, warmup: int) -> list[float]:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port)
    headers = {"Content-Type": "text/csv", "Accept": "text/csv"}
    timings = []
    for index in range(warmup + count):
        start = time.perf_counter()
        connection.request("POST", "/invocations", body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        if response.status != 200:
            raise SystemExit(f"request failed with {response.status}")
        if index >= warmup:
            timings.append(time.perf_counter() - start)
    connection.close()
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--batch-requests", type=int, default=100)
    args = parser.parse_args()
    rows = feature_rows(1000, 50)
    bodies = {count: csv_body(rows[:count]) for count in (1, 1000)}
    with tempfile.TemporaryDirectory() as scratch:
        model_dir = Path(scratch) / "model"
        model_dir.mkdir()
        train_model(model_dir, 50)
        artifact = pack_model(model_dir, Path(scratch) / "model.tar.gz")
        with start_endpoint(artifact, entry_point=INFERENCE_SCRIPT, in_process=False) as endpoint:
            single = timed_requests(endpoint.url, bodies[1], args.requests, 200)
            batch = timed_requests(endpoint.url, bodies[1000], args.batch_requests, 10)
    quantiles = statistics.quantiles(single, n=100)
    print("| single row: p50 | p99 | 1,000-row batch: median | rows/s |")
    print("|---|---|---|---|")
    print(
        f"| {statistics.median(single) * 1e3:.2f} ms | {quantiles[98] * 1e3:.2f} ms "
        f"| {statistics.median(batch) * 1e3:.1f} ms | {1000 / statistics.median(batch):,.0f} |"
    )
    print(f"({args.requests} single-row and {args.batch_requests} batch requests after warm-up)")


if __name__ == "__main__":
    main()
