"""``chuchuang deploy`` against moto: changed files only, right headers, safe order, catalog sync."""
from __future__ import annotations

import json
import re
import shutil
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from functions import store
from generator import cli, local_api
from generator.deploy import DeployError, Targets, deploy
from generator.deploy_plan import (IMMUTABLE, REVALIDATE, LocalFile, RemoteObject, collapse, covers, make_plan,
                                   unchanged, url_paths)

REPO = Path(__file__).resolve().parents[2]
BUCKET, TABLE = "shop-site", "shop-table"
OOLONG = "mei--oolong"
ASSET_REF = re.compile(r"""(?:src|href|srcset)="([^"]+)""")


@dataclass
class Aws:
    s3: Any
    cloudfront: Any
    distribution: str

    def objects(self) -> dict[str, dict[str, Any]]:
        """Every object's ETag, type, cache header, sha256 metadata and body."""
        found = {}
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
            for obj in page.get("Contents", []):
                answer = self.s3.get_object(Bucket=BUCKET, Key=obj["Key"])
                found[obj["Key"]] = {"etag": obj["ETag"], "type": answer["ContentType"],
                                     "cache": answer.get("CacheControl"),
                                     "sha256": answer["Metadata"].get("sha256"), "body": answer["Body"].read()}
        return found

    def invalidations(self) -> list[set[str]]:
        listing = self.cloudfront.list_invalidations(DistributionId=self.distribution)["InvalidationList"]
        return [set(self.cloudfront.get_invalidation(DistributionId=self.distribution, Id=i["Id"])
                    ["Invalidation"]["InvalidationBatch"]["Paths"].get("Items", []))
                for i in listing.get("Items", [])]

    def table_items(self) -> list[dict[str, Any]]:
        return sorted(boto3.client("dynamodb").scan(TableName=TABLE)["Items"], key=lambda i: json.dumps(i))


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Aws]:
    """moto in-process with the stack's bucket, distribution, table and handoff queue."""
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "CHUCHUANG_SITE_ORIGIN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    with mock_aws():
        s3, cloudfront = boto3.client("s3"), boto3.client("cloudfront")
        s3.create_bucket(Bucket=BUCKET)
        distribution = cloudfront.create_distribution(DistributionConfig={
            "CallerReference": "test", "Comment": "", "Enabled": True,
            "Origins": {"Quantity": 1, "Items": [{"Id": "site", "DomainName": f"{BUCKET}.s3.amazonaws.com",
                                                  "S3OriginConfig": {"OriginAccessIdentity": ""}}]},
            "DefaultCacheBehavior": {"TargetOriginId": "site", "ViewerProtocolPolicy": "redirect-to-https",
                                     "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6"}})["Distribution"]["Id"]
        monkeypatch.setenv("CHUCHUANG_TABLE", TABLE)
        store.reset()
        store.create_table(TABLE)
        queue = boto3.client("sqs").create_queue(QueueName="handoff")["QueueUrl"]
        monkeypatch.setenv("CHUCHUANG_HANDOFF_QUEUE", queue)
        monkeypatch.setenv("CHUCHUANG_BUCKET", BUCKET)
        monkeypatch.setenv("CHUCHUANG_DISTRIBUTION_ID", distribution)
        yield Aws(s3, cloudfront, distribution)
        store.reset()


def run(site: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = cli.main(["-C", str(site), "deploy", *args])
    out, err = capsys.readouterr()
    return code, out, err


def local_files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def targets(distribution: str) -> Targets:
    return Targets(BUCKET, distribution, TABLE, "us-east-1")


def api(method: str, path: str, body: Any = None, query: str = "", headers: dict[str, str] | None = None) -> Any:
    sent = {"content-type": "application/json", **(headers or {})}
    status, _, data = local_api.dispatch(method, path, query, sent, json.dumps(body).encode() if body else b"")
    return status, json.loads(data)


# --- the whole command ---------------------------------------------------------------------------------

def test_first_deploy_uploads_everything_with_types_and_cache_headers(aws: Aws, minimal_site: Path, capsys) -> None:
    code, out, err = run(minimal_site, capsys)
    assert code == 0, err
    built = local_files(minimal_site / "public")
    objects = aws.objects()
    assert set(objects) == set(built) and "catalog.json" not in objects
    for key, obj in objects.items():
        assert obj["body"] == built[key]
        assert obj["cache"] == (IMMUTABLE if key.startswith("assets/") else REVALIDATE), key
        assert obj["sha256"] and len(obj["sha256"]) == 64
    types = {key: obj["type"] for key, obj in objects.items()}
    assert types["index.html"] == types["mei/oolong/index.html"] == types["tags/茶/index.html"] == \
        "text/html; charset=utf-8"
    assert types["mei/index.xml"] == "application/atom+xml; charset=utf-8"
    assert types["sitemap.xml"] == "application/xml; charset=utf-8"
    assert types["index.json"] == "application/json; charset=utf-8"
    assert types["robots.txt"] == "text/plain; charset=utf-8"
    by_suffix = {Path(k).suffix: t for k, t in types.items() if k.startswith("assets/")}
    assert by_suffix == {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8",
                         ".svg": "image/svg+xml; charset=utf-8", ".webp": "image/webp"}
    assert f"uploaded {len(built)} files" in out and "skipped 0 unchanged, deleted 0" in out
    assert "catalog → table shop-table: 2 added, 0 updated, 0 unpublished, 0 unchanged" in out
    (paths,) = aws.invalidations()
    assert re.search(r"invalidation \w+: ", out)
    assert all(covers(tuple(paths), p) for key in built if not key.startswith("assets/") for p in url_paths(key))
    assert {p.id for p in store.get_products([OOLONG, "mei--teapot"]).values()} == {OOLONG, "mei--teapot"}


def test_second_deploy_without_change_uploads_and_invalidates_nothing(aws: Aws, minimal_site: Path, capsys) -> None:
    assert run(minimal_site, capsys)[0] == 0
    before = aws.objects()
    code, out, _ = run(minimal_site, capsys)
    assert code == 0
    assert f"uploaded 0 files, skipped {len(before)} unchanged, deleted 0" in out
    assert "0 added, 0 updated, 0 unpublished, 2 unchanged" in out
    assert "invalidation: none" in out
    assert aws.objects() == before
    assert len(aws.invalidations()) == 1


def test_changing_one_product_uploads_its_page_and_listings_and_invalidates_only_those(
        aws: Aws, minimal_site: Path, capsys) -> None:
    assert run(minimal_site, capsys)[0] == 0
    before = local_files(minimal_site / "public")
    edit(minimal_site / "content/mei/oolong.md", 'price: "128.00"', 'price: "138.00"')
    puts: list[str] = []
    s3 = boto3.client("s3")
    s3.meta.events.register("provide-client-params.s3.PutObject", lambda params, **_: puts.append(params["Key"]))
    assert run(minimal_site, capsys, "--dry-run")[0] == 0   # builds the new site, uploads nothing
    report = deploy(minimal_site / "public", minimal_site / "catalog.json", targets(aws.distribution), s3=s3)
    after = local_files(minimal_site / "public")
    changed = {key for key in after if before.get(key) != after[key]}
    assert {"mei/oolong/index.html", "mei/index.html", "index.html", "tags/tea/index.html"} <= changed
    assert "cart/index.html" not in changed and not any(k.startswith("assets/") for k in changed)
    assert sorted(puts) == sorted(changed)
    assert report.plan.deletes == ()
    expected = {p for key in changed for p in url_paths(key)}
    assert "/mei/oolong/" in expected and "/tags/%E8%8C%B6/" in expected
    assert aws.invalidations()[-1] == expected
    assert report.catalog.summary() == "0 added, 1 updated, 0 unpublished, 1 unchanged"
    assert str(report.catalog.changes[0]) == "update     mei--oolong: price ¥128.00 → ¥138.00"


@pytest.mark.parametrize("fail_at", ["first asset", "first page", "last page", "deleting"])
def test_a_deploy_failing_midway_leaves_every_old_page_and_its_assets_in_place(
        aws: Aws, minimal_site: Path, capsys, fail_at: str) -> None:
    shutil.copytree(REPO / "templates", minimal_site / "templates")
    assert run(minimal_site, capsys)[0] == 0
    old = aws.objects()
    old_pages = [k for k in old if k.endswith(".html")]
    # A new stylesheet (new fingerprint), a changed product, a removed product, a new product.
    with (minimal_site / "templates/static/app.css").open("a", encoding="utf-8") as css:
        css.write("\n.deploy-test { color: red }\n")
    edit(minimal_site / "content/mei/oolong.md", "Tieguanyin", "Anxi Tieguanyin")
    (minimal_site / "content/mei/teapot.md").rename(minimal_site / "content/mei/teapot-v2.md")
    assert run(minimal_site, capsys, "--dry-run")[0] == 0
    site, catalog, where = minimal_site / "public", minimal_site / "catalog.json", targets(aws.distribution)
    plan = deploy(site, catalog, where, dry_run=True).plan
    assets = len(plan.steps[0].files)
    assert plan.steps[0].name == "assets" and assets >= 1 and "mei/teapot/index.html" in plan.deletes
    s3, calls = boto3.client("s3"), {"PutObject": 0}
    nth = {"first asset": 1, "first page": assets + 1, "last page": len(plan.uploads), "deleting": None}[fail_at]

    def interrupt(model: Any, **_: Any) -> None:
        calls[model.name] = calls.get(model.name, 0) + 1
        if (model.name == "PutObject" and calls["PutObject"] == nth) or \
                (nth is None and model.name == "DeleteObjects"):
            raise ConnectionResetError("connection reset by peer")

    s3.meta.events.register("before-call.s3.*", interrupt)
    with pytest.raises(DeployError, match="the live site still works") as failure:
        deploy(site, catalog, where, s3=s3, jobs=1)
    assert "\n" not in str(failure.value) and "connection reset by peer" in str(failure.value)
    now = aws.objects()
    assert set(old_pages) <= set(now), "an old page disappeared"
    for key, obj in now.items():
        if key.endswith(".html"):
            for ref in ASSET_REF.findall(obj["body"].decode()):
                for url in ref.split(","):
                    path = url.strip().split(" ")[0]
                    if path.startswith("/assets/"):
                        assert path[1:] in now, f"{key} references {path}, which is not in the bucket"
    # Running it again finishes the job: the bucket is exactly the new site.
    deploy(site, catalog, where)
    assert {k: v["body"] for k, v in aws.objects().items()} == local_files(site)


def test_fan_sales_survive_a_stock_raise_and_a_removed_product_keeps_its_orders(
        aws: Aws, minimal_site: Path, capsys) -> None:
    assert run(minimal_site, capsys)[0] == 0
    status, cart = api("POST", "/api/carts", {"items": [{"product_id": OOLONG, "quantity": 3}]})
    assert status == 201, cart
    status, checkout = api("POST", f"/api/carts/{cart['id']}/checkout", headers={"idempotency-key": "fan-1"})
    assert status == 201, checkout
    (order,) = checkout["orders"]
    assert store.get_products([OOLONG], consistent=True)[OOLONG].sold == 3

    edit(minimal_site / "content/mei/oolong.md", "stock: 10", "stock: 25")
    code, out, err = run(minimal_site, capsys)
    assert code == 0, err
    assert "0 added, 1 updated, 0 unpublished, 1 unchanged" in out
    item = store.get_products([OOLONG], consistent=True)[OOLONG]
    assert (item.stock, item.sold, item.published) == (25, 3, True)
    assert api("GET", "/api/stock", query=f"ids={OOLONG}") == (200, {OOLONG: {"available": 22}})

    (minimal_site / "content/mei/oolong.md").unlink()
    code, out, err = run(minimal_site, capsys)
    assert code == 0, err
    assert "0 added, 0 updated, 1 unpublished, 1 unchanged" in out   # its page, images and 茶 tag page go
    assert "mei/oolong/index.html" not in aws.objects()
    assert covers(tuple(aws.invalidations()[-1]), "/mei/oolong/")
    item = store.get_products([OOLONG], consistent=True)[OOLONG]
    assert (item.stock, item.sold, item.published) == (25, 3, False)
    status, found = api("GET", f"/api/orders/{order['id']}")
    assert status == 200 and found["id"] == order["id"]
    assert [line["product_id"] for line in found["lines"]] == [OOLONG]
    assert api("GET", "/api/stock", query=f"ids={OOLONG}")[1] in ({}, {OOLONG: {"available": 0}})


def test_dry_run_prints_the_plan_and_changes_nothing(aws: Aws, minimal_site: Path, capsys) -> None:
    assert run(minimal_site, capsys)[0] == 0
    bucket, table, invalidations = aws.objects(), aws.table_items(), aws.invalidations()
    edit(minimal_site / "content/mei/oolong.md", "stock: 10", "stock: 20")
    edit(minimal_site / "content/mei/oolong.md", 'price: "128.00"', 'price: "99.00"')
    (minimal_site / "content/mei/teapot.md").unlink()
    code, out, err = run(minimal_site, capsys, "--dry-run")
    assert code == 0, err
    assert out.startswith("dry run, nothing changed")
    assert re.search(r"^  pages +changed +mei/oolong/index\.html  \[text/html; charset=utf-8; "
                     r"public, max-age=0, must-revalidate\]$", out, re.M)
    assert "\n  mei/teapot/index.html\n" in out
    assert re.search(r"^would invalidate \d+ paths on \w+ ", out, re.M) and "\n  /mei/*\n" in out
    assert "update     mei--oolong: price ¥128.00 → ¥99.00, stock 10 → 20" in out
    assert "unpublish  mei--teapot (sold 0 kept" in out
    assert aws.objects() == bucket and aws.table_items() == table and aws.invalidations() == invalidations


def test_from_dir_publishes_a_prebuilt_folder_with_its_catalog_beside_it(aws: Aws, minimal_site: Path,
                                                                         capsys) -> None:
    assert cli.main(["-C", str(minimal_site), "build", "--out", str(minimal_site / "out")]) == 0
    code, out, err = run(minimal_site, capsys, "--from", str(minimal_site / "out"))
    assert code == 0, err
    assert set(aws.objects()) == set(local_files(minimal_site / "out"))
    code, _, err = run(minimal_site, capsys, "--from", str(minimal_site / "out"),
                       "--catalog", str(minimal_site / "out/catalog.json"))
    assert code == 2 and "must not be inside" in err


def test_missing_bucket_is_one_line_and_exit_1(aws: Aws, minimal_site: Path, capsys,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHUCHUANG_BUCKET", "no-such-bucket")
    code, out, err = run(minimal_site, capsys)
    lines = err.strip().splitlines()
    assert code == 1 and out == ""
    assert lines[-1] == "chuchuang deploy: cannot read the bucket: bucket no-such-bucket does not exist"
    assert lines[:-1] == [line for line in lines[:-1] if line.startswith("built ")]   # only the build's line
    assert aws.table_items() == [] or all("PRODUCT#" not in json.dumps(i) for i in aws.table_items())


def test_missing_credentials_is_one_line_and_exit_1(minimal_site: Path, capsys, monkeypatch: pytest.MonkeyPatch,
                                                    tmp_path: Path) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
                 "AWS_PROFILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                 "AWS_WEB_IDENTITY_TOKEN_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("CHUCHUANG_BUCKET", BUCKET)
    with socket.socket() as listener:   # an endpoint that exists, so nothing could ever reach real AWS
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{listener.getsockname()[1]}")
        code, _, err = run(minimal_site, capsys)
    assert code == 1
    assert err.strip().splitlines()[-1].startswith("chuchuang deploy: cannot read the bucket: no AWS credentials")
    assert "Traceback" not in err


def test_unreachable_endpoint_is_one_line_and_exit_1(minimal_site: Path, capsys,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]   # bound, never listening: connections are refused
        monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{port}")
        monkeypatch.setenv("CHUCHUANG_BUCKET", BUCKET)
        code, _, err = run(minimal_site, capsys, "--dry-run")
    assert code == 1
    assert err.strip().splitlines()[-1] == f"chuchuang deploy: no AWS endpoint answers at http://127.0.0.1:{port} " \
                                           "(AWS_ENDPOINT_URL)"


def test_usage_errors_exit_2(minimal_site: Path, capsys) -> None:
    assert run(minimal_site, capsys, "--from", "a", "--out", "b")[0] == 2
    assert run(minimal_site, capsys, "--jobs", "0")[0] == 2
    with pytest.raises(SystemExit) as exit_:
        cli.main(["-C", str(minimal_site), "deploy", "--no-such-option"])
    assert exit_.value.code == 2


def test_no_bucket_configured_is_an_input_error(minimal_site: Path, capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CHUCHUANG_BUCKET", raising=False)
    config = minimal_site / "site.yaml"
    config.write_text(config.read_text().replace("bucket: minimal-shop, ", ""))
    code, _, err = run(minimal_site, capsys)
    assert code == 1 and "set deploy.bucket in site.yaml or CHUCHUANG_BUCKET" in err
    assert not (minimal_site / "public").exists()


# --- the plan ------------------------------------------------------------------------------------------

def _local(key: str, data: bytes = b"x") -> LocalFile:
    import hashlib

    from generator.deploy_plan import cache_control, content_type
    return LocalFile(key, Path(key), len(data), hashlib.sha256(data).hexdigest(), hashlib.md5(data).hexdigest(),
                     content_type(key, data), cache_control(key))


def test_uploads_go_assets_first_then_deepest_pages_then_sitemap() -> None:
    keys = ["index.html", "sitemap.xml", "robots.txt", "mei/index.html", "mei/oolong/index.html", "index.json",
            "assets/app.0123456789.css", "favicon.ico"]
    plan = make_plan({k: _local(k) for k in keys}, {})
    order = [(step.name, sorted(f.key for f in step.files)) for step in plan.steps]
    assert order == [("assets", ["assets/app.0123456789.css", "favicon.ico"]),
                     ("pages", ["mei/oolong/index.html"]), ("pages", ["mei/index.html"]),
                     ("pages", ["index.html", "index.json"]), ("sitemap", ["robots.txt", "sitemap.xml"])]


def test_unchanged_uses_sha256_metadata_else_a_single_part_etag_and_checks_headers() -> None:
    f = _local("mei/index.html", b"<p>hi</p>")
    same = RemoteObject(f.key, f.size, "whatever-5", f.sha256, f.content_type, f.cache_control)
    assert unchanged(f, same)
    assert unchanged(f, RemoteObject(f.key, f.size, f.md5, None, f.content_type, f.cache_control))
    assert not unchanged(f, RemoteObject(f.key, f.size, f.md5 + "-2", None, f.content_type, f.cache_control))
    assert not unchanged(f, RemoteObject(f.key, f.size, f.md5, "0" * 64, f.content_type, f.cache_control))
    assert not unchanged(f, RemoteObject(f.key, f.size, f.md5, f.sha256, f.content_type, "max-age=600"))
    assert not unchanged(f, RemoteObject(f.key, f.size, f.md5, f.sha256, "text/html", f.cache_control))


def test_invalidation_paths_cover_folders_and_collapse_to_wildcards() -> None:
    assert url_paths("index.html") == ("/index.html", "/")
    assert url_paths("tags/茶/index.html") == ("/tags/%E8%8C%B6/index.html", "/tags/%E8%8C%B6/")
    assert url_paths("mei/index.xml") == ("/mei/index.xml",)
    few = tuple(sorted(p for i in range(7) for p in url_paths(f"mei/p{i}/index.html")))
    assert collapse(few) == few
    many = tuple(sorted([*few, *url_paths("mei/p7/index.html"), "/index.html", "/", "/tags/x/"]))
    assert collapse(many) == ("/", "/index.html", "/mei/*", "/tags/x/")
    small = ("/kiki/a/", "/kiki/a/index.html")
    assert collapse(tuple(sorted(many + small))) == ("/", "/index.html", *small, "/mei/*", "/tags/x/")
    spread = tuple(f"/c{i}/{j}" for i in range(16) for j in range(2))
    assert collapse(spread) == ("/*",)


def test_new_fingerprinted_assets_and_deleted_assets_are_not_invalidated() -> None:
    remote = {"assets/app.0123456789.css": RemoteObject("assets/app.0123456789.css", 1, "x"),
              "mei/old/index.html": RemoteObject("mei/old/index.html", 1, "x")}
    plan = make_plan({"assets/app.abcdef0123.css": _local("assets/app.abcdef0123.css"),
                      "index.html": _local("index.html")}, remote)
    assert plan.deletes == ("assets/app.0123456789.css", "mei/old/index.html")
    assert plan.invalidation == ("/", "/index.html", "/mei/old/", "/mei/old/index.html")


def test_deploy_refuses_a_folder_without_index_html(tmp_path: Path) -> None:
    (tmp_path / "site").mkdir()
    with pytest.raises(DeployError, match="no index.html"):
        deploy(tmp_path / "site", tmp_path / "catalog.json", Targets(BUCKET, "", TABLE, "us-east-1"))
