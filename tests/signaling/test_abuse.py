"""Authorization for every event and every kind of stranger, bad input of every shape (Hypothesis),
unknown events, oversized payloads and floods: an error ack or a disconnect, never a crash and
never a changed state."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import socketio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kernel.clock import FakeClock
from signaling.protocol import EVENTS
from tests.harness.rig import Rig, RigFactory, Sock, request_id

# media:* have their own authorization tests (tests/media/test_negotiation.py), and room:*
# theirs (tests/voicerooms)
CALL_EVENTS = [
    e
    for e in EVENTS
    if e
    not in (
        "presence:set",
        "presence:watch",
        "presence:unwatch",
        "call:request",
        "call:current",
    )
    and not e.startswith(("media:", "room:", "roomchat:"))  # rooms: test_authorization, room chat
]
RINGING_EVENTS = {"call:accept", "call:decline", "call:cancel"}

# who may do what: the actors that succeed; everyone else is refused with these codes
ALLOWED = {
    "call:accept": {"companion"},
    "call:decline": {"companion"},
    "call:cancel": {"customer"},
    "call:hangup": {"customer", "companion"},
    "call:get": {"customer", "companion", "admin"},
    "chat:send": {"customer", "companion"},
    "chat:history": {"customer", "companion", "admin"},
    "chat:delivered": {"customer", "companion"},
    "chat:read": {"customer", "companion"},
    "chat:typing": {"customer", "companion"},
    "admin:end": {"admin"},
}
REFUSED = {"not_participant", "forbidden"}
# state-changing events are tried by their allowed actor last
ORDER = ["other_customer", "other_companion", "admin", "customer", "companion"]


def payload(event: str, call_id: str) -> dict[str, Any]:
    if event == "chat:send":
        return {"call_id": call_id, "client_id": request_id(), "text": "hi"}
    if event in ("chat:delivered", "chat:read"):
        return {"call_id": call_id, "seq": 0}
    return {"call_id": call_id}


async def snapshot(rig: Rig, call_id: str) -> tuple[Any, ...]:
    from sqlalchemy import func, select

    from store.models import Call, Message

    async with rig.db.reading() as s:
        row = await s.get(Call, call_id)
        assert row is not None
        n = await s.scalar(select(func.count()).select_from(Message))
        return (
            row.status,
            row.state,
            row.last_seq,
            row.customer_read_seq,
            row.companion_read_seq,
            n,
        )


def test_every_event_has_an_authorization_rule() -> None:
    assert set(ALLOWED) == set(CALL_EVENTS)


@pytest.mark.parametrize("event", CALL_EVENTS)
async def test_authorization_matrix(rig: Rig, event: str) -> None:
    cust = await rig.person(fund_fen=1000)
    comp, comp_sock = await rig.online_companion()
    cust_sock = await rig.connect(cust)
    call_id = (
        await cust_sock.ok(
            "call:request",
            {"companion_id": comp.user_id, "mode": "text", "request_id": request_id()},
        )
    )["call"]["call_id"]
    if event not in RINGING_EVENTS:
        await comp_sock.ok("call:accept", {"call_id": call_id})
    socks: dict[str, Sock] = {
        "customer": cust_sock,
        "companion": comp_sock,
        "other_customer": await rig.connect(await rig.person(fund_fen=1000)),
        "other_companion": (await rig.online_companion())[1],
        "admin": await rig.connect(await rig.person("admin")),
    }
    # Anonymous: there is no such socket; the connection itself is refused.
    with pytest.raises(socketio.exceptions.ConnectionError):
        await Sock("anon").sio.connect(rig.url, transports=["websocket"], wait_timeout=3)
    for actor in ORDER:
        before = await snapshot(rig, call_id)
        ack = await socks[actor].call(event, payload(event, call_id))
        if actor in ALLOWED[event]:
            assert ack["ok"], (actor, ack)
        else:
            assert not ack["ok"], (actor, ack)
            assert ack["error"]["code"] in REFUSED, (actor, ack)
            assert await snapshot(rig, call_id) == before, actor


async def test_unknown_events_and_wrong_shapes(rig: Rig) -> None:
    sock = await rig.connect(await rig.person())
    assert (await sock.call("call:explode", {"x": 1}))["error"]["code"] == "unknown_event"
    assert (await sock.call("*", {}))["error"]["code"] == "unknown_event"  # the catch-all's name
    assert (await sock.call("*"))["error"]["code"] == "unknown_event"
    assert (await sock.call("call:get", "not an object"))["error"]["code"] == "invalid_input"
    assert (await sock.call("call:get", {"call_id": "call_x"}))["error"]["code"] == "invalid_input"
    assert (await sock.call("call:get", {"call_id": "call_" + "0" * 32, "more": 1}))["error"][
        "code"
    ] == "invalid_input"
    assert (await sock.call("call:get"))["error"]["code"] == "invalid_input"
    ack = await sock.call("chat:history", {"call_id": "call_" + "0" * 32, "limit": "5"})
    assert ack["error"]["code"] == "invalid_input"  # no coercion
    ack = await sock.call("call:get", {"call_id": "call_" + "0" * 32})
    assert ack["error"]["code"] == "call_not_found"
    assert (await sock.ok("call:current"))["call"] is None


async def test_an_oversized_payload_disconnects_only_that_client(rig: Rig) -> None:
    cust = await rig.person()
    big = await rig.connect(cust, "big")
    other = await rig.connect(await rig.person(), "other")
    with pytest.raises(Exception):  # noqa: B017 (the connection is dropped under the call)
        await big.sio.call("chat:send", {"text": "x" * 100_000}, timeout=3)
    await asyncio.sleep(0.2)
    assert not big.sio.connected
    assert (await other.ok("call:current"))["call"] is None


async def test_a_flood_is_refused_then_disconnected(make_rig: RigFactory, clock: FakeClock) -> None:
    async with make_rig(clock, socket_events_burst=10, socket_events_per_s=1.0) as rig:
        sock = await rig.connect(await rig.person())
        acks = await asyncio.gather(
            *(sock.call("call:current", timeout=5) for _ in range(15)), return_exceptions=True
        )
        codes = [a["error"]["code"] for a in acks if isinstance(a, dict) and not a["ok"]]
        assert codes and set(codes) == {"rate_limited"}
        for _ in range(30):
            if not sock.sio.connected:
                break
            try:
                await sock.sio.emit("call:current")
            except Exception:
                break
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.3)
        assert not sock.sio.connected


# JSON values only: Infinity and NaN are not JSON (a frame holding one closes its connection,
# tests/signaling/test_frames.py), and no real client writes them (JSON.stringify gives null).
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=50),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)
FIELDS = [
    "call_id",
    "companion_id",
    "mode",
    "request_id",
    "client_id",
    "text",
    "seq",
    "limit",
    "after_seq",
    "before_seq",
    "accepting",
    "user_ids",
]
objects = st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=5)
# a client's own "connect"/"disconnect" are dropped unanswered (test_frames.py)
event_names = st.sampled_from(sorted(EVENTS)) | st.text(max_size=20).filter(
    lambda name: name not in ("connect", "disconnect", "connect_error", "__disconnect_final")
)


@pytest.mark.parametrize("db_target", ["sqlite"], indirect=True)
@settings(
    max_examples=1500,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
async def test_fuzz_every_handler(fuzz_rig: dict[str, Any], data: st.DataObject) -> None:
    """From a stranger and from the call's own customer: every ack is well-formed and never
    ``internal``; a refused event changes nothing (an accepted one may: a valid message)."""
    rig, call_id = fuzz_rig["rig"], fuzz_rig["call_id"]
    who = data.draw(st.sampled_from(["stranger", "customer"]))
    sock = fuzz_rig[who]
    before = await snapshot(rig, call_id)
    event = data.draw(event_names)
    body = data.draw(objects | json_values)
    if data.draw(st.booleans()) and isinstance(body, dict) and "call_id" in body:
        body["call_id"] = call_id  # aim at the real call now and then
    try:
        ack = await sock.sio.call(event, body, timeout=10)
    except socketio.exceptions.BadNamespaceError:
        pytest.fail("the server dropped the socket")
    assert isinstance(ack, dict) and "ok" in ack, ack
    if not ack["ok"]:
        assert ack["error"]["code"] != "internal", ack
        assert await snapshot(rig, call_id) == before, (event, body, ack)
    elif who == "stranger":
        assert await snapshot(rig, call_id) == before, (event, body, ack)


@pytest.fixture
async def fuzz_rig(make_rig: RigFactory, clock: FakeClock) -> Any:
    async with make_rig(clock, socket_events_burst=100_000, socket_events_per_s=100_000.0) as rig:
        cust = await rig.person(fund_fen=1000)
        comp, comp_sock = await rig.online_companion()
        cust_sock = await rig.connect(cust)
        call_id = (
            await cust_sock.ok(
                "call:request",
                {"companion_id": comp.user_id, "mode": "text", "request_id": request_id()},
            )
        )["call"]["call_id"]
        await comp_sock.ok("call:accept", {"call_id": call_id})
        stranger = await rig.connect(await rig.person(), "fuzzer")
        yield {"rig": rig, "stranger": stranger, "customer": cust_sock, "call_id": call_id}


CALL = "call_" + "0" * 32
ROOM = "vr_" + "0" * 32
# A valid payload of every event with a payload, every field given (chat:history takes one
# cursor): the wrong-typed payloads below are made from it.
VALID: dict[str, dict[str, Any]] = {
    "presence:set": {"accepting": True},
    "presence:watch": {"user_ids": ["u_1"]},
    "presence:unwatch": {"user_ids": ["u_1"]},
    "call:request": {"companion_id": "u_1", "mode": "voice", "request_id": "req_12345678"},
    "chat:send": {"call_id": CALL, "client_id": "msg_12345678", "text": "你好"},
    "chat:history": {"call_id": CALL, "after_seq": 1, "limit": 5},
    "chat:delivered": {"call_id": CALL, "seq": 1},
    "chat:read": {"call_id": CALL, "seq": 1},
    "media:offer": {"call_id": CALL, "sdp": "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\n"},
    "media:candidate": {
        "call_id": CALL,
        "candidate": "candidate:1 1 udp 2122260223 192.0.2.1 54400 typ host",
        "sdp_mid": "0",
        "sdp_mline_index": 0,
        "ufrag": "abcd",
    },
    "media:mute": {"call_id": ROOM, "audio": True, "video": False},
    "room:join": {"room_id": ROOM, "request_id": "req_12345678"},
    "room:leave": {"room_id": ROOM},
    "roomchat:send": {"room_id": ROOM, "client_id": "msg_12345678", "text": "大家好"},
    "roomchat:history": {"room_id": ROOM, "after_seq": 1, "limit": 5},
} | {
    e: {"call_id": CALL}
    for e in (
        "call:accept",
        "call:decline",
        "call:cancel",
        "call:hangup",
        "call:get",
        "chat:typing",
        "admin:end",
        "media:config",
    )
}


def wrong_type(value: object) -> object:
    """A JSON value of another type than ``value`` that a lax parser would coerce or take."""
    if isinstance(value, bool):
        return 1
    if isinstance(value, int):
        return "1"
    if isinstance(value, str):
        return 1
    return "x"


def wrong_payloads(event: str) -> list[tuple[str, tuple[Any, ...]]]:
    """(what, the event's arguments) for every wrong shape of ``event``'s payload."""
    model = EVENTS[event]
    if model is None:
        return [
            ("an object", ({"x": 1},)),
            ("a string", ("x",)),
            ("a list", ([],)),
            ("two", ({}, 1)),
        ]
    valid = VALID[event]
    model.model_validate(valid)  # the base is valid: each case below breaks one thing
    cases: list[tuple[str, tuple[Any, ...]]] = [
        ("no payload", ()),
        ("a string", ("x",)),
        ("a number", (7,)),
        ("a list", ([valid],)),
        ("two objects", (valid, valid)),
        ("an unknown field", ({**valid, "extra": 1},)),
    ]
    for field in model.model_fields:
        cases.append((field, ({**valid, field: wrong_type(valid.get(field, 0))},)))
    return cases


def test_every_event_has_a_valid_payload_to_break() -> None:
    assert set(VALID) == {e for e, model in EVENTS.items() if model is not None}


@pytest.mark.parametrize("db_target", ["sqlite"], indirect=True)
@pytest.mark.parametrize("event", sorted(EVENTS))
async def test_a_wrong_payload_gets_invalid_input(rig: Rig, event: str) -> None:
    """Every event, every wrong shape and every field of the wrong type: an ``invalid_input``
    ack that names the field, and the socket stays connected (no disconnect, no traceback)."""
    sock = await rig.connect(await rig.person(fund_fen=1000))
    for what, args in wrong_payloads(event):
        if not args:
            ack = await sock.sio.call(event, timeout=10)
        else:
            ack = await sock.sio.call(event, args if len(args) > 1 else args[0], timeout=10)
        assert ack["ok"] is False, (event, what, ack)
        assert ack["error"]["code"] == "invalid_input", (event, what, ack)
        if EVENTS[event] is not None and what in EVENTS[event].model_fields:  # type: ignore[union-attr]
            assert ack["error"]["message"].startswith(f"{what}:"), (event, what, ack)
        assert sock.sio.connected, (event, what)
    assert (await sock.ok("call:current"))["call"] is None


async def test_events_named_like_the_lifecycle_handlers_do_nothing(rig: Rig) -> None:
    """A client emitting "disconnect" or "connect" itself must not run those handlers: it would
    mark itself away (billing paused) while still connected, or register under another user."""
    cust = await rig.person(fund_fen=1000)
    comp, comp_sock = await rig.online_companion()
    other = await rig.person()
    cust_sock = await rig.connect(cust)
    call_id = (
        await cust_sock.ok(
            "call:request",
            {"companion_id": comp.user_id, "mode": "text", "request_id": request_id()},
        )
    )["call"]["call_id"]
    await comp_sock.ok("call:accept", {"call_id": call_id})
    await cust_sock.sio.emit("disconnect", "x")
    await cust_sock.sio.emit("connect", {"token": other.token})
    await asyncio.sleep(0.3)
    call = (await comp_sock.ok("call:get", {"call_id": call_id}))["call"]
    assert call["away"] == {"customer": False, "companion": False}
    assert (await cust_sock.ok("call:current"))["call"]["call_id"] == call_id  # still the customer


async def test_history_takes_one_cursor(rig: Rig) -> None:
    sock = await rig.connect(await rig.person())
    ack = await sock.call(
        "chat:history", {"call_id": "call_" + "0" * 32, "after_seq": 1, "before_seq": 5}
    )
    assert ack["error"]["code"] == "invalid_input"
