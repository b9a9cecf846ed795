"""Serve a model.tar.gz with inference.py on the SageMaker hosting contract, on 127.0.0.1.

Routes (Starlette on uvicorn):
  GET  /ping                                   200 once the model is loaded
  POST /invocations                            the container contract: 4xx answers carry the
                                               handler's status and message as text
  POST /endpoints/{name}/invocations           the SageMaker Runtime InvokeEndpoint API, so
                                               boto3's `invoke_endpoint` works unchanged
                                               (endpoint_url=<url>); handler errors come back
                                               as ModelError (424) with OriginalStatusCode and
                                               OriginalMessage, like the real service
  GET  /execution-parameters                   what batch transform asks the container
The handlers run in a worker thread; any exception becomes an answer, never a dead server.
Bodies over 6 MB get a 413 before they are read (from Content-Length) or as soon as a chunked
body passes the limit; the Runtime API answers them as the service does. Stopping (SIGINT or
SIGTERM) gives open requests a grace period, then answers them 503; a second signal stops at
once. Operator errors (a busy port, a missing or unreadable model) are EndpointErrors: one line.

`start_endpoint(...)` runs it in this process (a thread) or in a child process and returns a
LocalEndpoint with its URL and `stop()`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import traceback
import zlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from types import FrameType, ModuleType

import uvicorn
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sagestack.local import runtime_api
from sagestack.local.data_capture import CaptureConfig, CaptureWriter, writer_for
from sagestack.local.private_modules import import_private

# As in the SageMaker container: the handlers come from the model's own code/ folder.
PACKAGED_ENTRY_POINT = Path("code") / "inference.py"
MAX_PAYLOAD_BYTES = 6 * 1024 * 1024
TOO_LARGE = f"the body has more than {MAX_PAYLOAD_BYTES} bytes; the limit is 6 MB"
DISCARD_BEFORE_CLOSE_BYTES = 4 * MAX_PAYLOAD_BYTES  # see _read_body
HOST = "127.0.0.1"
STARTUP_TIMEOUT_SECONDS = 60
GRACE_PERIOD_SECONDS = 5.0
READY_PREFIX = "sagestack endpoint listening on "
USE_THE_TRAINING_OUTPUT = "pass the model.tar.gz a training job wrote"
logger = logging.getLogger("sagestack.endpoint")
# InvokeEndpoint's InferenceId member travels in this header (botocore's sagemaker-runtime
# model); data capture records it as eventMetadata.inferenceId, the ground-truth join key.
INFERENCE_ID_HEADER = "X-Amzn-SageMaker-Inference-Id"


class EndpointError(Exception):
    """Why the endpoint cannot serve, in one line naming the file or port and what to do."""


class _HandlerError(Exception):
    """An invocation answered with an error: its status and message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message

    def detached(self) -> _HandlerError:
        """The same error without traceback or cause, whose frames hold the request's data."""
        return _HandlerError(self.status, self.message)


class ModelServer:
    """The model and its handlers: model_fn once, then input_fn → predict_fn → output_fn."""

    def __init__(self, model_artifact: Path, entry_point: Path | None = None) -> None:
        self._model_dir = tempfile.TemporaryDirectory(prefix="sagestack-model-")
        artifact, directory = Path(model_artifact), Path(self._model_dir.name)
        try:
            _extract(artifact, directory)
            self._handlers = _import_handlers(_entry_point(artifact, entry_point, directory))
            self.model = _load_model(self._handlers, artifact, directory)
        except BaseException:
            self._model_dir.cleanup()
            raise

    def invoke(
        self, body: bytes, content_type: str | None, accept: str | None
    ) -> tuple[bytes, str]:
        """Run the handler chain; raises _HandlerError with the status to answer."""
        try:
            data = self._handlers.input_fn(body, content_type)
            prediction = self._handlers.predict_fn(data, self.model)
            result = self._handlers.output_fn(prediction, accept)
        except Exception as error:
            status = getattr(error, "status_code", None)
            if isinstance(status, int) and 400 <= status < 500:
                raise _HandlerError(status, getattr(error, "message", str(error))) from error
            logger.error("inference failed:\n%s", traceback.format_exc())
            raise _HandlerError(
                500, f"inference failed: {type(error).__name__}: {error}"
            ) from error
        payload, response_type = result if isinstance(result, tuple) else (result, accept)
        if isinstance(payload, str):
            payload = payload.encode("utf-8")
        return payload, response_type or "application/octet-stream"

    def close(self) -> None:
        self._model_dir.cleanup()


def _extract(artifact: Path, directory: Path) -> None:
    if not artifact.exists():
        raise EndpointError(f"model artifact {artifact} does not exist; {USE_THE_TRAINING_OUTPUT}")
    try:
        with tarfile.open(artifact) as tar:
            tar.extractall(directory, filter="data")
    except tarfile.ReadError:
        raise EndpointError(f"{artifact} is not a tar archive; {USE_THE_TRAINING_OUTPUT}") from None
    except (OSError, EOFError, zlib.error, tarfile.TarError) as error:
        raise EndpointError(
            f"cannot unpack {artifact}: {_one_line(error)}; {USE_THE_TRAINING_OUTPUT}"
        ) from None


def _entry_point(artifact: Path, given: Path | None, model_dir: Path) -> Path:
    """The inference script: the one given, else the model's own code/inference.py."""
    if given is None:
        if not (model_dir / PACKAGED_ENTRY_POINT).is_file():
            raise EndpointError(
                f"{artifact} holds no {PACKAGED_ENTRY_POINT}; pass --entry-point with the "
                "inference script"
            )
        return model_dir / PACKAGED_ENTRY_POINT
    if not Path(given).is_file():
        raise EndpointError(
            f"inference entry point {given} does not exist; pass the script that defines "
            "model_fn, input_fn, predict_fn and output_fn"
        )
    return Path(given)


def _import_handlers(entry_point: Path) -> ModuleType:
    """The entry point with its sibling modules (serving.py, problems.py), private to this
    model as they are to its container: another model's code in this process stays apart."""
    module = import_private(entry_point.parent, [entry_point.stem])[entry_point.stem]
    missing = [
        n for n in ("model_fn", "input_fn", "predict_fn", "output_fn") if not hasattr(module, n)
    ]
    if missing:
        raise EndpointError(f"{entry_point} lacks the handler functions {missing}")
    return module


def _load_model(handlers: ModuleType, artifact: Path, model_dir: Path) -> object:
    """model_fn on the extracted files. Missing or unreadable model files are operator errors;
    any other exception is a bug in the script and keeps its traceback."""
    try:
        return handlers.model_fn(str(model_dir))
    except (OSError, ValueError, KeyError) as error:
        raise EndpointError(
            f"model_fn cannot load the model in {artifact}: {_one_line(error)}; "
            f"{USE_THE_TRAINING_OUTPUT}"
        ) from error


def _one_line(error: BaseException) -> str:
    """The error's type and the first line of its message (tar and XGBoost write several)."""
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0]}" if lines else type(error).__name__


def create_app(
    server: ModelServer, endpoint_name: str | None = None, capture: CaptureWriter | None = None
) -> Starlette:
    """The hosting contract's routes and the Runtime API's; `endpoint_name`: the only name the
    Runtime path answers to (any, when None); `capture`: records answered requests."""

    async def ping(_: Request) -> Response:
        return Response(status_code=200)

    async def invocations(request: Request) -> Response:
        outcome = await _invoke(server, request, capture)
        if isinstance(outcome, _HandlerError):
            return Response(outcome.message + "\n", outcome.status, media_type="text/plain")
        body, media_type = outcome
        return Response(body, media_type=media_type)

    async def runtime_invoke(request: Request) -> Response:
        problems = runtime_api.validation_problems(request.path_params, request.headers)
        if problems:
            count = f"{len(problems)} validation error{'s' if len(problems) > 1 else ''}"
            return runtime_api.validation_error(f"{count} detected: {'; '.join(problems)}")
        name = request.path_params["EndpointName"]
        if endpoint_name is not None and name != endpoint_name:
            return runtime_api.endpoint_not_found(name)
        outcome = await _invoke(server, request, capture)
        if isinstance(outcome, _HandlerError):
            return _runtime_error(outcome)
        body, media_type = outcome
        headers = {"x-Amzn-Invoked-Production-Variant": "AllTraffic"}
        return Response(body, media_type=media_type, headers=headers)

    async def execution_parameters(_: Request) -> Response:
        return JSONResponse(
            {"MaxConcurrentTransforms": 1, "BatchStrategy": "MULTI_RECORD", "MaxPayloadInMB": 6}
        )

    return Starlette(
        routes=[
            Route("/ping", ping, methods=["GET"]),
            Route("/invocations", invocations, methods=["POST"]),
            Route("/endpoints/{EndpointName}/invocations", runtime_invoke, methods=["POST"]),
            Route("/execution-parameters", execution_parameters, methods=["GET"]),
        ]
    )


async def _invoke(
    server: ModelServer, request: Request, capture: CaptureWriter | None
) -> tuple[bytes, str] | _HandlerError:
    """The handlers' answer, or the error to answer with, as a value: an exception raised
    through the worker thread forms a reference cycle with anyio's future, and its traceback
    would keep the request's data (the body, the decoded rows) until a full garbage collection.
    """
    try:
        body = await _read_body(request)
        return await run_in_threadpool(
            _answer,
            server,
            body,
            request.headers.get("content-type"),
            request.headers.get("accept"),
            _Capture(capture, request.headers.get(INFERENCE_ID_HEADER)) if capture else None,
        )
    except _HandlerError as error:
        return error.detached()
    except ClientDisconnect:
        # Nobody reads this answer; giving one keeps uvicorn from logging a traceback.
        return _HandlerError(400, "the client left before sending the whole body")
    except asyncio.CancelledError:
        # uvicorn cancels the requests still open when the shutdown grace period ends.
        return _HandlerError(503, "the endpoint is shutting down; send the request again")


@dataclass(frozen=True)
class _Capture:
    writer: CaptureWriter
    inference_id: str | None


def _answer(
    server: ModelServer,
    body: bytes,
    content_type: str | None,
    accept: str | None,
    capture: _Capture | None = None,
) -> tuple[bytes, str] | _HandlerError:
    """server.invoke, run in the worker thread; its error is returned, detached. An answered
    request is captured before the answer goes out (as SageMaker does, a capture that cannot be
    written does not fail the request: it is logged)."""
    try:
        answer, media_type = server.invoke(body, content_type, accept)
    except _HandlerError as error:
        return error.detached()
    if capture is not None:
        try:
            capture.writer.record(body, content_type, answer, media_type, capture.inference_id)
        except Exception as error:  # the emulator's S3 gone: the client still gets its answer
            logger.warning("data capture failed: %s", _one_line(error))
    return answer, media_type


async def _read_body(request: Request) -> bytes:
    """The body, refused with 413 as soon as it is known to be too large: from Content-Length
    before any of it is read, or once a chunked body passes the limit. Nothing more is kept.

    After the 413, uvicorn drops whatever the client still sends, so that it gets to read the
    answer, unless the client asked to close the connection: then uvicorn closes it at once
    and a client still writing gets a reset instead. For those clients the rest of the body is
    read and dropped first, up to a bound, as nginx's lingering close does.
    """
    async with contextlib.aclosing(request.stream()) as stream:
        if int(request.headers.get("content-length", 0)) <= MAX_PAYLOAD_BYTES:
            body = await _read_up_to(stream, MAX_PAYLOAD_BYTES)
            if body is not None:
                return body
        if _closes_on_answer(request):
            await _read_up_to(stream, DISCARD_BEFORE_CLOSE_BYTES, keep=False)
    raise _HandlerError(413, TOO_LARGE)


async def _read_up_to(stream: AsyncIterator[bytes], limit: int, keep: bool = True) -> bytes | None:
    """The rest of the body, or None as soon as it passes `limit` bytes (`keep=False`: read
    and drop it)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in stream:
        size += len(chunk)
        if size > limit:
            return None
        if keep:
            chunks.append(chunk)
    return b"".join(chunks)


def _closes_on_answer(request: Request) -> bool:
    """Whether the client asked to close after the answer and writes its body without first
    waiting for a 100 Continue (reading the body would invite it to send)."""
    asked = "close" in request.headers.get("connection", "").lower()
    return asked and "expect" not in request.headers


def _runtime_error(error: _HandlerError) -> Response:
    """A failed invocation as the Runtime API answers it."""
    if error.status == 413:
        # The service's front end refuses such bodies itself: status 413 with a message and no
        # error type, which botocore raises as a ClientError whose code is "413".
        return JSONResponse(
            {"message": f"HTTP content length exceeded {MAX_PAYLOAD_BYTES} bytes."}, 413
        )
    kind = "client" if error.status < 500 else "server"
    return JSONResponse(
        {
            "message": f"Received {kind} error ({error.status}) from primary with message "
            f'"{error.message}".',
            "OriginalStatusCode": error.status,
            "OriginalMessage": error.message,
        },
        status_code=424,
        headers={"x-amzn-ErrorType": "ModelError"},
    )


@dataclass
class LocalEndpoint:
    """A running local endpoint: its base URL, and how to stop it."""

    url: str
    _stop: Callable[[], None]

    def stop(self) -> None:
        self._stop()

    def __enter__(self) -> LocalEndpoint:
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()


def start_endpoint(
    model_artifact: Path,
    *,
    entry_point: Path | None = None,
    port: int = 0,
    in_process: bool = True,
    endpoint_name: str | None = None,
    capture: CaptureConfig | None = None,
) -> LocalEndpoint:
    """Serve on 127.0.0.1:`port` (0: a free one) in a thread, or in a child process;
    `endpoint_name`: the only name the Runtime API path answers to; `capture`: the deployed
    endpoint config's data capture."""
    if in_process:
        serving = _Serving(
            Path(model_artifact), entry_point, port, GRACE_PERIOD_SECONDS, endpoint_name, capture
        )
        return LocalEndpoint(serving.url, serving.stop)
    return _start_child(Path(model_artifact), entry_point, port, endpoint_name, capture)


class _Serving:
    """uvicorn serving a ModelServer in a daemon thread of this process."""

    def __init__(
        self,
        model_artifact: Path,
        entry_point: Path | None,
        port: int,
        grace_period: float,
        endpoint_name: str | None = None,
        capture: CaptureConfig | None = None,
    ) -> None:
        listener = _listen(port)  # first, so that a busy port is found before the model loads
        try:
            self._server = ModelServer(model_artifact, entry_point)
        except BaseException:
            listener.close()
            raise
        self.url = f"http://{HOST}:{listener.getsockname()[1]}"
        config = uvicorn.Config(
            create_app(self._server, endpoint_name, writer_for(capture) if capture else None),
            log_level="warning",
            lifespan="off",  # no startup/shutdown hooks; a forced stop would cancel its task
            timeout_graceful_shutdown=grace_period,  # type: ignore[arg-type]  # int in its hints
        )
        self._http = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._http.run, args=([listener],), name="sagestack-endpoint", daemon=True
        )
        self._thread.start()
        while not self._http.started:
            if not self._thread.is_alive():
                listener.close()
                self._server.close()
                raise RuntimeError(f"the endpoint could not start on {self.url} (see the log)")
            time.sleep(0.02)

    def stop(self) -> None:
        """Stop accepting, give open requests the grace period, then answer them 503."""
        self._http.should_exit = True
        self._thread.join()
        self._server.close()

    def force(self) -> None:
        """Make a stop() under way end now, without waiting for open requests."""
        self._http.force_exit = True


def _listen(port: int) -> socket.socket:
    """A socket bound to HOST:port for uvicorn to serve on; binding it here makes a busy port
    an EndpointError rather than uvicorn's log line and exit."""
    # IPPROTO_TCP, not the default 0: asyncio sets TCP_NODELAY only on connections accepted
    # from a socket that says it is TCP, and without it every answer waits for a delayed ACK.
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    if os.name == "posix":  # as asyncio's create_server does; on Windows it would share ports
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((HOST, port))
    except OSError as error:
        listener.close()
        raise EndpointError(
            f"cannot listen on {HOST}:{port}: {error.strerror}; stop what uses the port or "
            "choose another --port (0: any free port)"
        ) from None
    return listener


def _start_child(
    model_artifact: Path,
    entry_point: Path | None,
    port: int,
    endpoint_name: str | None,
    capture: CaptureConfig | None,
) -> LocalEndpoint:
    command = [sys.executable, "-m", "sagestack.local.endpoint", str(model_artifact)]
    if entry_point is not None:
        command += ["--entry-point", str(entry_point)]
    if endpoint_name is not None:
        command += ["--endpoint-name", endpoint_name]
    if capture is not None:
        command += ["--data-capture", capture.to_json()]
    command += ["--port", str(port)]
    child = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    line = child.stdout.readline()  # type: ignore[union-attr]
    if not line.startswith(READY_PREFIX):
        child.kill()
        child.wait()
        raise RuntimeError(f"the endpoint process did not start (exit code {child.returncode})")

    def stop() -> None:
        child.terminate()
        try:
            child.wait(STARTUP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()

    return LocalEndpoint(line[len(READY_PREFIX) :].strip(), stop)


def serve_forever(
    model_artifact: Path,
    entry_point: Path | None,
    port: int,
    grace_period: float,
    endpoint_name: str | None = None,
    capture: CaptureConfig | None = None,
) -> bool:
    """Serve until SIGINT or SIGTERM, then stop within the grace period; a second signal stops
    at once. Prints the URL once listening; returns whether the stop was forced."""
    received: list[int] = []
    stopping = threading.Event()
    serving: _Serving | None = None

    def on_signal(signum: int, _: FrameType | None) -> None:
        received.append(signum)
        if len(received) > 1 and serving is not None:
            serving.force()
        stopping.set()

    for signum in (signal.SIGINT, signal.SIGTERM):  # before the URL is out: it invites signals
        signal.signal(signum, on_signal)
    serving = _Serving(model_artifact, entry_point, port, grace_period, endpoint_name, capture)
    print(READY_PREFIX + serving.url, flush=True)
    stopping.wait()
    print(
        f"sagestack: stopping; open requests get {grace_period:g} s (signal again to stop now)",
        file=sys.stderr,
        flush=True,
    )
    serving.stop()
    return len(received) > 1


def serve_command(args: argparse.Namespace) -> int:
    """`sagestack local serve`: serve until stopped; operator errors are one line on stderr."""
    if args.model is None:
        print("sagestack: give the model.tar.gz to serve", file=sys.stderr)
        return 1
    try:
        forced = serve_forever(
            args.model,
            args.entry_point,
            args.port,
            args.grace_period,
            args.endpoint_name,
            args.data_capture,
        )
    except EndpointError as error:
        print(f"sagestack: {error}", file=sys.stderr)
        return 1
    if forced:
        print("sagestack: stopped without waiting for open requests", file=sys.stderr)
    return int(forced)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "model", type=Path, nargs="?", help="model.tar.gz written by a training job"
    )
    parser.add_argument(
        "--entry-point",
        type=Path,
        default=None,
        help="the inference script with model_fn/input_fn/predict_fn/output_fn "
        "(default: code/inference.py inside the model, as SageMaker runs it)",
    )
    parser.add_argument("--port", type=int, default=8080, help="port on 127.0.0.1 (0: any free)")
    parser.add_argument(
        "--endpoint-name",
        metavar="NAME",
        help="answer the Runtime API (/endpoints/NAME/invocations) for this endpoint only, as "
        "SageMaker does (default: any name)",
    )
    parser.add_argument(
        "--data-capture",
        type=CaptureConfig.from_json,
        metavar="JSON",
        help="capture requests and answers as this data capture config says (set by `--model`, "
        "from the deployed endpoint config)",
    )
    parser.add_argument(
        "--grace-period",
        type=float,
        default=GRACE_PERIOD_SECONDS,
        metavar="SECONDS",
        help="how long open requests may run on after SIGINT/SIGTERM (default %(default)g); "
        "a second signal stops at once",
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sagestack.local.endpoint")
    add_arguments(parser)
    return serve_command(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
