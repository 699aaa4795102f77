"""The HTTP shell: JSON errors for every kind of bad input, limits, request ids, health,
readiness, the generated OpenAPI document and Prometheus metrics."""

from __future__ import annotations

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from openapi_spec_validator import validate as validate_openapi

from accounts.sms import DevOutbox
from kernel.clock import FakeClock
from kernel.settings import Settings
from peiliao.app import create_app
from store import Database
from store.repos.accounts import count_users

pytestmark = pytest.mark.timeout(60)


async def error_code(resp: object) -> tuple[int, str]:
    body = await resp.json()  # type: ignore[attr-defined]
    return resp.status, body["error"]["code"]  # type: ignore[attr-defined]


async def test_health_and_readiness(client: TestClient) -> None:
    assert await (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status == 200 and (await ready.json())["database"] == "ok"


async def test_readyz_is_503_when_the_database_is_gone(
    settings: Settings, clock: FakeClock, outbox: DevOutbox
) -> None:
    dead = settings.replace(
        database_url="postgresql+asyncpg://nobody@127.0.0.1:1/none", db_timeout_s=2.0
    )
    app = create_app(dead, clock=clock, sms=outbox, check_schema=False)
    async with TestClient(TestServer(app)) as c:
        assert (await c.get("/healthz")).status == 200
        assert await error_code(await c.get("/readyz")) == (503, "unavailable")


@pytest.mark.parametrize(
    ("raw", "ctype", "expected"),
    [
        (b'{"phone": "1380', "application/json", (400, "malformed_json")),
        (b"\xff\xfe", "application/json", (400, "malformed_json")),
        (b'{"phone": 13800000001}', "application/json", (400, "invalid_input")),
        (b'{"phone": "13800000001", "admin": true}', "application/json", (400, "invalid_input")),
        (b'["13800000001"]', "application/json", (400, "invalid_input")),
        (b"null", "application/json", (400, "invalid_input")),
        (b"{}", "application/json", (400, "invalid_input")),
        (
            b"phone=13800000001",
            "application/x-www-form-urlencoded",
            (415, "unsupported_media_type"),
        ),
        (b'{"phone": "13800000001"}', "text/plain", (415, "unsupported_media_type")),
    ],
)
async def test_bad_bodies_get_a_stable_4xx_and_write_nothing(
    client: TestClient, db: Database, raw: bytes, ctype: str, expected: tuple[int, str]
) -> None:
    resp = await client.post("/api/auth/sms-code", data=raw, headers={"Content-Type": ctype})
    assert await error_code(resp) == expected
    async with db.reading() as s:
        assert await count_users(s) == 0


async def test_validation_errors_name_the_field_but_never_echo_the_value(
    client: TestClient,
) -> None:
    resp = await client.post(
        "/api/auth/login", json={"phone": "13800000001", "code": 123456, "extra": "s3cret"}
    )
    body = await resp.json()
    assert resp.status == 400
    locs = {p["loc"] for p in body["error"]["details"]["problems"]}
    assert locs == {"code", "extra"}
    assert "123456" not in str(body) and "s3cret" not in str(body)


async def test_oversized_bodies_are_413_before_being_read(client: TestClient) -> None:
    big = b'{"phone": "' + b"1" * 1_100_000 + b'"}'
    resp = await client.post(
        "/api/auth/sms-code", data=big, headers={"Content-Type": "application/json"}
    )
    assert await error_code(resp) == (413, "payload_too_large")

    async def chunks():  # no Content-Length: the limit holds while streaming too
        for _ in range(40):
            yield b"x" * 65_536

    resp = await client.post(
        "/api/auth/sms-code", data=chunks(), headers={"Content-Type": "application/json"}
    )
    assert await error_code(resp) == (413, "payload_too_large")


async def test_unknown_routes_and_methods_are_json(client: TestClient) -> None:
    assert await error_code(await client.get("/api/nope")) == (404, "not_found")
    assert await error_code(await client.delete("/healthz")) == (405, "method_not_allowed")


async def test_request_id_is_echoed_or_made(client: TestClient) -> None:
    mine = await client.get("/healthz", headers={"X-Request-Id": "abc-123"})
    assert mine.headers["X-Request-Id"] == "abc-123"
    evil = await client.get("/healthz", headers={"X-Request-Id": "a\tb" + "x" * 100})
    made = evil.headers["X-Request-Id"]
    assert made != "abc-123" and len(made) == 16


async def test_dev_outbox_is_404_outside_dev(
    db: Database, settings: Settings, clock: FakeClock, outbox: DevOutbox
) -> None:
    app = prod_app(settings, clock, outbox)
    async with TestClient(TestServer(app)) as c:
        assert await error_code(await c.get("/api/dev/sms-outbox")) == (404, "not_found")
        # nor can anyone look a user up by phone number there
        found = await c.get("/api/dev/users", params={"phone": "13800000001"})
        assert await error_code(found) == (404, "not_found")


METRICS_TOKEN = "metrics-" + "t" * 32


def prod_app(settings: Settings, clock: FakeClock, outbox: DevOutbox) -> web.Application:
    """The app with prod settings (real-looking providers; a sandbox payment provider object)."""
    from cryptography.hazmat.primitives.asymmetric import rsa

    from metering.payments import Sandbox

    prod_like = Settings(
        **{
            **settings_dict(settings),
            "env": "prod",
            "secret_key": "p" * 40,
            "sms_provider": "aliyun",
            "aliyun_sms_access_key_id": "id",
            "aliyun_sms_access_key_secret": "s",
            "payment_provider": "alipay",
            "alipay_app_id": "2021000000000000",
            "alipay_private_key_file": "/dev/null",
            "alipay_public_key_file": "/dev/null",
            "payout_provider": "manual",
            "data_keys": "k1:AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=",
            "metrics_token": METRICS_TOKEN,
        }
    )
    prod_like.validate()
    provider = Sandbox(rsa.generate_private_key(public_exponent=65537, key_size=2048), "")
    return create_app(prod_like, clock=clock, sms=outbox, payments=provider)


def settings_dict(s: Settings) -> dict[str, object]:
    from dataclasses import fields

    return {f.name: getattr(s, f.name) for f in fields(s)}


async def test_openapi_is_valid_and_describes_every_route(client: TestClient) -> None:
    doc = await (await client.get("/api/openapi.json")).json()
    validate_openapi(doc)
    routes = {
        (r.method, r.resource.canonical)
        for r in client.app.router.routes()  # type: ignore[union-attr]
        if r.resource is not None
        and r.resource.canonical.startswith(("/api", "/healthz", "/readyz", "/metrics"))
        and r.method != "HEAD"
    }
    documented = {(m.upper(), p) for p, ops in doc["paths"].items() for m in ops}
    assert routes == documented
    login = doc["paths"]["/api/auth/login"]["post"]
    schema_ref = login["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    login_schema = doc["components"]["schemas"][schema_ref.rsplit("/", 1)[1]]
    assert login_schema["additionalProperties"] is False
    assert set(login_schema["required"]) == {"phone", "code"}
    assert "429" in login["responses"] and "400" in login["responses"]


async def test_metrics_count_requests_by_route(client: TestClient) -> None:
    await client.get("/healthz")
    await client.post("/api/auth/sms-code", json={"phone": "13800000401"})
    await client.post("/api/auth/sms-code", json={"phone": "13800000401"})
    await client.post("/api/auth/login", json={"phone": "13800000401", "code": "999999"})
    await client.get("/api/nope")
    text = await (await client.get("/metrics")).text()
    assert 'peiliao_http_requests_total{method="GET",route="/healthz",status="200"}' in text
    assert 'route="unmatched",status="404"' in text
    assert "peiliao_http_request_duration_seconds_bucket" in text
    assert 'peiliao_sms_codes_total{outcome="sent"} 1.0' in text
    assert 'peiliao_sms_codes_total{outcome="sms_resend_too_soon"} 1.0' in text
    assert 'peiliao_logins_total{outcome="code_invalid"} 1.0' in text or (
        'peiliao_logins_total{outcome="accepted"} 1.0' in text  # 1 in 10^6: the guess was right
    )


async def test_web_client_page_says_how_to_build_when_missing(client: TestClient) -> None:
    resp = await client.get("/")
    assert resp.status == 503 and "make run" in await resp.text()


SECURITY_HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}


def assert_secure(resp: object, *, hsts: bool) -> None:
    headers = resp.headers  # type: ignore[attr-defined]
    for name, value in SECURITY_HEADERS.items():
        assert headers.get(name) == value, (name, dict(headers))
    csp = {d.split()[0]: d.split()[1:] for d in headers["Content-Security-Policy"].split("; ")}
    assert csp["script-src"] == ["'self'"] and csp["frame-ancestors"] == ["'none'"]
    assert csp["default-src"] == ["'self'"] and csp["object-src"] == ["'none'"]
    assert not any("unsafe" in v for vs in csp.values() for v in vs)
    assert ("Strict-Transport-Security" in headers) is hsts


async def test_every_kind_of_response_carries_the_security_headers(client: TestClient) -> None:
    assert_secure(await client.get("/healthz"), hsts=False)  # an API answer
    assert_secure(await client.get("/api/nope"), hsts=False)  # an error
    assert_secure(await client.get("/"), hsts=False)  # the page (503: not built here)
    bad = await client.post(
        "/api/auth/sms-code", data=b"[", headers={"Content-Type": "application/json"}
    )
    assert_secure(bad, hsts=False)


async def test_prod_adds_hsts_and_locks_the_metrics(
    db: Database, settings: Settings, clock: FakeClock, outbox: DevOutbox
) -> None:
    async with TestClient(TestServer(prod_app(settings, clock, outbox))) as c:
        assert_secure(await c.get("/healthz"), hsts=True)
        assert await error_code(await c.get("/metrics")) == (401, "unauthenticated")
        wrong = await c.get("/metrics", headers={"Authorization": "Bearer " + "x" * 40})
        assert await error_code(wrong) == (401, "unauthenticated")
        ok = await c.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
        assert ok.status == 200 and "peiliao_http_requests_total" in await ok.text()


async def test_dev_metrics_are_open_without_a_token(client: TestClient) -> None:
    assert (await client.get("/metrics")).status == 200
