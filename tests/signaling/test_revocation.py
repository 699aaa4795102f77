"""A login that ends ends its sockets at once: logout (that login), logout everywhere and account
deletion (every login), a role change (every socket: they carry the old role).  The socket is
told why (``session:revoked``) and disconnected within a second; nothing it sends is served, and
its wallet is not charged.  A revocation the socket layer never heard of (a missed pub/sub
message) is found by the per-event database re-check (``PEILIAO_SOCKET_REAUTH_S``), and by the
background sweep ahead of it (``PEILIAO_SOCKET_REAUTH_AHEAD``) on a socket that sends nothing."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import pytest
import socketio
from sqlalchemy import update

from accounts.keys import ACCOUNTS
from accounts.roles import Role
from metering.check import check_ledger
from metering.keys import WALLETS
from store.models import AuthSession, User
from tests.harness import bearer, login_cli
from tests.harness.rig import Person, Rig, RigFactory, Sock, request_id

#: the promise: every socket of a revoked login is gone within this
REVOKED_WITHIN_S = 1.0


async def gone(sock: Sock, reason: str, since: float, within_s: float = REVOKED_WITHIN_S) -> None:
    """``sock`` was told ``reason`` and disconnected within ``within_s`` of ``since``."""
    loop = asyncio.get_running_loop()
    while sock.sio.connected and loop.time() < since + within_s:  # noqa: ASYNC110 (client state)
        await asyncio.sleep(0.01)
    assert not sock.sio.connected, f"{sock.name} still connected {within_s} s after"
    assert [d["reason"] for d in sock.seen("session:revoked")] == [reason]


async def second_login(rig: Rig, who: Person) -> str:
    rig.clock.advance(61)  # past the SMS resend interval
    return await login_cli(rig.http, rig.outbox, who.phone)


async def balance(rig: Rig, who: Person) -> tuple[int, int]:
    b = await rig.app[WALLETS].balance(who.user_id)
    return b.wallet_fen, b.held_fen


async def cannot_act(rig: Rig, sock: Sock, comp: Person, comp_sock: Sock) -> None:
    """Nothing sent on the ended socket is served: the companion is not rung."""
    try:
        ack = await sock.call(
            "call:request",
            {"companion_id": comp.user_id, "mode": "text", "request_id": request_id()},
            timeout=2,
        )
    except (socketio.exceptions.SocketIOError, TimeoutError):
        pass  # disconnected: nothing reaches the server
    else:
        assert ack["error"]["code"] == "unauthenticated", ack
    await asyncio.sleep(0.1)
    assert not comp_sock.seen("call:incoming")


async def refused_to_reconnect(rig: Rig, token: str) -> None:
    with pytest.raises(socketio.exceptions.ConnectionError):
        await rig.connect(Person("", token, ""), "again")


async def test_logout_ends_the_sockets_of_that_login_only(rig: Rig) -> None:
    cust = await rig.person(fund_fen=1000)
    other_token = await second_login(rig, cust)
    comp, comp_sock = await rig.online_companion()
    phone = await rig.connect(cust, "phone")
    laptop = await rig.connect(Person(cust.user_id, other_token, cust.phone), "laptop")
    since = asyncio.get_running_loop().time()
    resp = await rig.http.post("/api/auth/logout", headers=bearer(cust.token))
    assert resp.status == 200
    await gone(phone, "logout", since)
    await cannot_act(rig, phone, comp, comp_sock)
    await refused_to_reconnect(rig, cust.token)
    # The other login is untouched.
    assert laptop.sio.connected and not laptop.seen("session:revoked")
    assert (await laptop.ok("call:current"))["call"] is None
    assert await balance(rig, cust) == (1000, 0)


async def test_logout_everywhere_ends_every_socket_of_the_user(rig: Rig) -> None:
    cust = await rig.person(fund_fen=1000)
    other_token = await second_login(rig, cust)
    comp, comp_sock = await rig.online_companion()
    socks = [
        await rig.connect(cust, "phone"),
        await rig.connect(Person(cust.user_id, other_token, cust.phone), "laptop"),
        await rig.connect(cust, "tablet"),
    ]
    since = asyncio.get_running_loop().time()
    resp = await rig.http.post("/api/auth/logout-all", headers=bearer(cust.token))
    assert resp.status == 200
    assert (await rig.http.get("/api/me", headers=bearer(cust.token))).status == 401
    for sock in socks:
        await gone(sock, "logout_all", since)
        await cannot_act(rig, sock, comp, comp_sock)
    for token in (cust.token, other_token):
        await refused_to_reconnect(rig, token)
    assert await balance(rig, cust) == (1000, 0)
    assert comp_sock.sio.connected and not comp_sock.seen("session:revoked")


async def test_account_deletion_ends_every_socket(rig: Rig) -> None:
    cust = await rig.person()
    comp, comp_sock = await rig.online_companion()
    socks = [await rig.connect(cust, "phone"), await rig.connect(cust, "tablet")]
    await socks[0].ok("presence:watch", {"user_ids": [comp.user_id]})
    since = asyncio.get_running_loop().time()
    resp = await rig.http.delete("/api/me", headers=bearer(cust.token))
    assert resp.status == 200, await resp.text()
    for sock in socks:
        await gone(sock, "deleted", since)
        await cannot_act(rig, sock, comp, comp_sock)
    await refused_to_reconnect(rig, cust.token)


async def test_a_role_change_reconnects_the_user_in_the_new_role(rig: Rig) -> None:
    """The admin CLI's ``ensure_user`` makes a customer a companion: their sockets carried the
    customer role, so they are ended; the login stays valid and a new socket is a companion."""
    who = await rig.person()
    sock = await rig.connect(who, "phone")
    assert (await sock.wait("session:hello"))["role"] == "customer"
    since = asyncio.get_running_loop().time()
    await rig.app[ACCOUNTS].ensure_user(who.phone, Role.COMPANION)
    await gone(sock, "role_changed", since)
    assert (await rig.http.get("/api/me", headers=bearer(who.token))).status == 200
    again = await rig.connect(who, "phone again")
    assert (await again.wait("session:hello"))["role"] == "companion"
    assert (await again.ok("presence:set", {"accepting": True}))["status"] == "online"
    # The same role again changes nothing: the new socket stays.
    await rig.app[ACCOUNTS].ensure_user(who.phone, Role.COMPANION)
    await asyncio.sleep(0.1)
    assert again.sio.connected and not again.seen("session:revoked")


async def test_vetting_approval_tells_the_decision_then_reconnects_as_a_companion(
    rig: Rig,
) -> None:
    from tests.market.vetting.conftest import applicant, decide, submitted

    admin = await rig.person("admin")
    who = await applicant(rig)
    application_id = await submitted(rig, who)
    sock = await rig.connect(who, "applicant")
    since = asyncio.get_running_loop().time()
    status, body = await decide(rig, admin, application_id, approve=True)
    assert status == 200, body
    await gone(sock, "role_changed", since)
    names = [name for name, _ in sock.events]
    assert names.index("application:decided") < names.index("session:revoked")
    again = await rig.connect(who, "applicant again")
    assert (await again.wait("session:hello"))["role"] == "companion"


async def test_a_connect_that_authenticated_just_before_a_revocation_is_refused(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The revocation lands while the connect is in flight (authenticated, not yet registered):
    the connect is refused, and no device of the user is left counted."""
    accounts = rig.app[ACCOUNTS]
    authenticate = accounts.authenticate
    cust = await rig.person()

    async def then_logged_out_everywhere(token: str) -> Any:
        who = await authenticate(token)
        await accounts.logout_everywhere(who.user_id)
        return who

    monkeypatch.setattr(accounts, "authenticate", then_logged_out_everywhere)
    with pytest.raises(socketio.exceptions.ConnectionError):
        await rig.connect(cust, "racing")
    assert await rig.signaling.presence.devices(cust.user_id) == 0


async def test_an_ended_login_stops_the_billing_of_its_open_call(rig: Rig) -> None:
    """Logged out everywhere in a text session: the customer is away from then on (billing
    paused), and the session ends after the away time-out; only the minute served is paid."""
    cust, cust_sock, _comp, comp_sock, call_id = await rig.active_call(fund_fen=10_000)
    rig.clock.advance(30)  # within the first minute
    resp = await rig.http.post("/api/auth/logout-all", headers=bearer(cust.token))
    assert resp.status == 200
    await comp_sock.wait("call:update", lambda d: d["call_id"] == call_id and d["away"]["customer"])
    assert not cust_sock.sio.connected
    for _ in range(4):
        rig.clock.advance(30)  # 120 s away: the away time-out
        await asyncio.sleep(0.1)
    rig.clock.advance(5)
    ended = await comp_sock.wait(
        "call:update", lambda d: d["call_id"] == call_id and d["status"] == "ended"
    )
    assert ended["end_reason"] == "away"
    assert await balance(rig, cust) == (10_000 - 100, 0)
    assert (await check_ledger(rig.db)).ok


# -- the database re-check: a revocation this process never heard of -----------------------------

REAUTH_S = 0.2

Setup = Callable[[Rig], Awaitable[tuple[Person, Sock, Person, Sock, dict[str, Any]]]]


async def _idle(rig: Rig) -> tuple[Person, Sock, Person, Sock, dict[str, Any]]:
    cust = await rig.person(fund_fen=1000)
    comp, comp_sock = await rig.online_companion()
    return cust, await rig.connect(cust, "customer"), comp, comp_sock, {}


async def _in_call(rig: Rig) -> tuple[Person, Sock, Person, Sock, dict[str, Any]]:
    cust, cust_sock, comp, comp_sock, call_id = await rig.active_call(fund_fen=1000)
    return cust, cust_sock, comp, comp_sock, {"call_id": call_id}


EVENTS: dict[str, tuple[Setup, Callable[[Person, dict[str, Any]], Any]]] = {
    "call:request": (
        _idle,
        lambda comp, ctx: {
            "companion_id": comp.user_id,
            "mode": "text",
            "request_id": request_id(),
        },
    ),
    "chat:send": (
        _in_call,
        lambda comp, ctx: {"call_id": ctx["call_id"], "client_id": "msg-000001", "text": "hi"},
    ),
    "call:current": (_in_call, lambda comp, ctx: None),
    "presence:watch": (_idle, lambda comp, ctx: {"user_ids": [comp.user_id]}),
    "room:current": (_idle, lambda comp, ctx: None),
}


@pytest.mark.parametrize("event", list(EVENTS))
async def test_an_event_on_a_login_revoked_unheard_is_refused(
    make_rig: RigFactory, clock: Any, event: str
) -> None:
    # the event's own check (the background sweep would end the socket first)
    async with make_rig(clock, socket_reauth_s=REAUTH_S, socket_reauth_ahead=False) as rig:
        setup, payload = EVENTS[event]
        cust, sock, comp, comp_sock, ctx = await setup(rig)
        before = await balance(rig, cust)
        seen_before = len(comp_sock.seen("chat:message")), len(comp_sock.seen("call:incoming"))
        async with rig.db.writing() as s:  # revoked behind the sockets' back: nothing published
            await s.execute(
                update(AuthSession)
                .where(AuthSession.user_id == cust.user_id)
                .values(revoked_at=datetime.now(UTC))
            )
        await asyncio.sleep(REAUTH_S * 1.5)
        since = asyncio.get_running_loop().time()
        ack = await sock.call(event, payload(comp, ctx))
        assert ack == {
            "ok": False,
            "error": {"code": "unauthenticated", "message": "your login has ended; log in again"},
        }
        await gone(sock, "session_ended", since)
        await asyncio.sleep(0.1)
        seen = len(comp_sock.seen("chat:message")), len(comp_sock.seen("call:incoming"))
        assert seen == seen_before  # no message delivered, nobody rung
        assert await balance(rig, cust) == before


async def test_a_role_changed_unheard_ends_the_socket_on_its_next_event(
    make_rig: RigFactory, clock: Any
) -> None:
    async with make_rig(clock, socket_reauth_s=REAUTH_S, socket_reauth_ahead=False) as rig:
        who = await rig.person("companion")
        sock = await rig.connect(who, "companion")
        async with rig.db.writing() as s:
            await s.execute(update(User).where(User.id == who.user_id).values(role="customer"))
        await asyncio.sleep(REAUTH_S * 1.5)
        since = asyncio.get_running_loop().time()
        ack = await sock.call("presence:set", {"accepting": True})
        assert ack["error"]["code"] == "unauthenticated"
        await gone(sock, "role_changed", since)
        again = await rig.connect(who, "again")
        assert (await again.wait("session:hello"))["role"] == "customer"


async def test_an_idle_socket_of_a_login_revoked_unheard_is_ended_by_the_sweep(
    make_rig: RigFactory, clock: Any
) -> None:
    """Revoked behind the sockets' back (no message published): the customer's socket, which
    sends nothing, is ended within the re-check interval, and stops receiving the chat; the
    companion's sockets (a valid login) stay."""
    async with make_rig(clock, socket_reauth_s=REAUTH_S) as rig:
        cust, sock, _comp, comp_sock, ctx = await _in_call(rig)
        async with rig.db.writing() as s:
            await s.execute(
                update(AuthSession)
                .where(AuthSession.user_id == cust.user_id)
                .values(revoked_at=datetime.now(UTC))
            )
        since = asyncio.get_running_loop().time()
        await gone(sock, "session_ended", since, within_s=REAUTH_S * 1.5)
        await asyncio.sleep(REAUTH_S)  # sweeps that find the companion's login valid
        assert comp_sock.sio.connected and not comp_sock.seen("session:revoked")
        heard = len(sock.seen("chat:message"))
        ack = await comp_sock.call(
            "chat:send", {"call_id": ctx["call_id"], "client_id": "msg-000009", "text": "在吗"}
        )
        assert ack["ok"], ack
        await asyncio.sleep(0.2)
        assert len(sock.seen("chat:message")) == heard
