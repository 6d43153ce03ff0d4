"""Schemathesis against functions/openapi.yaml on the real local HTTP server.

The API runs as ``chuchuang serve`` runs it: ``serve_api`` (the local adapter
into the Lambda handler) over moto's server (``start_backend``) on 127.0.0.1.
Every operation gets generated valid and invalid input, and the OpenAPI links
drive stateful sequences (create cart → set quantity → checkout → get order).
No response may be a 5xx, and every response must match the document: status
code, content type, headers and body schema.
"""
from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest
import schemathesis
from conftest import OPENAPI, live_api, make_catalog
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]
PRODUCTS = ("lin-xiaoyu--lancome-serum", "lin-xiaoyu--lancome-toner", "chen-mo--lancome-mask",
            "chen-mo--tea-set", "chen-mo--tea-leaves")
EXAMPLES_PER_OPERATION = 40
_keys = itertools.count()
BOUNDED = settings(deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))


@pytest.fixture(scope="module")
def live(merchant) -> Iterator[str]:
    """The embedded backend with its worker and the local API server (a big stock, so sales go through)."""
    with live_api(make_catalog(merchant.url, {p: 100_000 for p in PRODUCTS}), "chuchuang-schemathesis") as url:
        yield url


@pytest.fixture(scope="module")
def schema(live):
    loaded = schemathesis.openapi.from_path(OPENAPI)
    loaded.config.update(base_url=live, request_timeout=30)
    return loaded


def _operations(schema) -> list:
    return [result.ok() for result in schema.get_all_operations()]


def test_every_operation_answers_as_documented_to_generated_input(schema):
    """Valid and invalid input for each operation: never a 5xx, every answer as documented."""
    operations = _operations(schema)
    assert len(operations) == 8
    for operation in operations:
        @given(case=operation.as_strategy())
        @settings(BOUNDED, max_examples=EXAMPLES_PER_OPERATION)
        def run(case) -> None:
            case.call_and_validate(checks=CHECKS)

        run()


def test_invalid_input_is_always_refused(schema):
    """Input that breaks the document (wrong types, unknown fields, bad ids) is never accepted."""
    for operation in _operations(schema):
        if operation.method.upper() == "GET":
            continue  # unknown query parameters and ids of the right shape are harmless reads
        @given(case=operation.as_strategy(generation_mode=schemathesis.GenerationMode.NEGATIVE))
        @settings(BOUNDED, max_examples=EXAMPLES_PER_OPERATION // 2)
        def run(case) -> None:
            case.call_and_validate(checks=[not_a_server_error, negative_data_rejection])

        run()


def test_linked_sequences_from_cart_to_order(schema):
    """Stateful: create cart → set quantity → checkout → get order, by the document's links."""
    assert {(link.source.label, link.target.label) for link in _links(schema)} >= {
        ("POST /api/carts", "PUT /api/carts/{cart_id}/items/{product_id}"),
        ("POST /api/carts/{cart_id}/checkout", "GET /api/orders/{order_id}")}
    reached: set[tuple[str, int]] = set()
    Fans = fans(schema, reached)
    Fans.run(settings=settings(BOUNDED, max_examples=100, stateful_step_count=10))
    assert ("PUT /api/carts/{cart_id}/items/{product_id}", 200) in reached
    assert ("POST /api/carts/{cart_id}/checkout", 201) in reached
    assert ("GET /api/orders/{order_id}", 200) in reached


def fans(schema, reached: set[tuple[str, int]]) -> type:
    """The state machine from the document's links, steering product ids to real products."""

    class Fans(schema.as_state_machine()):
        def before_call(self, case) -> None:
            # Generated product ids almost never name a product; most steps use real ones so
            # sequences get past "add to cart" and reach checkout and the orders.
            params = case.path_parameters or {}
            headers = case.headers or {}
            if "Idempotency-Key" in headers and isinstance(headers["Idempotency-Key"], str):
                # Generation is replayed; a key remembered from an earlier run would turn this
                # checkout into a 422 (key reused for another cart) and the story would diverge.
                headers["Idempotency-Key"] = f"{headers['Idempotency-Key'][:200]}-{next(_keys)}"
            if "product_id" in params:
                params["product_id"] = _real(params["product_id"])
            items = case.body.get("items") if isinstance(case.body, dict) else None
            if isinstance(items, list) and items:
                del items[3:]  # a fan's cart, not twenty random lines
                for n, item in enumerate(items):
                    if isinstance(item, dict) and isinstance(item.get("product_id"), str):
                        item["product_id"] = PRODUCTS[(n + len(str(items[0]))) % len(PRODUCTS)]

        def after_call(self, response, case) -> None:
            reached.add((f"{case.method.upper()} {case.operation.path}", response.status_code))

        def validate_response(self, response, case, additional_checks=None, **kwargs) -> None:
            case.validate_response(response, checks=CHECKS)

    return Fans


def _real(product_id: str) -> str:
    """A catalog product for most generated ids (one in four stays as generated)."""
    return product_id if len(product_id) % 4 == 3 else PRODUCTS[len(product_id) % len(PRODUCTS)]


def _links(schema):
    machine = schema.as_state_machine()
    return [transition for transitions in machine._transitions.operations.values()
            for transition in transitions.outgoing] if hasattr(machine, "_transitions") else []
