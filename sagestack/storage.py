"""Where a local run keeps its data: S3 (the embedded emulator's, or any endpoint) or a folder.

Both follow S3Prefix semantics as SageMaker applies them to inputs: every object whose key
starts with the prefix lands below the local directory, at its path after the prefix.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from ground.layout import split_s3_uri


class StorageError(Exception):
    """An S3 location is malformed or unreachable; the message names it."""


def split_uri(uri: str) -> tuple[str, str]:
    """(bucket, key) of an s3:// URI; StorageError naming it when it is not one."""
    try:
        return split_s3_uri(uri)
    except ValueError as error:
        raise StorageError(str(error)) from None


def relative_key(prefix: str, key: str) -> str:
    """Where `key` lands below the local directory of an input with this prefix."""
    if key == prefix:
        return key.rsplit("/", 1)[-1]
    rest = key[len(prefix) :]
    if prefix.endswith("/") or rest.startswith("/"):
        return rest.lstrip("/")
    return key[prefix.rfind("/") + 1 :]


class Storage(Protocol):
    def list_keys(self, uri: str) -> list[str]: ...

    def download(self, uri: str, destination: Path) -> list[Path]: ...

    def upload_file(self, path: Path, uri: str) -> None: ...

    def describe(self) -> str: ...


def upload_tree(storage: Storage, directory: Path, uri: str) -> None:
    """Every file under `directory` to `uri/<relative path>`."""
    base = uri.rstrip("/")
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        storage.upload_file(path, f"{base}/{path.relative_to(directory).as_posix()}")


class LocalStorage:
    """s3://bucket/key is the file <root>/bucket/key."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _path(self, uri: str) -> Path:
        bucket, key = split_uri(uri)
        return self.root / bucket / key

    def list_keys(self, uri: str) -> list[str]:
        bucket, prefix = split_uri(uri)
        bucket_dir = self.root / bucket
        if not bucket_dir.is_dir():
            return []
        keys = (p.relative_to(bucket_dir).as_posix() for p in bucket_dir.rglob("*") if p.is_file())
        return sorted(key for key in keys if key.startswith(prefix))

    def download(self, uri: str, destination: Path) -> list[Path]:
        bucket, prefix = split_uri(uri)
        placed = []
        for key in self.list_keys(uri):
            target = destination / relative_key(prefix, key)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes((self.root / bucket / key).read_bytes())
            placed.append(target)
        return placed

    def upload_file(self, path: Path, uri: str) -> None:
        target = self._path(uri)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(Path(path).read_bytes())

    def describe(self) -> str:
        return f"local folder {self.root}"


class S3Storage:
    """A boto3 S3 client; buckets missing on an emulator are created on first upload."""

    def __init__(self, client: Any, *, create_buckets: bool, label: str) -> None:
        self.client = client
        self.create_buckets = create_buckets
        self.label = label
        self._known: set[str] = set()

    def list_keys(self, uri: str) -> list[str]:
        bucket, prefix = split_uri(uri)
        paginator = self.client.get_paginator("list_objects_v2")
        try:
            pages = list(paginator.paginate(Bucket=bucket, Prefix=prefix))
        except self.client.exceptions.NoSuchBucket:
            return []
        return sorted(item["Key"] for page in pages for item in page.get("Contents", []))

    def download(self, uri: str, destination: Path) -> list[Path]:
        bucket, prefix = split_uri(uri)
        placed = []
        for key in self.list_keys(uri):
            target = destination / relative_key(prefix, key)
            target.parent.mkdir(parents=True, exist_ok=True)
            self.client.download_file(bucket, key, str(target))
            placed.append(target)
        return placed

    def upload_file(self, path: Path, uri: str) -> None:
        bucket, key = split_uri(uri)
        self._ensure_bucket(bucket)
        self.client.upload_file(str(path), bucket, key)

    def _ensure_bucket(self, bucket: str) -> None:
        if bucket in self._known or not self.create_buckets:
            return
        existing = {item["Name"] for item in self.client.list_buckets().get("Buckets", [])}
        if bucket not in existing:
            region = self.client.meta.region_name
            settings = (
                {}
                if region == "us-east-1"
                else {"CreateBucketConfiguration": {"LocationConstraint": region}}
            )
            self.client.create_bucket(Bucket=bucket, **settings)
        self._known.add(bucket)

    def describe(self) -> str:
        return self.label
