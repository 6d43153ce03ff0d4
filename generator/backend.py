"""The embedded local AWS: moto's server on 127.0.0.1, the table, the queues and the worker.

moto's server handles requests concurrently without serialising them, so
under load two conditional writes can both pass (oversell). Real DynamoDB
makes each write atomic; one lock around moto's WSGI application (for
DynamoDB requests) gives the local backend the same guarantee.
"""
from __future__ import annotations

import json
import logging
import os
import threading
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from functions import store
from functions.catalog import Catalog

TABLE = "chuchuang"
QUEUE = "chuchuang-handoff"
MAX_RECEIVE_COUNT = 5
_ENV = ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_DEFAULT_REGION",
        "AWS_REGION", "AWS_PROFILE", "CHUCHUANG_TABLE", "CHUCHUANG_HANDOFF_QUEUE")


class _Serialised:
    """A WSGI app wrapper running one DynamoDB request at a time, body included.

    Only DynamoDB needs it; SQS long polls would otherwise hold the lock.
    """

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self._app = app
        self._lock = threading.Lock()

    def __call__(self, environ: dict, start_response: Callable[..., Any]) -> Iterable[bytes]:
        if not environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB"):
            return self._app(environ, start_response)
        with self._lock:
            result = self._app(environ, start_response)
            try:
                return list(result)
            finally:
                close = getattr(result, "close", None)
                if close:
                    close()


def _moto_server_class() -> type:
    from moto.moto_server import (
        threaded_moto_server as tms,  # imported late: moto is slow to import
    )

    class LockedMotoServer(tms.ThreadedMotoServer):
        def _server_entry(self) -> None:
            app = _Serialised(tms.DomainDispatcherApplication(tms.create_backend_app))
            self._server = tms.make_server(self._ip_address, self._port, app, True)
            self._server_ready_event.set()
            self._server.serve_forever()

    return LockedMotoServer


@dataclass
class Backend:
    endpoint: str
    table: str
    queue_url: str
    dlq_url: str
    _server: Any
    _saved_env: dict[str, str | None]
    _stop: threading.Event = field(default_factory=threading.Event)
    _worker: threading.Thread | None = None

    def sync(self, catalog: Catalog) -> None:
        """Push a (re)built catalog to the table; ``sold`` counters are kept."""
        store.sync_catalog(catalog)

    def stop(self) -> None:
        """Stop the worker and the server, and restore this process's environment."""
        self._stop.set()
        if self._worker:
            self._worker.join(timeout=10)
        try:  # free moto's in-memory state now rather than at interpreter exit
            urllib.request.urlopen(urllib.request.Request(f"{self.endpoint}/moto-api/reset", method="POST"),
                                   timeout=10).close()
        except OSError:
            pass
        self._server.stop()
        for name, value in self._saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        store.reset()


def start_backend(catalog: Catalog, *, port: int = 0, worker: bool = True, table: str = TABLE,
                  queue: str = QUEUE) -> Backend:
    """Start moto on 127.0.0.1, point this process at it, create table and queues, sync ``catalog``."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no access-log line per AWS call
    server = _moto_server_class()(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    host, bound = server.get_host_and_port()
    saved = {name: os.environ.get(name) for name in _ENV}
    for name in ("AWS_SESSION_TOKEN", "AWS_PROFILE"):
        os.environ.pop(name, None)
    endpoint = f"http://{host}:{bound}"
    os.environ.update(AWS_ENDPOINT_URL=endpoint, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
                      AWS_DEFAULT_REGION=saved["AWS_DEFAULT_REGION"] or "us-east-1", CHUCHUANG_TABLE=table)
    os.environ["AWS_REGION"] = os.environ["AWS_DEFAULT_REGION"]
    store.reset()
    try:
        store.create_table(table)
        sqs = store.client("sqs")
        dlq_url = sqs.create_queue(QueueName=f"{queue}-dlq")["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        queue_url = sqs.create_queue(QueueName=queue, Attributes={
            "VisibilityTimeout": "30",
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(MAX_RECEIVE_COUNT)}),
        })["QueueUrl"]
        os.environ["CHUCHUANG_HANDOFF_QUEUE"] = queue_url
        store.sync_catalog(catalog)
    except BaseException:
        server.stop()
        raise
    backend = Backend(endpoint, table, queue_url, dlq_url, server, saved)
    if worker:
        backend._worker = threading.Thread(target=_run_worker, args=(backend,), name="chuchuang-handoff",
                                           daemon=True)
        backend._worker.start()
    return backend


def _run_worker(backend: Backend) -> None:
    """Long-poll the handoff queue and feed SQS-shaped events to the Lambda handler."""
    from functions import worker

    sqs = store.client("sqs")
    while not backend._stop.is_set():
        try:
            answer = sqs.receive_message(QueueUrl=backend.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                                         AttributeNames=["All"])
        except Exception:
            if backend._stop.wait(1):
                return
            continue
        messages = answer.get("Messages", [])
        if not messages:
            continue
        records = [{"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
                    "attributes": m.get("Attributes", {}), "messageAttributes": {}, "md5OfBody": m.get("MD5OfBody"),
                    "eventSource": "aws:sqs", "eventSourceARN": f"arn:aws:sqs:local:000000000000:{QUEUE}",
                    "awsRegion": os.environ.get("AWS_REGION", "us-east-1")} for m in messages]
        result = worker.handler({"Records": records}, None)
        failed = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
        done = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                for i, m in enumerate(messages) if m["MessageId"] not in failed]
        if done:
            try:
                sqs.delete_message_batch(QueueUrl=backend.queue_url, Entries=done)
            except Exception:
                continue  # redelivery is harmless: handoff is idempotent
