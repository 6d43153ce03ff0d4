"""The single DynamoDB table: every key and expression lives here.

Items are plain attribute dicts on the way in and out; the model modules turn
them into dataclasses. Clients and attribute encoding are in :mod:`functions.dynamo`.
"""
from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from functions import dynamo
from functions.catalog import Catalog, Handoff, PartnerEntry
from functions.dynamo import client, table

CONFIG_KEY = {"PK": {"S": "CONFIG"}, "SK": {"S": "CATALOG"}}
PRODUCTS_INDEX = "PRODUCTS"
PENDING_HANDOFF_INDEX = "HANDOFF#PENDING"
CONFIG_TTL_SECONDS = 60

_config_cache: dict[str, tuple[float, SiteConfig]] = {}


def reset() -> None:
    """Forget clients and the cached config (tests and the local backend change endpoints)."""
    dynamo.reset()
    _config_cache.clear()


def _key(pk: str, sk: str) -> dict:
    return {"PK": {"S": pk}, "SK": {"S": sk}}


def product_key(product_id: str) -> dict:
    return _key(f"PRODUCT#{product_id}", "STOCK")


def cart_key(cart_id: str) -> dict:
    return _key(f"CART#{cart_id}", "CART")


def order_key(order_id: str) -> dict:
    return _key(f"ORDER#{order_id}", "ORDER")


def entry_key(creator: str, month: str, order_id: str, line: int, seq: int) -> dict:
    return _key(f"CREATOR#{creator}", f"COMMISSION#{month}#{order_id}#{line:02d}#{seq:03d}")


def idempotency_key(key: str) -> dict:
    return _key(f"IDEMPOTENCY#{key}", "IDEMPOTENCY")


def event_key(partner: str, event_id: str) -> dict:
    return _key(f"EVENT#{partner}#{event_id}", "EVENT")


# --- table and catalog -----------------------------------------------------------------

def create_table(name: str) -> None:
    """Create the table as the SAM template does (on-demand, GSI1, TTL on ``expires_at``)."""
    ddb = client("dynamodb")
    ddb.create_table(
        TableName=name, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"}
                              for n in ("PK", "SK", "GSI1PK", "GSI1SK")],
        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
        GlobalSecondaryIndexes=[{
            "IndexName": "GSI1",
            "KeySchema": [{"AttributeName": "GSI1PK", "KeyType": "HASH"},
                          {"AttributeName": "GSI1SK", "KeyType": "RANGE"}],
            "Projection": {"ProjectionType": "ALL"}}])
    ddb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    ddb.update_time_to_live(TableName=name, TimeToLiveSpecification={"Enabled": True,
                                                                     "AttributeName": "expires_at"})


_PRODUCT_FIELDS = ("title", "price", "currency", "stock", "rate", "rate_rule", "partner",
                   "merchant", "creator", "link", "url")


def sync_catalog(catalog: Catalog) -> None:
    """Upsert every product (never touching ``sold``), unpublish the rest, write the config item."""
    ddb = client("dynamodb")
    for product in catalog.products.values():
        names = {f"#{f}": f for f in (*_PRODUCT_FIELDS, "id", "sold", "published")}
        values = {f":{f}": dynamo.ser(getattr(product, f)) for f in (*_PRODUCT_FIELDS, "id")}
        values.update({":zero": dynamo.ser(0), ":true": dynamo.ser(True), ":gpk": dynamo.ser(PRODUCTS_INDEX)})
        sets = [f"#{f} = :{f}" for f in (*_PRODUCT_FIELDS, "id")]
        sets += ["#sold = if_not_exists(#sold, :zero)", "#published = :true",
                 "GSI1PK = :gpk", "GSI1SK = :id"]
        ddb.update_item(TableName=table(), Key=product_key(product.id), UpdateExpression="SET " + ", ".join(sets),
                        ExpressionAttributeNames=names, ExpressionAttributeValues=values)
    for item in dynamo.query(IndexName="GSI1", KeyConditionExpression="GSI1PK = :p",
                       ExpressionAttributeValues={":p": dynamo.ser(PRODUCTS_INDEX)}):
        if item["id"]["S"] not in catalog.products and dynamo.de(item.get("published", {"BOOL": False})):
            ddb.update_item(TableName=table(), Key=product_key(item["id"]["S"]),
                            UpdateExpression="SET #published = :false",
                            ExpressionAttributeNames={"#published": "published"},
                            ExpressionAttributeValues={":false": dynamo.ser(False)})
    partners = {pid: {"id": p.id, "name": p.name, "secret_env": p.secret_env,
                      "handoff": {"type": p.handoff.type, "url": p.handoff.url, "params": dict(p.handoff.params)}}
                for pid, p in catalog.partners.items()}
    values = {":currency": dynamo.ser(catalog.currency), ":lock": dynamo.ser(catalog.lock_days),
              ":partners": dynamo.ser(partners), ":at": dynamo.ser(int(time.time()))}
    expression = "SET currency = :currency, lock_days = :lock, partners = :partners, synced_at = :at"
    creators = {p.creator for p in catalog.products.values()}
    if creators:
        values[":creators"] = dynamo.ser(creators)
        expression += " ADD creators :creators"
    ddb.update_item(TableName=table(), Key=CONFIG_KEY, UpdateExpression=expression,
                    ExpressionAttributeValues=values)
    _config_cache.clear()


@dataclass(frozen=True)
class SiteConfig:
    """What the functions need from the last synced catalog besides the products."""

    currency: str
    lock_days: int
    partners: dict[str, PartnerEntry]
    creators: tuple[str, ...] = field(default=())


def load_config() -> SiteConfig:
    """The config item, cached for a minute per process."""
    cached = _config_cache.get(table())
    if cached and time.monotonic() - cached[0] < CONFIG_TTL_SECONDS:
        return cached[1]
    item = dynamo.get(CONFIG_KEY)
    if item is None:
        raise RuntimeError(f"table {table()} has no catalog config: run a catalog sync first")
    partners = {k: PartnerEntry(id=v["id"], name=v["name"], secret_env=v["secret_env"],
                                handoff=Handoff(v["handoff"]["type"], v["handoff"]["url"],
                                                dict(v["handoff"].get("params") or {})))
                for k, v in item["partners"].items()}
    config = SiteConfig(item["currency"], item["lock_days"], partners, tuple(sorted(item.get("creators", ()))))
    _config_cache[table()] = (time.monotonic(), config)
    return config


@dataclass(frozen=True)
class StockItem:
    """A product as the table knows it: catalog fields plus the live ``sold`` counter."""

    id: str
    title: str
    price: int
    currency: str
    stock: int
    sold: int
    rate: str
    rate_rule: str
    partner: str
    merchant: str
    creator: str
    link: str
    url: str
    published: bool

    @property
    def available(self) -> int:
        return max(0, self.stock - self.sold) if self.published else 0


def get_products(ids: Iterable[str], *, consistent: bool = False) -> dict[str, StockItem]:
    """The product items for ``ids`` (missing ones are simply absent)."""
    wanted = list(dict.fromkeys(ids))
    found: dict[str, StockItem] = {}
    for start in range(0, len(wanted), 100):
        for item in dynamo.batch_get([product_key(i) for i in wanted[start:start + 100]], consistent):
            attrs = dynamo.attrs(item)
            found[attrs["id"]] = StockItem(**{k: attrs[k] for k in StockItem.__dataclass_fields__})
    return found


# --- plain reads and writes --------------------------------------------------------

def get_cart(cart_id: str) -> dict[str, Any] | None:
    return dynamo.get(cart_key(cart_id))


def put_cart(attrs: dict[str, Any], expected_version: int | None) -> bool:
    """Write a cart if nobody changed it since ``expected_version`` (``None``: a new cart)."""
    if expected_version is None:
        condition, values = "attribute_not_exists(PK)", {}
    else:
        condition = "version = :v AND attribute_not_exists(checked_out)"
        values = {":v": dynamo.ser(expected_version)}
    try:
        client("dynamodb").put_item(TableName=table(), Item={**cart_key(attrs["id"]), **dynamo.ser(attrs)["M"]},
                                    ConditionExpression=condition, **_values(values))
    except ClientError as err:
        if err.response["Error"]["Code"] == "ConditionalCheckFailedException":
            return False
        raise
    return True


def get_order(order_id: str) -> dict[str, Any] | None:
    return dynamo.get(order_key(order_id))


def get_idempotency(key: str) -> dict[str, Any] | None:
    return dynamo.get(idempotency_key(key))


def get_checkout_state(key: str, cart_id: str) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """The idempotency record and the cart in one consistent round trip."""
    found = {item["PK"]["S"]: dynamo.attrs(item)
             for item in dynamo.batch_get([idempotency_key(key), cart_key(cart_id)], consistent=True)}
    return found.get(f"IDEMPOTENCY#{key}"), found.get(f"CART#{cart_id}")


def event_seen(partner: str, event_id: str) -> bool:
    return dynamo.get(event_key(partner, event_id)) is not None


def ledger(creator: str) -> list[dict[str, Any]]:
    """Every commission entry of ``creator``, oldest month first."""
    items = dynamo.query(KeyConditionExpression="PK = :pk AND begins_with(SK, :sk)",
                   ExpressionAttributeValues={":pk": dynamo.ser(f"CREATOR#{creator}"),
                                              ":sk": dynamo.ser("COMMISSION#")},
                   ConsistentRead=True)
    return [dynamo.attrs(item) for item in items]


def pending_handoffs(created_before: str) -> list[str]:
    """Ids of orders still ``pending_handoff`` that were created before ``created_before`` (ISO)."""
    items = dynamo.query(IndexName="GSI1", KeyConditionExpression="GSI1PK = :p AND GSI1SK < :before",
                   ExpressionAttributeValues={":p": dynamo.ser(PENDING_HANDOFF_INDEX),
                                              ":before": dynamo.ser(created_before)})
    return [item["id"]["S"] for item in items]


def mark_handed_off(order_id: str, changes: dict[str, Any], history: dict[str, Any]) -> bool:
    """Move a ``pending_handoff`` order to ``handed_off``; ``False`` if it was not pending."""
    names = {"#status": "status", "#history": "history", "#version": "version"}
    values = {":pending": dynamo.ser("pending_handoff"), ":done": dynamo.ser("handed_off"),
              ":h": dynamo.ser([history]), ":one": dynamo.ser(1)}
    sets = ["#status = :done", "#history = list_append(#history, :h)", "#version = #version + :one"]
    for i, (name, value) in enumerate(sorted(changes.items())):
        names[f"#c{i}"], values[f":c{i}"] = name, dynamo.ser(value)
        sets.append(f"#c{i} = :c{i}")
    try:
        client("dynamodb").update_item(
            TableName=table(), Key=order_key(order_id), ConditionExpression="#status = :pending",
            UpdateExpression="SET " + ", ".join(sets) + " REMOVE GSI1PK, GSI1SK",
            ExpressionAttributeNames=names, ExpressionAttributeValues=values)
    except ClientError as err:
        if err.response["Error"]["Code"] == "ConditionalCheckFailedException":
            return False
        raise
    return True


def _values(values: dict) -> dict:
    return {"ExpressionAttributeValues": values} if values else {}


# --- transactions ----------------------------------------------------------------------

@dataclass(frozen=True)
class Op:
    """One write inside a transaction; ``tag`` tells the caller which one failed."""

    tag: str
    request: dict


class Cancelled(Exception):
    """A transaction was cancelled; ``failed`` holds (tag, reason code) of each failing write."""

    def __init__(self, failed: list[tuple[str, str]]) -> None:
        super().__init__(", ".join(f"{tag}: {code}" for tag, code in failed))
        self.failed = failed

    def tags(self, code: str = "ConditionalCheckFailed") -> set[str]:
        return {tag for tag, got in self.failed if got == code}


def transact(ops: list[Op]) -> None:
    """Run every write or none; raise :class:`Cancelled` naming the writes that failed."""
    try:
        client("dynamodb").transact_write_items(TransactItems=[op.request for op in ops])
    except ClientError as err:
        if err.response["Error"]["Code"] != "TransactionCanceledException":
            raise
        reasons = err.response.get("CancellationReasons") or []
        failed = [(op.tag, r.get("Code", "None")) for op, r in zip(ops, reasons) if r.get("Code", "None") != "None"]
        raise Cancelled(failed or [("unknown", "TransactionCanceled")]) from None


def _put_new(tag: str, key: dict, attrs: dict[str, Any]) -> Op:
    return Op(tag, {"Put": {"TableName": table(), "Item": {**key, **dynamo.ser(attrs)["M"]},
                            "ConditionExpression": "attribute_not_exists(PK)"}})


def reserve_op(product: StockItem, quantity: int) -> Op:
    """Add ``quantity`` to ``sold`` only if still published, unchanged and ``sold + q <= stock``."""
    return Op(f"stock:{product.id}", {"Update": {
        "TableName": table(), "Key": product_key(product.id),
        "UpdateExpression": "SET #sold = #sold + :q",
        "ConditionExpression": "#published = :true AND #stock = :stock AND #price = :price "
                               "AND #rate = :rate AND #sold <= :max",
        "ExpressionAttributeNames": {"#sold": "sold", "#published": "published", "#stock": "stock",
                                     "#price": "price", "#rate": "rate"},
        "ExpressionAttributeValues": {":q": dynamo.ser(quantity), ":true": dynamo.ser(True),
                                      ":stock": dynamo.ser(product.stock),
                                      ":price": dynamo.ser(product.price), ":rate": dynamo.ser(product.rate),
                                      ":max": dynamo.ser(product.stock - quantity)}}})


def release_op(product_id: str, quantity: int) -> Op:
    """Give ``quantity`` reserved units back (never below zero)."""
    return Op(f"release:{product_id}", {"Update": {
        "TableName": table(), "Key": product_key(product_id),
        "UpdateExpression": "SET #sold = #sold - :q", "ConditionExpression": "#sold >= :q",
        "ExpressionAttributeNames": {"#sold": "sold"}, "ExpressionAttributeValues": {":q": dynamo.ser(quantity)}}})


def order_op(attrs: dict[str, Any], expected_version: int | None) -> Op:
    """Write a whole order: new (``None``) or replacing exactly ``expected_version``."""
    item = {**order_key(attrs["id"]), **dynamo.ser(attrs)["M"]}
    if attrs["status"] == "pending_handoff":
        item.update(GSI1PK=dynamo.ser(PENDING_HANDOFF_INDEX), GSI1SK=dynamo.ser(f"{attrs['created_at']}#{attrs['id']}"))
    if expected_version is None:
        return Op(f"order:{attrs['id']}", {"Put": {"TableName": table(), "Item": item,
                                                  "ConditionExpression": "attribute_not_exists(PK)"}})
    return Op(f"order:{attrs['id']}", {"Put": {
        "TableName": table(), "Item": item, "ConditionExpression": "#version = :v",
        "ExpressionAttributeNames": {"#version": "version"},
        "ExpressionAttributeValues": {":v": dynamo.ser(expected_version)}}})


def entry_op(attrs: dict[str, Any]) -> Op:
    key = entry_key(attrs["creator"], attrs["created_at"][:7], attrs["order_id"], attrs["line"], attrs["seq"])
    return _put_new(f"entry:{attrs['order_id']}:{attrs['line']}:{attrs['seq']}", key, attrs)


def idempotency_op(key: str, attrs: dict[str, Any]) -> Op:
    return _put_new("idempotency", idempotency_key(key), attrs)


def event_op(partner: str, event_id: str, attrs: dict[str, Any]) -> Op:
    return _put_new("event", event_key(partner, event_id), attrs)


def cart_checked_out_op(cart_id: str, version: int, order_ids: list[str]) -> Op:
    """Close a cart at checkout, provided nobody changed it since it was read."""
    return Op("cart", {"Update": {
        "TableName": table(), "Key": cart_key(cart_id),
        "UpdateExpression": "SET checked_out = :true, order_ids = :ids, #version = #version + :one",
        "ConditionExpression": "#version = :v AND attribute_not_exists(checked_out)",
        "ExpressionAttributeNames": {"#version": "version"},
        "ExpressionAttributeValues": {":true": dynamo.ser(True), ":ids": dynamo.ser(order_ids), ":one": dynamo.ser(1),
                                      ":v": dynamo.ser(version)}}})
