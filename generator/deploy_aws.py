"""The deploy's AWS side: targets, clients, the bucket, the distribution, and errors in one line."""
from __future__ import annotations

import base64
import hashlib
import os
import uuid
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any

import botocore.session
from botocore.config import Config
from botocore.exceptions import (
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
)

from generator.config import Deploy
from generator.deploy_plan import LocalFile, RemoteObject, needs_head

DELETE_BATCH = 1000   # S3's DeleteObjects limit
_loader: Any = None   # botocore's parsed endpoint and service data, shared by the sessions of this process


class DeployError(Exception):
    """One line: what failed and, once publishing started, that the live site is still whole."""


@dataclass(frozen=True)
class Targets:
    """Where a deploy goes: the bucket, the distribution (optional), the table, the region and endpoint."""

    bucket: str
    distribution_id: str
    table: str
    region: str
    endpoint: str | None = None

    @classmethod
    def resolve(cls, configured: Deploy | None, environ: Mapping[str, str] = os.environ) -> Targets:
        """site.yaml's ``deploy:`` section, each value overridden by its environment variable."""
        base = configured or Deploy("", "", "chuchuang", "chuchuang-handoff", "us-east-1")
        return cls(bucket=environ.get("CHUCHUANG_BUCKET") or base.bucket,
                   distribution_id=environ.get("CHUCHUANG_DISTRIBUTION_ID") or base.distribution_id,
                   table=environ.get("CHUCHUANG_TABLE") or base.table,
                   region=environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION") or base.region,
                   endpoint=environ.get("AWS_ENDPOINT_URL") or None)


@dataclass
class Progress:
    """Uploads done so far, so a failing step can say how far the deploy got."""

    uploaded: int = 0


def client(service: str, targets: Targets, jobs: int) -> Any:
    """A botocore client (the endpoint comes from AWS_ENDPOINT_URL, as boto3's would)."""
    global _loader
    options: dict[str, Any] = {}
    if targets.endpoint and service == "s3":
        options["s3"] = {"addressing_style": "path"}   # S3-compatible local endpoints have no bucket DNS names
    config = Config(connect_timeout=5, read_timeout=60, max_pool_connections=max(10, jobs * 2),
                    retries={"max_attempts": 3, "mode": "standard"}, **options)
    session = botocore.session.get_session()
    if _loader is None:
        _loader = session.get_component("data_loader")
    else:
        session.register_component("data_loader", _loader)
    return session.create_client(service, region_name=targets.region, config=config)


def read_bucket(s3: Any, bucket: str, local: dict[str, LocalFile], jobs: int) -> dict[str, RemoteObject]:
    """The bucket's objects; those that could be unchanged are looked at (HEAD) for their hash and headers."""
    remote: dict[str, RemoteObject] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for obj in page.get("Contents", []):
            remote[obj["Key"]] = RemoteObject(obj["Key"], obj["Size"], obj["ETag"].strip('"'))
    look = [key for key, obj in remote.items() if key in local and needs_head(local[key], obj)]

    def head(key: str) -> RemoteObject | None:
        try:
            answer = s3.head_object(Bucket=bucket, Key=key)
        except ClientError as err:
            if err.response["Error"]["Code"] in ("404", "NoSuchKey"):
                return None   # deleted since the listing
            raise
        return RemoteObject(key, answer["ContentLength"], answer["ETag"].strip('"'),
                            answer.get("Metadata", {}).get("sha256"), answer.get("ContentType"),
                            answer.get("CacheControl"))

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        for key, found in zip(look, pool.map(head, look), strict=True):
            if found is None:
                del remote[key]
            else:
                remote[key] = found
    return remote


def _upload(s3: Any, bucket: str, f: LocalFile) -> None:
    data = f.path.read_bytes()
    if hashlib.sha256(data).hexdigest() != f.sha256:
        raise DeployError(f"{f.key} changed while deploying")
    s3.put_object(Bucket=bucket, Key=f.key, Body=data, ContentType=f.content_type, CacheControl=f.cache_control,
                  ContentMD5=base64.b64encode(bytes.fromhex(f.md5)).decode(), Metadata={"sha256": f.sha256})


def put_all(s3: Any, bucket: str, files: tuple[LocalFile, ...], jobs: int, progress: Progress) -> None:
    """Upload ``files`` in parallel; the first failure cancels what has not started and is raised."""
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = {pool.submit(_upload, s3, bucket, f): f for f in files}
        try:
            for future in as_completed(futures):
                future.result()
                progress.uploaded += 1
        except BaseException:
            for future in futures:
                future.cancel()
            raise


def delete_all(s3: Any, bucket: str, keys: tuple[str, ...]) -> None:
    """Delete ``keys`` in batches of 1,000; a key S3 refuses to delete stops the deploy."""
    for start in range(0, len(keys), DELETE_BATCH):
        batch = keys[start:start + DELETE_BATCH]
        answer = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in batch], "Quiet": True})
        if answer.get("Errors"):
            first = answer["Errors"][0]
            raise DeployError(f"S3 refused to delete {first.get('Key')}: {first.get('Message') or first.get('Code')}")


def invalidate(cloudfront: Any, distribution_id: str, paths: tuple[str, ...]) -> str:
    """Start one invalidation of ``paths``; its id (it completes on its own within minutes)."""
    answer = cloudfront.create_invalidation(DistributionId=distribution_id, InvalidationBatch={
        "Paths": {"Quantity": len(paths), "Items": list(paths)},
        "CallerReference": f"chuchuang-{uuid.uuid4().hex}"})
    return answer["Invalidation"]["Id"]


def explain(exc: BaseException, targets: Targets) -> str:
    """An AWS exception as the one thing the operator needs to know."""
    where = f" at {targets.endpoint}" if targets.endpoint else ""
    if isinstance(exc, (NoCredentialsError, PartialCredentialsError)):
        return ("no AWS credentials found (configure a profile, export AWS_ACCESS_KEY_ID and "
                "AWS_SECRET_ACCESS_KEY, or assume the deploy role in CI)")
    if isinstance(exc, NoRegionError):
        return "no AWS region (set AWS_REGION or deploy.region in site.yaml)"
    if isinstance(exc, EndpointConnectionError):
        return f"cannot reach AWS{where}: {exc}"
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code, message = error.get("Code", ""), error.get("Message", "")
        if code == "NoSuchBucket":
            return f"bucket {targets.bucket} does not exist{where}"
        if code == "ResourceNotFoundException":
            return f"table {targets.table} does not exist{where}"
        if code == "NoSuchDistribution":
            return f"distribution {targets.distribution_id} does not exist"
        if code in ("InvalidAccessKeyId", "InvalidClientTokenId", "SignatureDoesNotMatch", "ExpiredToken",
                    "UnrecognizedClientException"):
            return f"AWS rejected the credentials ({code}): {message}"
        if code in ("AccessDenied", "AccessDeniedException", "403"):
            return f"access denied ({exc.operation_name}): {message or 'the role lacks this permission'}"
        return f"{code or 'error'} in {exc.operation_name}: {message}"
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


