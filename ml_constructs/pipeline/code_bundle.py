"""The training code as SageMaker script mode wants it: a reproducible `sourcedir.tar.gz`.

A CDK directory asset is a zip, which the framework containers do not unpack, so the
tarball is built here, one per model family (ground.container.family_code says what goes in):
sorted entries, fixed owner, mode and mtime, gzip without a name or timestamp. The same
sources always give the same bytes, hence the same asset hash.
"""

from __future__ import annotations

import gzip
import io
import os
import tarfile
import tempfile
from collections.abc import Mapping
from pathlib import Path


class CodeBundleError(Exception):
    """The training code is missing or malformed; the message names the file."""


def tarball_bytes(files: Mapping[str, Path]) -> bytes:
    """The deterministic gzipped tar of `files` (archive name -> file on disk)."""
    if not files:
        raise CodeBundleError("no training code files to bundle")
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for name in sorted(files):
            data = files[name].read_bytes()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            info.mtime = 0
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            archive.addfile(info, io.BytesIO(data))
    packed = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=packed, mtime=0, compresslevel=9) as gz:
        gz.write(raw.getvalue())
    return packed.getvalue()


def build_sourcedir(files: Mapping[str, Path], destination: Path) -> Path:
    """Write `destination` (e.g. build/sourcedir-xgboost.tar.gz) unless it holds these bytes."""
    data = tarball_bytes(files)
    if not (destination.exists() and destination.read_bytes() == data):
        destination.parent.mkdir(parents=True, exist_ok=True)
        handle, staging = tempfile.mkstemp(dir=destination.parent, prefix=".sourcedir-")
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        Path(staging).replace(destination)
    return destination
