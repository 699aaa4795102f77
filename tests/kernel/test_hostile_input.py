"""Hostile input on every route: JSON that breaks parsers, numbers where integers are promised,
query text in the wrong spelling, NUL characters.  Always a 4xx with a stable code, never a 500
and never a logged traceback.  The routes come from the OpenAPI document, so a new route is
covered the day it is added."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import structlog
from aiohttp.test_utils import TestClient
from sqlalchemy import update

from accounts.sms import DevOutbox
from kernel.http.models import Strict
from signaling import protocol
from store import Database
from store.models import User
from tests.harness import bearer, login_cli

pytestmark = pytest.mark.timeout(60)

DEEP_UNPARSEABLE = b"[" * 1000 + b"]" * 1000
HUGE_INT = b'{"amount_fen": ' + b"9" * 5000 + b"}"
DEEP_PARSEABLE = b'{"a": ' + b"[" * 60 + b"]" * 60 + b"}"
HOSTILE_BODIES = {
    "1000 nested [": DEEP_UNPARSEABLE,
    "5000-digit integer": HUGE_INT,
    "60 levels, parseable": DEEP_PARSEABLE,
    "1e400": b'{"amount_fen": 1e400}',
    "NaN": b'{"amount_fen": NaN}',
    "lone surrogate": b'{"text": "\\ud800"}',
    "BOM": b'\xef\xbb\xbf{"phone": "13800000001"}',
}


@pytest.fixture
async def tokens(client: TestClient, outbox: DevOutbox, db: Database) -> dict[str, str]:  # type: ignore[type-arg]
    """A bearer token per role: each route is called by a role its access declaration admits,
    so the body is read (a role the route refuses is answered before its body)."""
    out: dict[str, str] = {}
    for role, phone in (
        ("customer", "13900000775"),
        ("companion", "13900000776"),
        ("admin", "13900000777"),
    ):
        token = await login_cli(client, outbox, phone)
        me = await (await client.get("/api/me", headers=bearer(token))).json()
        async with db.writing() as s:
            await s.execute(update(User).where(User.id == me["id"]).values(role=role))
        out[role] = token
    return out


@pytest.fixture
def admin(tokens: dict[str, str]) -> str:
    return tokens["admin"]


def caller(op: dict[str, Any], tokens: dict[str, str]) -> dict[str, str]:
    """Bearer headers of a role the operation's ``x-access`` admits (admin when it admits all)."""
    callers = op.get("x-access", {}).get("callers", [])
    for role in ("admin", "customer", "companion"):
        if role in callers:
            return bearer(tokens[role])
    return bearer(tokens["admin"])


@pytest.fixture
def no_errors_logged(caplog: pytest.LogCaptureFixture) -> Iterator[list[Any]]:
    """Every structlog event and stdlib record of the test; none may be an error."""
    with structlog.testing.capture_logs() as events:
        yield events
    bad = [e for e in events if e.get("log_level") in ("error", "critical", "exception")]
    bad += [
        {"event": r.getMessage(), "exc": bool(r.exc_info)}
        for r in caplog.records
        if r.levelname in ("ERROR", "CRITICAL") or r.exc_info
    ]
    assert not bad, bad


async def openapi(client: TestClient) -> dict[str, Any]:  # type: ignore[type-arg]
    doc: dict[str, Any] = await (await client.get("/api/openapi.json")).json()
    return doc


def operations(doc: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            yield method, re.sub(r"\{[^}]+\}", "x", path), op


def json_body_schema(doc: dict[str, Any], op: dict[str, Any]) -> dict[str, Any] | None:
    content = op.get("requestBody", {}).get("content", {})
    if "application/json" not in content:
        return None
    ref = content["application/json"]["schema"].get("$ref")
    if ref is None:
        return {}  # a raw body the handler reads itself (a payment notification)
    schema: dict[str, Any] = doc["components"]["schemas"][ref.rsplit("/", 1)[1]]
    return schema


async def code_of(resp: Any) -> tuple[int, str]:
    body = await resp.json()
    return resp.status, body["error"]["code"]


async def test_hostile_json_is_400_on_every_json_route(
    client: TestClient,  # type: ignore[type-arg]
    tokens: dict[str, str],
    no_errors_logged: list[Any],
) -> None:
    doc = await openapi(client)
    routes = [(m, p, op, json_body_schema(doc, op)) for m, p, op in operations(doc)]
    assert len([r for r in routes if r[3]]) >= 30
    for method, path, op, schema in routes:
        if schema is None:
            continue
        for name, raw in HOSTILE_BODIES.items():
            resp = await client.request(
                method,
                path,
                data=raw,
                headers={**caller(op, tokens), "Content-Type": "application/json"},
            )
            status, code = await code_of(resp)
            if schema:
                assert (status, code) == (400, "malformed_json"), (method, path, name)
            else:  # signed raw bodies: refused before anything reads them
                assert 400 <= status < 500, (method, path, name, code)
    # anonymous: a route that reads the body before anyone logs in
    resp = await client.post(
        "/api/auth/sms-code", data=DEEP_UNPARSEABLE, headers={"Content-Type": "application/json"}
    )
    assert await code_of(resp) == (400, "malformed_json")


async def test_json_within_the_depth_limit_is_read(client: TestClient) -> None:  # type: ignore[type-arg]
    # a real body is 2-3 levels deep: the limit refuses nothing a client sends
    resp = await client.post(
        "/api/auth/sms-code",
        data=b'{"phone": "13800000001", "x": ' + b"[" * 20 + b"]" * 20 + b"}",
        headers={"Content-Type": "application/json"},
    )
    body = await resp.json()
    assert resp.status == 400 and body["error"]["code"] == "invalid_input"
    assert [p["loc"] for p in body["error"]["details"]["problems"]] == ["x"]


def integer_fields(doc: dict[str, Any], schema: dict[str, Any]) -> Iterator[tuple[str, int]]:
    """Each top-level integer property and a value it accepts."""
    for name, prop in schema.get("properties", {}).items():
        for alt in [prop, *prop.get("anyOf", [])]:
            if alt.get("type") == "integer":
                good = alt["enum"][0] if "enum" in alt else max(alt.get("minimum", 1), 1)
                yield name, good
                break


async def test_no_route_takes_a_float_a_bool_or_text_for_an_integer(
    client: TestClient,  # type: ignore[type-arg]
    tokens: dict[str, str],
    no_errors_logged: list[Any],
) -> None:
    doc = await openapi(client)
    checked = 0
    for method, path, op in operations(doc):
        schema = json_body_schema(doc, op)
        if schema is None:
            continue
        for field, good in integer_fields(doc, schema):
            for wrong in (float(good), True, str(good)):
                resp = await client.request(
                    method, path, json={field: wrong}, headers=caller(op, tokens)
                )
                body = await resp.json()
                assert resp.status == 400, (method, path, field, wrong, body)
                locs = {p["loc"] for p in body["error"]["details"]["problems"]}
                assert field in locs, (method, path, field, wrong, body)
                checked += 1
    assert checked >= 20  # durations, amounts, rates, stars, seq numbers …


async def test_a_booking_of_30_point_0_minutes_is_refused(
    client: TestClient,  # type: ignore[type-arg]
    tokens: dict[str, str],
) -> None:
    body = {
        "companion_id": "u_x",
        "mode": "voice",
        "starts_at": "2030-01-01T10:00:00+08:00",
        "duration_min": 30.0,
        "request_id": "req_12345678",
    }
    resp = await client.post("/api/bookings", json=body, headers=bearer(tokens["customer"]))
    payload = await resp.json()
    assert resp.status == 400, payload
    assert [p["loc"] for p in payload["error"]["details"]["problems"]] == ["duration_min"]


def all_strict_models() -> list[type[Strict]]:
    import peiliao.app  # noqa: F401  (imports every package's routes)

    seen: list[type[Strict]] = []
    todo = list(Strict.__subclasses__())
    while todo:
        model = todo.pop()
        seen.append(model)
        todo.extend(model.__subclasses__())
    return seen


def test_every_request_model_is_strict_and_offers_no_integer_literal() -> None:
    models = all_strict_models()
    assert set(m for m in protocol.EVENTS.values() if m is not None) <= set(models)
    for model in models:
        assert model.model_config.get("strict") is True, model
        assert model.model_config.get("extra") == "forbid", model
        assert model.model_config.get("allow_inf_nan") is False, model
        for name, info in model.model_fields.items():
            text = repr(info.annotation) + repr(info.metadata)
            assert "strict=False" not in text, (model, name)
            # Literal[30, 60] takes 30.0 and True (equal values); OneOf does not
            for literal in re.findall(r"Literal\[([^\]]*)\]", text):
                assert all(v.strip().startswith(("'", '"')) for v in literal.split(",")), (
                    model,
                    name,
                    literal,
                )


def query_params(op: dict[str, Any]) -> Iterator[tuple[str, str]]:
    for prm in op.get("parameters", []):
        if prm["in"] != "query":
            continue
        types = {prm["schema"].get("type")} | {
            a.get("type") for a in prm["schema"].get("anyOf", [])
        }
        for kind in ("integer", "number", "boolean"):
            if kind in types:
                yield prm["name"], kind


WRONG_SPELLINGS = {
    "integer": ["1.0", "1e0", " 1", "1 ", "+1", "01", "1_0", "0x1", "true", "", "１"],
    "number": ["1e0", "nan", "inf", "-inf", " 1", "+1", "1.", ".5", "0x1", "true", ""],
    "boolean": ["1", "0", "yes", "True", "TRUE", "on", " true", ""],
}


async def test_query_numbers_and_booleans_have_one_spelling_on_every_route(
    client: TestClient,  # type: ignore[type-arg]
    tokens: dict[str, str],
    no_errors_logged: list[Any],
) -> None:
    doc = await openapi(client)
    checked = 0
    for method, path, op in operations(doc):
        for name, kind in query_params(op):
            for wrong in WRONG_SPELLINGS[kind]:
                resp = await client.request(
                    method, path, params={name: wrong}, headers=caller(op, tokens)
                )
                body = await resp.json()
                assert resp.status == 400, (method, path, name, wrong, body)
                locs = {p["loc"] for p in body["error"]["details"]["problems"]}
                assert name in locs, (method, path, name, wrong, body)
                checked += 1
    assert checked >= 100


async def test_query_values_in_their_spelling_are_taken(client: TestClient) -> None:  # type: ignore[type-arg]
    ok = await client.get(
        "/api/companions", params={"limit": "5", "online": "false", "min_rating": "4.5"}
    )
    assert ok.status == 200, await ok.text()
    ok = await client.get("/api/companions", params={"online": "true", "mode": "voice"})
    assert ok.status == 200, await ok.text()


async def test_a_parameter_given_twice_is_refused(client: TestClient) -> None:  # type: ignore[type-arg]
    resp = await client.get("/api/companions?limit=5&limit=50")
    body = await resp.json()
    assert resp.status == 400 and body["error"]["details"]["problems"][0]["loc"] == "limit"


@pytest.mark.both_databases
async def test_nul_characters_are_refused_everywhere(
    client: TestClient,  # type: ignore[type-arg]
    admin: str,
    no_errors_logged: list[Any],
) -> None:
    resp = await client.patch("/api/me", json={"nickname": "a\u0000b"}, headers=bearer(admin))
    assert await code_of(resp) == (400, "invalid_input")
    resp = await client.get("/api/companions", params={"q": "a\u0000"})
    assert await code_of(resp) == (400, "invalid_input")
    resp = await client.get("/api/companions/u%00x/reviews")
    assert await code_of(resp) == (404, "not_found")
    resp = await client.post("/api/auth/sms-code", json={"phone": "13800000001", "\u0000": 1})
    assert await code_of(resp) == (400, "invalid_input")


def forged_cursors() -> list[str]:
    import base64
    import json

    def b64(value: object) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode()

    return [
        b64(["2026-01-01T00:00:00", "s"]),  # an unsigned position without a time zone
        b64(["2026-01-01T00:00:00+00:00", "s"]),
        b64([1]),
        b64({"a": 1}),
        "garbage",
        "a.b",
        "é" * 10,
        "x" * 250,
        b64(["reviews.of", "2026-01-01T00:00:00+00:00", "rv_1"]) + ".AAAAAAAAAAAAAAAA",
    ]


async def test_every_paged_list_refuses_a_cursor_it_did_not_issue(
    client: TestClient,  # type: ignore[type-arg]
    admin: str,
    no_errors_logged: list[Any],
) -> None:
    doc = await openapi(client)
    paged = [
        (method, path)
        for method, path, op in operations(doc)
        if any(p["name"] == "cursor" and p["in"] == "query" for p in op.get("parameters", []))
    ]
    # sessions, bookings, reviews (two), companions, voice rooms, audit, appeals
    assert len(paged) >= 8, paged
    for method, path in paged:
        for forged in forged_cursors():
            resp = await client.request(
                method, path, params={"cursor": forged}, headers=bearer(admin)
            )
            status, code = await code_of(resp)
            if status == 404 and "/x/" in path:
                continue  # no such companion "x": refused before the cursor is read
            assert (status, code) == (400, "bad_cursor"), (path, forged)


async def test_a_cursor_of_one_list_is_refused_by_another(
    client: TestClient,  # type: ignore[type-arg]
    app_cursors: Any,
    admin: str,
) -> None:
    from datetime import UTC, datetime

    sessions = app_cursors.encode_keyset("sessions.mine.all", datetime.now(UTC), "s_1")
    resp = await client.get("/api/voice-rooms", params={"cursor": sessions})
    assert await code_of(resp) == (400, "bad_cursor")
    resp = await client.get(
        "/api/me/sessions", params={"cursor": sessions, "role": "customer"}, headers=bearer(admin)
    )
    assert await code_of(resp) == (400, "bad_cursor")
    naive = app_cursors.encode("sessions.mine.all", ["2026-01-01T00:00:00", "s_1"])
    resp = await client.get("/api/me/sessions", params={"cursor": naive}, headers=bearer(admin))
    assert await code_of(resp) == (400, "bad_cursor")
    ok = await client.get("/api/me/sessions", params={"cursor": sessions}, headers=bearer(admin))
    assert ok.status == 200


@pytest.fixture
def app_cursors(client: TestClient) -> Any:  # type: ignore[type-arg]
    from kernel.http.api import CURSORS

    return client.app[CURSORS]  # type: ignore[index]


def body_property(doc: dict[str, Any], method: str, path: str, name: str) -> dict[str, Any]:
    schema = json_body_schema(doc, doc["paths"][path][method])
    assert schema
    prop: dict[str, Any] = schema["properties"][name]
    return prop


async def test_documented_bounds_are_the_enforced_bounds(
    client: TestClient,  # type: ignore[type-arg]
    outbox: DevOutbox,
) -> None:
    from market.voicerooms.rules import MAX_CAPACITY, MIN_CAPACITY
    from metering.payouts import MIN_WITHDRAWAL_FEN
    from metering.tariff import Mode, envelope
    from metering.wallet import MAX_TOPUP_FEN, MIN_TOPUP_FEN

    doc = await openapi(client)
    topup = body_property(doc, "post", "/api/wallet/topups", "amount_fen")
    assert (topup["minimum"], topup["maximum"]) == (MIN_TOPUP_FEN, MAX_TOPUP_FEN)
    withdraw = body_property(doc, "post", "/api/me/withdrawals", "amount_fen")
    assert withdraw["minimum"] == MIN_WITHDRAWAL_FEN
    capacity = body_property(doc, "post", "/api/voice-rooms", "capacity")
    assert (capacity["minimum"], capacity["maximum"]) == (MIN_CAPACITY, MAX_CAPACITY)
    for mode in Mode:
        rate = body_property(doc, "put", "/api/me/rates", f"{mode.value}_fen_per_min")
        assert (rate["minimum"], rate["maximum"]) == (
            envelope(mode).min_fen,
            envelope(mode).max_fen,
        )

    token = await login_cli(client, outbox, "13900000778")
    for amount in (topup["minimum"], topup["maximum"]):  # what the document allows is taken
        resp = await client.post(
            "/api/wallet/topups", json={"amount_fen": amount}, headers=bearer(token)
        )
        assert resp.status == 201, (amount, await resp.text())
    for amount in (topup["minimum"] - 1, topup["maximum"] + 1):  # with the domain's own code
        resp = await client.post(
            "/api/wallet/topups", json={"amount_fen": amount}, headers=bearer(token)
        )
        body = await resp.json()
        assert (resp.status, body["error"]["code"]) == (400, "invalid_amount"), body
        assert body["error"]["details"] == {"min": MIN_TOPUP_FEN, "max": MAX_TOPUP_FEN}
