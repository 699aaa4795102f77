"""Every state-changing route under concurrent requests: never a 5xx, on SQLite and PostgreSQL.

Writes that ran inside a read unit of work answered concurrent users 500 "database is locked" on
SQLite (a deferred transaction that upgrades to a write cannot wait for the lock).  ``reading()``
is now read-only in the database, so such a write fails in any test; this test is the black-box
side: it takes the routes from the app's own route table (a route added later is exercised
without anyone listing it, or the test says which ids it lacks), gives each a body generated from
its declared JSON schema (with real ids and sensible values where the schema cannot know them),
and fires 20 copies at once.  A 4xx is a fine answer (a duplicate, a conflict, a limit); a 5xx
fails.
"""

from __future__ import annotations

import asyncio
import io
import re
import secrets
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pytest
from PIL import Image

from kernel.clock import FakeClock
from metering.keys import METERING, PROVIDER
from metering.tariff import Level, Rates
from peiliao.keys import OPENAPI
from tests.accounts.test_real_name import make_id
from tests.harness import bearer
from tests.harness.rig import Person, Rig, RigFactory, make_rig
from tests.harness.sanctions import sanctioned
from tests.market.appeals.helpers import ended_session
from tests.market.bookings.helpers import open_calendar, slot
from tests.market.vetting.conftest import FORM, PNG, WEBM, submitted, verify

__all__ = ["make_rig"]

pytestmark = [pytest.mark.timeout(180), pytest.mark.both_databases]

CONCURRENT = 20
ROUTES_AT_ONCE = 4
STATE_CHANGING = ("POST", "PUT", "PATCH", "DELETE")
#: python-socketio's long-polling transport: mounted on the router, not one of our routes
NOT_OURS = {("POST", "/socket.io/")}
_PATH_PARAM = re.compile(r"\{([a-zA-Z_][a-zA-Z0-9_]*)\}")
_TOKEN_CLASS = re.compile(r"\^\[[A-Za-z0-9_\\-]+\]\+\$")
_TEXT = "并发写入测试，一切正常。"


def write_routes(app: Any) -> list[tuple[str, str]]:
    """The state-changing routes, from the OpenAPI document the route table generates, checked
    against what is mounted on the router (so nothing escapes the table)."""
    doc = app[OPENAPI]
    documented = {
        (m.upper(), p)
        for p, ops in doc["paths"].items()
        for m in ops
        if m.upper() in STATE_CHANGING
    }
    mounted = {
        (r.method, r.resource.canonical)
        for r in app.router.routes()
        if r.method in STATE_CHANGING and r.resource is not None
    } - NOT_OURS
    assert mounted == documented, mounted ^ documented
    return sorted(documented)


#: routes that act on what another route of the same phase makes (the review POST makes)
_AFTER_OTHERS = {("PUT", "/api/sessions/{session_id}/review")}


def phase(route: tuple[str, str]) -> int:
    """Routes run in phases, the routes of a phase at the same time: first those that act on
    things, then an admin's, then those that end them (close, decide, hide, delete), admins last,
    so that each route finds its subject still open."""
    method, path = route
    ends = method == "DELETE" or path.endswith(("/close", "/decision", "/hide"))
    later = path.startswith("/api/admin/") or route in _AFTER_OTHERS
    return 2 * ends + later


def sample(schema: dict[str, Any], doc: dict[str, Any], name: str = "") -> Any:
    """A valid value for a JSON schema (the subset pydantic emits for our request models)."""
    if "$ref" in schema:
        return sample(doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]], doc, name)
    if "anyOf" in schema:
        options = [o for o in schema["anyOf"] if o.get("type") != "null"]
        return sample(options[0], doc, name)
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object":
        props = schema.get("properties", {})
        return {k: sample(props[k], doc, k) for k in schema.get("required", [])}
    if kind == "array":
        return [sample(schema["items"], doc, name) for _ in range(schema.get("minItems", 0))]
    if kind == "boolean":
        return True
    if kind == "integer":
        low, high = schema.get("minimum", 1), schema.get("maximum", 1_000_000)
        return max(low, min(high, 100))
    assert kind == "string", (name, schema)
    low, high = schema.get("minLength", 0), schema.get("maxLength", 64)
    if schema.get("format") == "date-time":
        return "2030-01-01T00:00:00+00:00"
    pattern = schema.get("pattern")
    if pattern is not None:
        # Only "one or more of a character class" is generated; a route with another pattern
        # gets an explicit value in BODIES.
        assert _TOKEN_CLASS.fullmatch(pattern), f"no generator for {name!r}: {pattern}"
        value = ("cw" + secrets.token_hex(16))[: max(low, min(high, 16))]
        assert re.fullmatch(pattern, value)
        return value
    return (_TEXT * (1 + low // len(_TEXT)))[: max(low, min(high, len(_TEXT)))]


@dataclass
class Case:
    """How to send one route: who, the path's ids, and the body (JSON or raw)."""

    who: Person | None
    params: dict[str, str] = field(default_factory=dict)
    json: dict[str, Any] | None = None
    raw: tuple[bytes, str] | None = None
    query: dict[str, str] | None = None


def png(size: int = 64) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (size, size), (200, 80, 120)).save(out, format="PNG")
    return out.getvalue()


class World:
    """The people and things the routes act on, made the way users make them (HTTP, sockets)."""

    def __init__(self, rig: Rig) -> None:
        self.rig = rig

    async def setup(self) -> None:
        rig = self.rig
        self.admin = await rig.person("admin")
        self.cust = await rig.person(fund_fen=100_000)
        self.comp = await rig.person("companion")
        # A senior companion: only they sell packages.
        await rig.app[METERING].set_rates(
            self.comp.user_id, Rates(100, 400, 800), level=Level.SENIOR
        )
        # Ended, paid sessions: one to review and appeal through the routes, one with a review
        # and one with an appeal made here for the routes that act on them.
        self.s1_cust, self.s1_comp, self.s1 = await ended_session(rig)
        self.s2_cust, self.s2_comp, self.s2 = await ended_session(rig)
        self.s3_cust, self.s3_comp, self.s3 = await ended_session(rig)
        self.review = await self.ok(
            "POST", f"/api/sessions/{self.s2}/review", self.s2_cust, json={"stars": 4}, status=201
        )
        self.appeal = await self.ok(
            "POST",
            f"/api/sessions/{self.s3}/appeal",
            self.s3_cust,
            json={"reason": "rude", "text": _TEXT * 2, "request_id": "apl-" + secrets.token_hex(6)},
            status=201,
        )
        # Money: an unpaid order, and a companion with available earnings and a pending
        # (reviewed) withdrawal.
        self.order = await self.ok(
            "POST", "/api/wallet/topups", self.cust, json={"amount_fen": 500}, status=201
        )
        rig.clock.advance(72 * 3600)
        await rig.app[METERING].settle_earnings()
        await self.ok(
            "PUT",
            "/api/me/payout-account",
            self.s1_comp,
            json={"method": "alipay", "account": "someone@example.com"},
        )
        self.withdrawal = await self.ok(
            "POST", "/api/me/withdrawals", self.s1_comp, json={"amount_fen": 150}, status=201
        )
        # The market: a calendar, bookings to confirm / decline / cancel, an offer, a room.
        await open_calendar(rig, self.comp)
        self.bookings = [await self.book(hours) for hours in (30, 32, 34)]
        self.offer = await self.ok(
            "POST",
            "/api/me/package-offers",
            self.comp,
            json={"kind": "weekly", "mode": "text", "minutes": 60, "price_fen": 4000},
            status=201,
        )
        self.room_host = await rig.person("companion")
        self.room = await self.ok(
            "POST",
            "/api/voice-rooms",
            self.room_host,
            json={"title": "夜聊", "rate_fen_per_min": 300, "capacity": 5},
            status=201,
        )
        self.blocked = await rig.person("companion")
        await self.ok("POST", "/api/blocks", self.cust, json={"user_id": self.blocked.user_id})
        self.report = await self.ok(
            "POST",
            "/api/reports",
            self.cust,
            json={"user_id": self.s1_comp.user_id, "reason": "harassment"},
            status=201,
        )
        # Two cases of their own (the report above has its own route): one to decide, one
        # decided, to undo.
        for target, reason in ((self.s3_comp, "offline_meeting"), (self.room_host, "upselling")):
            body = {"user_id": target.user_id, "reason": reason}
            await self.ok("POST", "/api/reports", self.cust, json=body, status=201)
        queue = (await self.ok("GET", "/api/admin/cases", self.admin))["cases"]
        self.mod_case = next(c for c in queue if c["target"]["id"] == self.s3_comp.user_id)
        self.undo_case = next(c for c in queue if c["target"]["id"] == self.room_host.user_id)
        decision = {"decision": "dismissed", "note": "证据不足", "version": 0}
        path = f"/api/admin/cases/{self.undo_case['id']}/decision"
        await self.ok("POST", path, self.admin, json=decision)
        self.warned, self.warnings, self.appeal_token = await sanctioned(rig, self.admin)
        self.ticket = await self.ok(
            "POST",
            "/api/tickets",
            self.cust,
            json={
                "category": "other",
                "subject": "问题",
                "body": _TEXT,
                "request_id": "tk-" + secrets.token_hex(6),
            },
            status=201,
        )
        # Vetting: a verified applicant with a draft and a certificate, and a submitted one.
        self.applicant = await rig.person()
        await verify(rig, self.applicant)
        await self.ok("PUT", "/api/me/application", self.applicant, json=FORM)
        draft = await self.raw(
            "POST",
            "/api/me/application/certificates",
            self.applicant,
            PNG,
            "image/png",
            params={"category": "心理咨询"},
        )
        self.certificate = draft["certificates"][0]["id"]
        self.submitter = await rig.person()
        await verify(rig, self.submitter)
        self.application = await submitted(rig, self.submitter)
        self.submitter2 = await rig.person()
        await verify(rig, self.submitter2)
        await self.ok("PUT", "/api/me/application", self.submitter2, json=FORM)
        await self.raw(
            "PUT", "/api/me/application/voice-sample", self.submitter2, WEBM, "audio/webm"
        )

    async def book(self, hours: float) -> str:
        body = await self.ok(
            "POST",
            "/api/bookings",
            self.cust,
            json={
                "companion_id": self.comp.user_id,
                "mode": "voice",
                "starts_at": slot(self.rig, hours).isoformat(),
                "duration_min": 60,
                "request_id": "bk-" + secrets.token_hex(8),
            },
            status=201,
        )
        return str(body["id"])

    async def ok(self, method: str, path: str, who: Person, *, status: int = 200, **kw: Any) -> Any:
        resp = await self.rig.http.request(method, path, headers=bearer(who.token), **kw)
        assert resp.status == status, (method, path, resp.status, await resp.text())
        return await resp.json()

    async def raw(
        self, method: str, path: str, who: Person, data: bytes, ctype: str, **kw: Any
    ) -> Any:
        headers = bearer(who.token) | {"Content-Type": ctype}
        resp = await self.rig.http.request(method, path, data=data, headers=headers, **kw)
        assert resp.status in (200, 201), (method, path, resp.status, await resp.text())
        return await resp.json()

    async def case(self, method: str, path: str) -> Case:
        """The route's sender, ids and body overrides.  Routes not named here are sent by a
        customer with a generated body; a route with ids in its path must be named."""
        rig = self.rig
        fresh = rig.person
        match method, path:
            case "POST", "/api/auth/sms-code":
                return Case(None, json={"phone": self.cust.phone})
            case "POST", "/api/auth/login":
                phone = "13" + "".join(secrets.choice("0123456789") for _ in range(9))
                resp = await rig.http.post("/api/auth/sms-code", json={"phone": phone})
                assert resp.status == 200, await resp.text()
                code = rig.outbox.messages(phone, 1)[0].code
                return Case(None, json={"phone": phone, "code": code, "client": "cli"})
            case (
                ("POST", "/api/auth/logout")
                | ("POST", "/api/auth/logout-all")
                | (
                    "DELETE",
                    "/api/me",
                )
            ):
                return Case(await fresh(fund_fen=0))
            case "PATCH", "/api/me":
                return Case(await fresh(), json={"nickname": "并发", "tags": []})
            case "PUT", "/api/me/avatar":
                return Case(await fresh(), raw=(png(), "image/png"))
            case "PUT", "/api/me/real-name":
                born = make_id(date(1990, 5, 5), f"{secrets.randbelow(1000):03d}", "110105")
                return Case(await fresh(), json={"name": "李小明", "id_number": born})
            case "POST", "/api/wallet/topups/{order_id}/refresh":
                return Case(self.cust, {"order_id": self.order["order_id"]})
            case "POST", "/api/payments/{provider}/notify":
                order = await self.ok(
                    "POST", "/api/wallet/topups", self.cust, json={"amount_fen": 300}, status=201
                )
                signed = rig.app[PROVIDER].notification_for(order["order_id"], 300)
                return Case(
                    None, {"provider": "sandbox"}, raw=(signed, "application/x-www-form-urlencoded")
                )
            case "POST", "/api/payments/sandbox/pay/{order_id}":
                return Case(self.cust, {"order_id": self.order["order_id"]})
            case "POST", "/api/packages":
                packages = await (await rig.http.get("/api/packages")).json()
                return Case(
                    await fresh(fund_fen=100_000), json={"code": packages["packages"][0]["code"]}
                )
            case "POST", "/api/coupons/trial":
                return Case(await fresh(), json={"kind": "minutes"})
            case "PUT", "/api/me/rates":
                return Case(
                    self.comp,
                    json={
                        "text_fen_per_min": 100,
                        "voice_fen_per_min": 400,
                        "video_fen_per_min": 800,
                    },
                )
            case "POST", "/api/admin/sessions/{session_id}/refunds":
                return Case(
                    self.admin, {"session_id": self.s1}, json={"amount_fen": 10, "key": "rf-1"}
                )
            case "PUT", "/api/me/payout-account":
                return Case(self.s2_comp, json={"method": "alipay", "account": "x@example.com"})
            case "POST", "/api/me/withdrawals":
                return Case(self.s1_comp, json={"amount_fen": 100})
            case "POST", "/api/admin/withdrawals/{withdrawal_id}/decision":
                return Case(
                    self.admin,
                    {"withdrawal_id": self.withdrawal["id"]},
                    json={"approve": True, "reason": "ok"},
                )
            case "POST", "/api/me/package-offers":
                return Case(
                    self.comp,
                    json={"kind": "monthly", "mode": "voice", "minutes": 60, "price_fen": 18_000},
                )
            case "POST", "/api/package-offers/{offer_id}/buy":
                return Case(self.cust, {"offer_id": self.offer["id"]})
            case "POST", "/api/blocks":
                return Case(self.cust, json={"user_id": self.s3_comp.user_id})
            case "DELETE", "/api/blocks/{user_id}":
                return Case(self.cust, {"user_id": self.blocked.user_id})
            case "POST", "/api/reports":
                return Case(self.cust, json={"user_id": self.s2_comp.user_id, "reason": "other"})
            case "POST", "/api/admin/reports/{report_id}/decision":
                return Case(self.admin, {"report_id": self.report["id"]})
            case "POST", "/api/admin/cases/{case_id}/decision":
                return Case(
                    self.admin,
                    {"case_id": self.mod_case["id"]},
                    json={
                        "decision": "confirmed",
                        "note": "骚扰",
                        "version": self.mod_case["version"],
                        "sanction": {"kind": "warn"},
                    },
                )
            case "POST", "/api/admin/cases/{case_id}/undo":
                return Case(self.admin, {"case_id": self.undo_case["id"]})
            case ("PUT", "/api/favourites/{companion_id}") | (
                "DELETE",
                "/api/favourites/{companion_id}",
            ):
                return Case(self.cust, {"companion_id": self.comp.user_id})
            case "POST", "/api/voice-rooms":
                return Case(
                    await fresh("companion"),
                    json={"title": "新房间", "rate_fen_per_min": 300, "capacity": 4},
                )
            case "POST", "/api/voice-rooms/{room_id}/close":
                return Case(self.room_host, {"room_id": self.room["id"]})
            case "PUT", "/api/me/availability":
                return Case(
                    self.comp, json={"ranges": [{"weekday": 1, "start": "09:00", "end": "18:00"}]}
                )
            case "POST", "/api/bookings":
                return Case(
                    self.cust,
                    json={
                        "companion_id": self.comp.user_id,
                        "mode": "voice",
                        "starts_at": slot(rig, 40).isoformat(),
                        "duration_min": 60,
                        "request_id": "bk-" + secrets.token_hex(8),
                    },
                )
            case "POST", "/api/bookings/{booking_id}/confirm":
                return Case(self.comp, {"booking_id": self.bookings[0]})
            case "POST", "/api/bookings/{booking_id}/decline":
                return Case(self.comp, {"booking_id": self.bookings[1]})
            case "POST", "/api/bookings/{booking_id}/cancel":
                return Case(self.cust, {"booking_id": self.bookings[2]})
            case "POST", "/api/sessions/{session_id}/review":
                return Case(self.s1_cust, {"session_id": self.s1}, json={"stars": 5})
            case "PUT", "/api/sessions/{session_id}/review":
                # The review the POST above made (the one made in setup gets a reply).
                return Case(self.s1_cust, {"session_id": self.s1}, json={"stars": 3})
            case "POST", "/api/reviews/{review_id}/reply":
                return Case(self.s2_comp, {"review_id": self.review["id"]})
            case "POST", "/api/reviews/{review_id}/report":
                return Case(self.s2_comp, {"review_id": self.review["id"]})
            case "POST", "/api/admin/reviews/{review_id}/hide":
                return Case(self.admin, {"review_id": self.review["id"]})
            case "POST", "/api/sessions/{session_id}/appeal":
                return Case(self.s1_cust, {"session_id": self.s1})
            case "POST", "/api/appeals/{appeal_id}/response":
                return Case(self.s3_comp, {"appeal_id": self.appeal["id"]})
            case "POST", "/api/admin/appeals/{appeal_id}/decision":
                return Case(
                    self.admin,
                    {"appeal_id": self.appeal["id"]},
                    json={"outcome": "partial", "amount_fen": 100, "reason": "部分退款"},
                )
            case "POST", "/api/tickets":
                return Case(self.s1_cust)
            case ("POST", "/api/tickets/{ticket_id}/messages") | (
                "POST",
                "/api/tickets/{ticket_id}/close",
            ):
                return Case(self.cust, {"ticket_id": self.ticket["id"]})
            case ("POST", "/api/admin/tickets/{ticket_id}/messages") | (
                "POST",
                "/api/admin/tickets/{ticket_id}/close",
            ):
                return Case(self.admin, {"ticket_id": self.ticket["id"]})
            case "PUT", "/api/me/application":
                return Case(self.applicant, json=FORM)
            case "PUT", "/api/me/application/voice-sample":
                return Case(self.applicant, raw=(WEBM, "audio/webm"))
            case "POST", "/api/me/application/certificates":
                return Case(self.applicant, raw=(PNG, "image/png"), query={"category": "心理咨询"})
            case "DELETE", "/api/me/application/certificates/{certificate_id}":
                return Case(self.applicant, {"certificate_id": self.certificate})
            case "POST", "/api/me/application/submit":
                return Case(self.submitter2)
            case "POST", "/api/admin/applications/{application_id}/decision":
                return Case(self.admin, {"application_id": self.application})
            case "POST", "/api/admin/users/{user_id}/sanctions":
                return Case(self.admin, {"user_id": self.warned.user_id}, json={"kind": "warn"})
            case "POST", "/api/admin/sanctions/{sanction_id}/lift":
                return Case(self.admin, {"sanction_id": self.warnings[0]})
            case "POST", "/api/me/sanctions/{sanction_id}/appeal":
                return Case(self.warned, {"sanction_id": self.warnings[1]})
            case "POST", "/api/sanctions/appeal":
                return Case(None, json={"token": self.appeal_token})
        assert not _PATH_PARAM.search(path), f"{method} {path}: name the ids it acts on in case()"
        return Case(self.cust)


async def fire(
    rig: Rig, method: str, path: str, case: Case, body: Callable[[], Any]
) -> list[tuple[int, str]]:
    """``CONCURRENT`` copies of one request at once: (status, body) of each.  Half carry the same
    body (a client's retries), half a body of their own (different clients' requests)."""
    url = path.format(**case.params)
    headers = bearer(case.who.token) if case.who is not None else {}
    same = body()

    async def one(i: int) -> tuple[int, str]:
        kw: dict[str, Any] = {"headers": dict(headers), "params": case.query}
        if case.raw is not None:
            kw["data"] = case.raw[0]
            kw["headers"]["Content-Type"] = case.raw[1]
        elif same is not None:
            kw["json"] = same if i % 2 == 0 else body()
        resp = await rig.http.request(method, url, **kw)
        return resp.status, (await resp.text())[:300]

    return await asyncio.gather(*(one(i) for i in range(CONCURRENT)))


def body_for(doc: dict[str, Any], method: str, path: str, case: Case) -> Callable[[], Any]:
    op = doc["paths"][path][method.lower()]
    schema = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
    if case.raw is not None or schema is None:
        return lambda: None
    return lambda: sample(schema, doc) | (case.json or {})


#: routes that may answer only 4xx under this load, and why (every other route must succeed at
#: least once, so the test cannot quietly turn into twenty validation errors per route)
NO_SUCCESS_NEEDED = {
    ("POST", "/api/payments/{provider}/notify"): "answers 200 with a body the gateway expects",
}


async def test_every_state_changing_route_survives_concurrent_requests(
    make_rig: RigFactory, clock: FakeClock
) -> None:
    async with make_rig(
        clock,
        sms_max_per_ip_per_hour=10_000,
        withdraw_review_above_fen=120,
        booking_sweep_interval_s=3600.0,
    ) as rig:
        world = World(rig)
        started = time.monotonic()
        await world.setup()
        print(f"setup: {time.monotonic() - started:.2f} s")
        doc = rig.app[OPENAPI]
        failures: dict[str, list[tuple[int, str]]] = {}
        never_ok: list[str] = []
        summary: dict[str, Counter[int]] = {}
        # A few routes at a time, each with its 20 requests: more contention, less wall time.
        gate = asyncio.Semaphore(ROUTES_AT_ONCE)

        async def exercise(method: str, path: str) -> None:
            async with gate:
                case = await world.case(method, path)
                started = time.monotonic()
                answers = await fire(rig, method, path, case, body_for(doc, method, path, case))
            route = f"{method} {path} ({time.monotonic() - started:.2f} s)"
            summary[route] = Counter(status for status, _ in answers)
            bad = [a for a in answers if a[0] >= 500]
            if bad:
                failures[route] = bad[:2]
            if not any(200 <= s < 300 for s, _ in answers) and (method, path) not in (
                NO_SUCCESS_NEEDED
            ):
                never_ok.append(f"{route}: {answers[0]}")

        routes = write_routes(rig.app)
        for step in range(4):
            await asyncio.gather(*(exercise(*r) for r in routes if phase(r) == step))
        print("\n".join(f"{r}: {dict(c)}" for r, c in summary.items()))
        assert not failures, failures
        assert not never_ok, never_ok
