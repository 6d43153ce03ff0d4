"""functions/openapi.yaml is a valid OpenAPI 3.1 document and names every route the handler serves."""
from __future__ import annotations

import yaml
from conftest import OPENAPI
from openapi_spec_validator import validate

from functions import app


def test_openapi_document_is_valid():
    validate(yaml.safe_load(OPENAPI.read_text(encoding="utf-8")))


def test_every_route_is_documented_and_nothing_else():
    doc = yaml.safe_load(OPENAPI.read_text(encoding="utf-8"))
    documented = {(method.upper(), path) for path, ops in doc["paths"].items()
                  for method in ops if method in ("get", "put", "post", "delete", "patch")}
    served = {(method, template) for method, _, template, _ in app.router._routes}
    assert documented == served


def test_every_error_response_uses_the_error_schema():
    doc = yaml.safe_load(OPENAPI.read_text(encoding="utf-8"))
    for name, response in doc["components"]["responses"].items():
        assert response["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}, name
