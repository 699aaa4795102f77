"""The authorization matrix, generated from the route table and the Socket.IO event table.

Every HTTP route declares who may call it and whose resource each id in its path names
(``peiliao/http/access.py``).  Here one resource of every kind is made, owned by a customer and a
companion, and every route is called as anonymous, the owners, another customer, another
companion and an admin, with a valid-shaped body:

- a caller the route's declaration does not allow, or who does not own what the path names,
  gets 401, 403 or 404: never a 2xx, never a 5xx, never a body naming the owner;
- a caller it allows (an owner, an admin where declared) is never refused 401/403, and the body
  they sent is valid (so the refusal of the others was not a 400 in disguise);
- nobody but its author and the admins ever receives anything joining the anonymous review to
  its author (``reviews/visibility.py``).

A new route without a declaration, or naming a kind of resource this file cannot make, fails
here; so does a new client event that ``SOCKET_CASES`` does not cover.  SQLite only: the rules
are the services', not the database's, and the suite's time is better spent elsewhere.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from pydantic import BaseModel
from sqlalchemy import select

from kernel.clock import FakeClock
from kernel.http.access import Access
from kernel.http.api import ENDPOINTS, Endpoint, path_params
from media.evidence import AudioPacket, Snapshot
from metering.keys import METERING
from metering.tariff import Level, Rates
from signaling.protocol import EVENTS
from store.models import Report
from tests.harness import bearer
from tests.harness.rig import Person, Rig, RigFactory, make_rig, request_id, rig
from tests.market.bookings.helpers import booked, open_calendar, slot
from tests.market.reviews.helpers import paid_session, rename
from tests.market.vetting.conftest import PNG, applicant, certificate, submitted, verify

__all__ = ["make_rig", "rig"]

pytestmark = pytest.mark.timeout(120)
#: the rules are the services', not the database's: SQLite is enough
SQLITE = pytest.mark.parametrize("db_target", ["sqlite"], indirect=True)

ROLE_OF = {
    "anonymous": None,
    "cust": "customer",
    "comp": "companion",
    "other_cust": "customer",
    "other_comp": "companion",
    "admin": "admin",
}

#: for each kind of path id: which of the personas each declared relation means
RELATIONS: dict[str, dict[str, set[str]]] = {
    "session_id": {"participant": {"cust", "comp"}, "customer": {"cust"}, "companion": {"comp"}},
    "booking_id": {"participant": {"cust", "comp"}, "customer": {"cust"}, "companion": {"comp"}},
    "review_id": {"customer": {"cust"}, "companion": {"comp"}},
    "appeal_id": {"participant": {"cust", "comp"}, "customer": {"cust"}, "companion": {"comp"}},
    "ticket_id": {"self": {"cust"}},
    "order_id": {"self": {"cust"}},
    "certificate_id": {"self": {"cust"}},
    "room_id": {"host": {"comp"}},
    "sanction_id": {"self": {"cust"}},
    "report_id": {},
    "evidence_id": {},
    "case_id": {},
    "withdrawal_id": {},
    "application_id": {},
    "offer_id": {},
    "user_id": {},
    "companion_id": {},
    "provider": {},
}

#: routes that end the caller's login: called by a fresh person, last
SESSION_ENDING = {
    ("POST", "/api/auth/logout"),
    ("POST", "/api/auth/logout-all"),
    ("DELETE", "/api/me"),
}


def endpoints(app: Any) -> list[Endpoint]:
    """The app's route table, as ``Api.mount`` recorded it."""
    return list(app[ENDPOINTS])


def test_every_route_declares_who_may_call_it_and_whose_ids_it_takes() -> None:
    from kernel.settings import Settings
    from peiliao.app import create_app

    app = create_app(
        Settings(
            env="dev",
            database_url="sqlite+aiosqlite:///:memory:",
            secret_key="x" * 40,
            web_dist_dir="/nonexistent",
        )
    )
    eps = endpoints(app)
    assert len(eps) > 100, "the route table was not found"
    undeclared = [f"{e.method} {e.path}" for e in eps if e.access is None]
    assert not undeclared, f"routes without access=access(...): {undeclared}"
    for e in eps:
        assert e.access is not None
        params = set(path_params(e.path))
        assert set(e.access.owners) == params, (e.path, "declare whose every path id is")
        unknown = params - set(RELATIONS)
        assert not unknown, f"{e.path}: teach this test to make a {unknown} of someone else"


# -- the world: people and one resource of each kind ---------------------------------------------


@dataclass
class World:
    people: dict[str, Person | None]
    ids: dict[str, str]
    #: strings that name the owners (never in a refusal)
    owner_marks: set[str]
    #: what joins the anonymous review to its author (only they and admins may receive it)
    review_marks: set[str]
    review_id: str
    review_text: str
    #: a user outside it all: whom blocks and reports name
    stranger: Person

    def who(self, name: str) -> Person | None:
        return self.people[name]


async def make_world(rig: Rig) -> World:
    cust = await rig.person(fund_fen=100_000)
    comp, comp_sock = await rig.online_companion()
    await rename(rig, cust, "隐名客户")
    people: dict[str, Person | None] = {
        "anonymous": None,
        "cust": cust,
        "comp": comp,
        "other_cust": await rig.person(fund_fen=100_000),
        "other_comp": await rig.person("companion"),
        "admin": await rig.person("admin"),
    }
    ids: dict[str, str] = {}
    # a paid session, reviewed anonymously and appealed
    _, _, sid = await paid_session(rig, cust, (comp, comp_sock), seconds=181)
    ids["session_id"] = sid
    text = "匿名评价的正文" + secrets.token_hex(3)
    resp = await rig.http.post(
        f"/api/sessions/{sid}/review",
        json={"stars": 2, "text": text, "anonymous": True},
        headers=bearer(cust.token),
    )
    assert resp.status == 201, await resp.text()
    review = await resp.json()
    ids["review_id"] = review["id"]
    rig.clock.advance(3 * 3600 + 7)  # no later write shares the review's exact time
    resp = await rig.http.post(
        f"/api/sessions/{sid}/appeal",
        json={"reason": "rude", "text": "陪聊师一直在敷衍说难听的话", "request_id": "apl-0001"},
        headers=bearer(cust.token),
    )
    assert resp.status == 201, await resp.text()
    ids["appeal_id"] = (await resp.json())["id"]
    # a booking
    await open_calendar(rig, comp)
    ids["booking_id"] = (await booked(rig, cust, comp, slot(rig, 30)))["id"]
    # a ticket about the session
    resp = await rig.http.post(
        "/api/tickets",
        json={
            "category": "session",
            "subject": "扣费疑问",
            "body": "这次通话扣费好像不对",
            "session_id": sid,
            "request_id": request_id(),
        },
        headers=bearer(cust.token),
    )
    assert resp.status == 201, await resp.text()
    ids["ticket_id"] = (await resp.json())["id"]
    # a top-up order
    resp = await rig.http.post(
        "/api/wallet/topups", json={"amount_fen": 1000}, headers=bearer(cust.token)
    )
    assert resp.status == 201, await resp.text()
    ids["order_id"] = (await resp.json())["order_id"]
    # a report (the admins' resource)
    resp = await rig.http.post(
        "/api/reports",
        json={"user_id": comp.user_id, "reason": "other", "call_id": sid},
        headers=bearer(cust.token),
    )
    assert resp.status == 201, await resp.text()
    ids["report_id"] = (await resp.json())["id"]
    # a piece of that report's call evidence (the admins'), sealed as a report would seal it
    window = Snapshot(comp.user_id, 1.0, (AudioPacket(0.5, 0, b"\x78" + bytes(40)),), ())
    store = rig.signaling.media.evidence
    assert await store.keep(ids["report_id"], sid, [window]) == "kept"
    ids["evidence_id"] = (await store.of_report(ids["report_id"]))[0].id
    async with rig.db.reading() as s:  # the case the report opened (the admins' resource)
        case_id = await s.scalar(select(Report.case_id).where(Report.id == ids["report_id"]))
    assert case_id is not None
    ids["case_id"] = case_id
    # an application with a certificate (the customer's own), and a submitted one (admins')
    await verify(rig, cust)
    resp = await rig.http.put(
        "/api/me/application",
        json={
            "specialties": ["心理咨询", "情感倾诉"],
            "gender": "female",
            "intro": "你好，我是一个温柔耐心的倾听者，喜欢音乐和电影，陪你度过每一个难眠的夜晚。",
            "text_fen_per_min": 200,
            "voice_fen_per_min": 800,
            "video_fen_per_min": 2000,
        },
        headers=bearer(cust.token),
    )
    assert resp.status == 200, await resp.text()
    status, body = await certificate(rig, cust, "心理咨询", PNG)
    assert status == 201, body
    ids["certificate_id"] = body["certificates"][0]["id"]
    ids["application_id"] = await submitted(rig, await applicant(rig))
    # a voice room the companion hosts, and a package they offer (senior companions do)
    await rig.app[METERING].set_rates(comp.user_id, Rates(100, 300, 600), level=Level.SENIOR)
    resp = await rig.http.post(
        "/api/voice-rooms",
        json={"title": "晚间闲聊", "rate_fen_per_min": 200, "capacity": 4},
        headers=bearer(comp.token),
    )
    assert resp.status == 201, await resp.text()
    ids["room_id"] = (await resp.json())["id"]
    resp = await rig.http.post(
        "/api/me/package-offers",
        json={"kind": "weekly", "mode": "voice", "minutes": 30, "price_fen": 5000},
        headers=bearer(comp.token),
    )
    assert resp.status in (200, 201), await resp.text()
    ids["offer_id"] = (await resp.json())["id"]
    # no withdrawal can exist yet (earnings are held): a well-formed id of none
    ids["withdrawal_id"] = "wd_" + secrets.token_hex(12)
    ids["user_id"] = ids["companion_id"] = comp.user_id
    # a warning of the customer's (a warning restricts nothing: the matrix goes on)
    admin = people["admin"]
    resp = await rig.http.post(
        f"/api/admin/users/{cust.user_id}/sanctions",
        json={"kind": "warn", "reason": "提醒：请勿索要联系方式"},
        headers=bearer(admin.token),
    )
    assert resp.status == 201, await resp.text()
    ids["sanction_id"] = (await resp.json())["id"]
    ids["provider"] = "sandbox"
    return World(
        people=people,
        ids=ids,
        owner_marks={cust.user_id, cust.phone, "隐名客户"},
        review_marks={cust.user_id, cust.phone, "隐名客户", sid, review["created_at"]},
        review_id=review["id"],
        review_text=text,
        stranger=await rig.person(),
    )


# -- valid-shaped bodies -------------------------------------------------------------------------


def overrides(w: World) -> dict[str, Any]:
    """Field values a schema cannot tell (ids of this world, a slot, a phone)."""
    bystander = w.stranger
    return {
        "phone": "+86 138-0000-" + f"{secrets.randbelow(10000):04d}",
        "code": "000000",
        "user_id": bystander.user_id,
        "companion_id": w.ids["companion_id"],
        "starts_at": "2030-01-07T10:00:00+08:00",
        "request_id": request_id(),
        "session_id": w.ids["session_id"],
        "booking_id": w.ids["booking_id"],
        "call_id": w.ids["session_id"],
        "ranges": [{"weekday": 0, "start": "09:00", "end": "18:00"}],
        "title": "晚间闲聊",
        "capacity": 4,
        "message_seq": None,
        "nickname": "改个名字",
        "tags": [],
        "specialties": ["情感倾诉"],
        # an edit by the author keeps it anonymous (else what it hides is theirs to show)
        "anonymous": True,
        "ids": f"{w.ids['companion_id']},{bystander.user_id}",
    }


def sample(model: type[BaseModel], w: World) -> dict[str, Any]:
    """A body (or query) ``model`` accepts: required fields, from the schema and ``overrides``."""
    schema = model.model_json_schema()
    defs = schema.get("$defs", {})
    fixed = overrides(w)

    def value(s: dict[str, Any], name: str | None) -> Any:
        if name in fixed:
            return fixed[name]
        if "$ref" in s:
            return value(defs[s["$ref"].rsplit("/", 1)[-1]], name)
        for key in ("anyOf", "oneOf"):
            if key in s:
                options = [o for o in s[key] if o.get("type") != "null"]
                return value(options[0], name)
        if "const" in s:
            return s["const"]
        if "enum" in s:
            return s["enum"][0]
        kind = s.get("type")
        if kind == "object":
            required = s.get("required", [])
            wanted = set(required) | {"anonymous"}  # (optional, but an edit must keep it)
            return {k: value(v, k) for k, v in s.get("properties", {}).items() if k in wanted}
        if kind == "array":
            return [value(s["items"], None) for _ in range(s.get("minItems", 0))]
        if kind == "integer":
            return max(s.get("minimum", 1), s.get("exclusiveMinimum", 0) + 1)
        if kind == "number":
            return s.get("minimum", 1)
        if kind == "boolean":
            return False
        if s.get("format") == "date-time":
            return "2030-01-07T10:00:00+08:00"
        if s.get("format") == "date":
            return "2030-01-07"
        text = "abcd1234efgh5678" if "pattern" in s else "测试内容abc12345"
        return text[: s.get("maxLength", 16)].ljust(s.get("minLength", 1), "x")

    body = value(schema, None)
    model.model_validate(body, strict=False)  # else: teach ``overrides`` the field
    return body  # type: ignore[no-any-return]


# -- calling -------------------------------------------------------------------------------------


def fill(path: str, ids: dict[str, str]) -> str:
    for name in path_params(path):
        path = path.replace("{" + name + "}", ids[name])
    return path


async def send(rig: Rig, ep: Endpoint, who: Person | None, w: World) -> tuple[int, str]:
    headers = bearer(who.token) if who else {}
    kw: dict[str, Any] = {}
    if ep.body is not None:
        kw["json"] = sample(ep.body, w)
    elif ep.raw_body_types:
        kw["data"] = PNG
        headers = headers | {"Content-Type": ep.raw_body_types[0]}
    if ep.query is not None:
        q = sample(ep.query, w)
        kw["params"] = {k: str(v) for k, v in q.items() if v is not None}
    resp = await rig.http.request(ep.method, fill(ep.path, w.ids), headers=headers, **kw)
    text = await resp.text() if resp.content_type.startswith(("application/json", "text/")) else ""
    return resp.status, text


def records_about(text: str, keys: set[str]) -> Iterator[str]:
    """Each JSON object in ``text`` that holds one of ``keys`` as a value of its own (the record
    of that thing, not the whole document it sits in), serialized; the text if not JSON."""
    try:
        doc = json.loads(text)
    except ValueError:
        if any(k in text for k in keys):
            yield text
        return
    stack = [doc]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if any(v in keys for v in node.values() if isinstance(v, str)):
                yield json.dumps(node, ensure_ascii=False)
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


def permitted(access: Access, persona: str) -> bool:
    if not access.allows(ROLE_OF[persona]):
        return False
    for name, whose in access.owners.items():
        if "public" in whose:
            continue
        mine = set().union(*(RELATIONS[name].get(r, set()) for r in whose))
        if "admin" in whose:
            mine.add("admin")
        if persona not in mine:
            return False
    return True


def order(eps: list[Endpoint]) -> Iterator[Endpoint]:
    """Reads first, then writes, so what the owners change cannot hide a leak from a read."""
    yield from (e for e in eps if e.method == "GET")
    yield from (e for e in eps if e.method != "GET" and (e.method, e.path) not in SESSION_ENDING)


@pytest.fixture
async def matrix_rig(make_rig: RigFactory, clock: FakeClock) -> AsyncIterator[Rig]:
    """A rig whose SMS limit per network admits the many logins of the matrix."""
    async with make_rig(clock, sms_max_per_ip_per_hour=10_000) as rig:
        yield rig


@SQLITE
async def test_every_route_refuses_whoever_it_does_not_declare(matrix_rig: Rig) -> None:
    rig = matrix_rig
    w = await make_world(rig)
    eps = endpoints(rig.app)
    problems: list[str] = []

    def check(ep: Endpoint, persona: str, status: int, text: str) -> None:
        where = f"{ep.method} {ep.path} as {persona}: {status} {text[:160]}"
        assert ep.access is not None
        if status >= 500:
            problems.append("5xx: " + where)
        if persona not in ("cust", "admin"):
            # What a route about the review answers is about it whole (a report of it, say).
            whole = "review_id" in path_params(ep.path) and ep.method != "GET"
            for record in [text] if whole else records_about(text, {w.review_id, w.review_text}):
                if any(m in record for m in w.review_marks):
                    problems.append(f"names the anonymous review's author: {where} {record}")
        if permitted(ep.access, persona):
            # (a rule may still say no with 403, e.g. ``blocked``: not the declaration's refusal)
            refusals = {ep.access.refuse.code, "forbidden", "unauthenticated"}
            if status == 401 or (status == 403 and any(f'"{c}"' in text for c in refusals)):
                problems.append("refused an allowed caller: " + where)
            if status == 400 and '"invalid_input"' in text:
                problems.append("the test's body is invalid (fix overrides): " + where)
            return
        if status not in (401, 403, 404):
            problems.append("not refused: " + where)
        if persona == "anonymous" and status == 403:
            problems.append("anonymous refused 403, not 401: " + where)
        if any(m in text for m in w.owner_marks):
            problems.append("a refusal names the owner: " + where)

    # Everyone not allowed first (what they try must change nothing the owners then read) ...
    for ep in order(eps):
        assert ep.access is not None
        for persona in ROLE_OF:
            if not permitted(ep.access, persona):
                check(ep, persona, *await send(rig, ep, w.who(persona), w))
    # ... then the allowed ones.
    for ep in order(eps):
        assert ep.access is not None
        for persona in ROLE_OF:
            if permitted(ep.access, persona):
                check(ep, persona, *await send(rig, ep, w.who(persona), w))
    # Routes that end the caller's login: a fresh person of each allowed role.
    for ep in eps:
        if (ep.method, ep.path) in SESSION_ENDING:
            assert ep.access is not None
            for role in sorted(r for r in ep.access.callers if r != "anonymous"):
                fresh = await rig.person(role)
                status, text = await send(rig, ep, fresh, w)
                if status in (401, 403) or status >= 500:
                    problems.append(f"{ep.method} {ep.path} as a fresh {role}: {status} {text}")
    assert not problems, "\n".join(problems)


# -- Socket.IO: every client event against someone else's call or room ---------------------------

CALL = "call"
ROOM = "room"

#: event → (the targets an outsider tries it on, or why it names nobody else's resource)
SOCKET_CASES: dict[str, tuple[str, ...] | str] = {
    "presence:set": "sets the caller's own state",
    "presence:watch": "names users, whose presence is public (blocks hide it)",
    "presence:unwatch": "stops the caller's own watch",
    "call:request": "names a companion to call: public",
    "call:accept": (CALL,),
    "call:decline": (CALL,),
    "call:cancel": (CALL,),
    "call:hangup": (CALL,),
    "call:get": (CALL,),
    "call:current": "the caller's own call",
    "chat:send": (CALL,),
    "chat:history": (CALL,),
    "chat:delivered": (CALL,),
    "chat:read": (CALL,),
    "chat:typing": (CALL,),
    "admin:end": (CALL,),
    "media:offer": (CALL, ROOM),
    "media:candidate": (CALL, ROOM),
    "media:mute": (CALL, ROOM),
    "media:config": (CALL, ROOM),
    "room:join": "joins an open room: public (funds, capacity and blocks apply)",
    "room:leave": (ROOM,),
    "roomchat:send": (ROOM,),
    "roomchat:history": (ROOM,),
    "room:current": "the caller's own room",
}

SDP = "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"


def payload(event: str, target: str) -> dict[str, Any]:
    data: dict[str, Any] = {
        "call:accept": {},
        "chat:send": {"client_id": "outsider-1", "text": "我不是这通电话的人"},
        "roomchat:send": {"client_id": "outsider-2", "text": "我不在这个房间"},
        "chat:history": {},
        "chat:delivered": {"seq": 1},
        "chat:read": {"seq": 1},
        "media:offer": {"sdp": SDP},
        "media:candidate": {"candidate": None},
        "media:mute": {"audio": True, "video": True},
    }.get(event, {})
    key = "room_id" if event.startswith(("room:", "roomchat:")) else "call_id"
    out = {key: target} | data
    model = EVENTS[event]
    assert model is not None
    model.model_validate(out)  # a valid payload: the refusal is about whose it is
    return out


@pytest.mark.parametrize("event", sorted(EVENTS))
def test_every_client_event_is_covered(event: str) -> None:
    assert event in SOCKET_CASES, f"say in SOCKET_CASES whose call or room {event} may name"


def test_no_case_for_an_event_that_is_gone() -> None:
    assert set(SOCKET_CASES) <= set(EVENTS), set(SOCKET_CASES) - set(EVENTS)


@SQLITE
async def test_no_event_acts_on_someone_elses_call_or_room(rig: Rig) -> None:
    cust, cust_sock, comp, comp_sock, call_id = await rig.active_call("voice")
    host, host_sock = await rig.online_companion()
    resp = await rig.http.post(
        "/api/voice-rooms",
        json={"title": "晚间闲聊", "rate_fen_per_min": 200, "capacity": 4},
        headers=bearer(host.token),
    )
    assert resp.status == 201, await resp.text()
    room_id = (await resp.json())["id"]
    member = await rig.person(fund_fen=10_000)
    member_sock = await rig.connect(member)
    assert (await member_sock.call("room:join", {"room_id": room_id, "request_id": request_id()}))[
        "ok"
    ]
    await cust_sock.ok("chat:send", {"call_id": call_id, "client_id": "owner-0001", "text": "你好"})
    await member_sock.ok(
        "roomchat:send", {"room_id": room_id, "client_id": "member-0001", "text": "大家好"}
    )
    outsiders = [await rig.person(fund_fen=10_000), await rig.person("companion")]
    marks = {cust.user_id, comp.user_id, member.user_id, cust.phone, member.phone}
    targets = {CALL: call_id, ROOM: room_id}
    problems = []
    for outsider in outsiders:
        sock = await rig.connect(outsider)
        for event, case in SOCKET_CASES.items():
            for target in case if isinstance(case, tuple) else ():
                ack = await sock.call(event, payload(event, targets[target]))
                if ack.get("ok") is not False or any(m in str(ack) for m in marks):
                    problems.append((event, target, ack))
        await sock.sio.disconnect()
    assert not problems, problems
    # Nothing moved: the call is still accepted between its two, with only their message, and
    # the room still has its member.
    ack = await cust_sock.ok("call:get", {"call_id": call_id})
    assert ack["call"]["status"] not in ("ended", "declined", "cancelled"), ack
    history = await comp_sock.ok("chat:history", {"call_id": call_id})
    assert [m["text"] for m in history["messages"]] == ["你好"]
    room = await (
        await rig.http.get(f"/api/voice-rooms/{room_id}", headers=bearer(host.token))
    ).json()
    assert [m["user_id"] for m in room["members"]] == [host.user_id, member.user_id]
    page = await host_sock.ok("roomchat:history", {"room_id": room_id})
    assert [m["text"] for m in page["messages"]] == ["大家好"]
    assert not any(m in str(host_sock.events) for m in (o.user_id for o in outsiders))
