"""What refusing bad requests costs the local endpoint: its CPU time and resident memory.

The endpoint (sagestack.local.endpoint with training_code/inference.py, the small model of
bench_models.py: 100 trees, 50 features) runs in a child process. After a warm-up of valid
single-row requests, it gets each body below three times in a row, in the order listed, each
on a new connection; the table gives the answer, the server's CPU seconds per request (user +
system, all its threads; the median of the three) and its resident set size after the first
and the third, relative to the one after warm-up (what the allocators keep for reuse shows
there; what piles up would show as growth from the first to the third). The last two lines
are valid requests, a 6 MB one for comparison. Linux or macOS (psutil reads the child).

    .venv/bin/python bench/bad_requests.py [--only TEXT]
"""

from __future__ import annotations

import argparse
import http.client
import io
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_models import INFERENCE_SCRIPT, csv_body, feature_rows, pack_model, train_model

from sagestack.local.endpoint import MAX_PAYLOAD_BYTES, READY_PREFIX

FEATURES = 50
CSV, JSON, NPY = "text/csv", "application/json", "application/x-npy"


def _npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def _npz() -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, rows=np.zeros((2, FEATURES)))
    return buffer.getvalue()


def _npy_declaring(shape: tuple[int, ...]) -> bytes:
    """A .npy header declaring `shape` of float64, followed by 64 bytes of data only."""
    buffer = io.BytesIO()
    header = {"descr": "<f8", "fortran_order": False, "shape": shape}
    np.lib.format.write_array_header_1_0(buffer, header)
    return buffer.getvalue() + bytes(64)


def bad_bodies(valid_row: bytes) -> dict[str, tuple[bytes, str]]:
    """Bodies under the 6 MB limit (but the last two) that a server must refuse cheaply."""
    limit = MAX_PAYLOAD_BYTES
    empty_row = b"," * (FEATURES - 1) + b"\n"
    return {
        "text/csv: 5,000,000 commas": (b"," * 5_000_000, CSV),
        "text/csv: one value, then 6 MB of newlines": (b"0" + b"\n" * (limit - 2), CSV),
        "text/csv: a valid row, then a 6 MB row": (valid_row + b"0," * (limit // 2 - 300), CSV),
        "text/csv: 6 MB of empty rows, then 'x'": (
            empty_row * (limit // FEATURES - 1) + b"x" + empty_row,
            CSV,
        ),
        "application/json: a 400-digit integer": (b"[1" + b"0" * 400 + b"]", JSON),
        "application/json: 5,000-deep lists": (b"[" * 5000 + b"]" * 5000, JSON),
        "application/json: 5,000-deep objects": (b'{"a":' * 5000 + b"1" + b"}" * 5000, JSON),
        "application/json: 6 MB of empty rows": (b"[" + b"[]," * (limit // 3 - 2) + b"[]]", JSON),
        "application/x-npy: an np.savez file": (_npz(), NPY),
        "application/x-npy: PK\\x03\\x04 and zeros": (b"PK\x03\x04" + bytes(1000), NPY),
        "application/x-npy: header of shape (1000000000, 30)": (
            _npy_declaring((1_000_000_000, 30)),
            NPY,
        ),
        "application/x-npy: 6 MB of float64 in 1 column": (
            _npy(np.zeros((limit // 8 - 16, 1))),
            NPY,
        ),
        "text/csv: 6 MB + 1 byte": (b"0" * (limit + 1), CSV),
        "text/csv: 20 MB": (b"0" * (20 * 1024 * 1024), CSV),
    }


@contextmanager
def serving(artifact: Path) -> Iterator[tuple[psutil.Process, int]]:
    command = [sys.executable, "-m", "sagestack.local.endpoint", str(artifact)]
    command += ["--entry-point", str(INFERENCE_SCRIPT), "--port", "0"]
    child = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        line = child.stdout.readline()  # type: ignore[union-attr]
        if not line.startswith(READY_PREFIX):
            raise SystemExit("the endpoint did not start")
        yield psutil.Process(child.pid), int(line.rsplit(":", 1)[1])
    finally:
        child.terminate()
        child.wait()


def post(port: int, body: bytes, content_type: str) -> tuple[int, str]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    try:
        connection.request("POST", "/invocations", body, {"Content-Type": content_type})
        response = connection.getresponse()
        return response.status, response.read().decode(errors="replace").strip()
    except OSError as error:
        return 0, f"{type(error).__name__}: {error}"
    finally:
        connection.close()


def cpu_seconds(server: psutil.Process) -> float:
    times = server.cpu_times()
    return times.user + times.system


def measure(server: psutil.Process, port: int, body: bytes, content_type: str) -> tuple:
    """(answer, median CPU seconds, RSS after the first and after the third request)."""
    spent, sizes = [], []
    for _ in range(3):
        before = cpu_seconds(server)
        status, message = post(port, body, content_type)
        spent.append(cpu_seconds(server) - before)
        sizes.append(server.memory_info().rss)
    return f"{status} {message[:60]}", statistics.median(spent), sizes[0], sizes[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--only", default="", help="only the bodies whose name holds this text")
    args = parser.parse_args()
    valid_row = csv_body(feature_rows(1, FEATURES))
    requests = {
        **bad_bodies(valid_row),
        "text/csv: one valid row": (valid_row, CSV),
        "text/csv: 12,000 valid rows (6.1 MB)": (csv_body(feature_rows(12_000, FEATURES)), CSV),
    }
    with tempfile.TemporaryDirectory() as scratch:
        model_dir = Path(scratch) / "model"
        model_dir.mkdir()
        train_model(model_dir, FEATURES)
        artifact = pack_model(model_dir, Path(scratch) / "model.tar.gz")
        with serving(artifact) as (server, port):
            for _ in range(args.warmup):
                post(port, valid_row, CSV)
            baseline = server.memory_info().rss
            print(f"RSS after warm-up: {baseline / 2**20:,.0f} MiB")
            print("| body | answer | server CPU per request | RSS after 1st / 3rd, vs warm-up |")
            print("|---|---|---|---|")
            for name, (body, content_type) in requests.items():
                if args.only not in name:
                    continue
                answer, spent, first, third = measure(server, port, body, content_type)
                answer = answer.replace("|", "\\|")
                print(
                    f"| {name} | {answer} | {spent:.2f} s | {(first - baseline) / 2**20:+,.0f} / "
                    f"{(third - baseline) / 2**20:+,.0f} MiB |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
