"""HTTP adapter for statements: the customer's (``/api/wallet/statement``) and the companion's
earnings (``/api/me/earnings``), as lines for people (``metering.statement``) or, with
``detail=ledger`` and always in CSV, as the raw ledger entries.  Both keyset-paged by cursor."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from typing import Annotated, Literal

from aiohttp import web
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.keys import HIDDEN_BETWEEN
from accounts.views import UserOut, user_out
from kernel.cursor import MAX_CURSOR_CHARS, BadCursor, CursorCodec
from kernel.http.access import USERS, access
from kernel.http.api import CURSORS, Api, Call
from kernel.http.models import Strict
from kernel.keys import SETTINGS
from metering import accounts, statement
from metering.statement import Group, Scope, refund_of
from store.keys import DB
from store.models import Entry, MeteredSession, MinuteGrant, Transfer, User
from store.models.bookings import Booking

api = Api()

#: sessions whose id starts with this were a seat in a group voice room (voicerooms/ids.py)
VOICE_ROOM_PREFIX = "vrs_"
MAX_KEY_CHARS = 120


class StatementQuery(Strict):
    format: Literal["json", "csv"] = "json"
    #: ``lines``: one line per session, top-up, package…; ``ledger``: every ledger entry
    #: (CSV is always the ledger)
    detail: Literal["lines", "ledger"] = "lines"
    cursor: Annotated[str, Field(max_length=MAX_CURSOR_CHARS)] | None = None
    limit: Annotated[int, Field(ge=1, le=1000)] = 50


class StatementItem(BaseModel):
    """One line of a statement.  ``amount_fen`` is the net change it made to the statement's
    money (a customer: wallet, promo credit, held money and booking holds; a companion: pending
    and available earnings), exactly the sum of the ledger entries it stands for."""

    #: the line's stable id: the session id, ``booking:{id}`` or the transfer id
    key: str
    #: ``session``, ``booking``, ``topup``, ``package``, ``coupon``, ``refund`` …
    kind: str
    at: datetime
    amount_fen: int
    #: the part of ``amount_fen`` not final yet: a customer's money still held for a minute not
    #: served (an open session), a companion's earnings still inside the refund hold
    unsettled_fen: int
    session_id: str | None = None
    #: ``call`` (1:1) or ``voice_room`` (a seat in a group room)
    session_kind: str | None = None
    status: str | None = None
    mode: str | None = None
    minutes: int | None = None
    rate_fen_per_min: int | None = None
    #: what was refunded of the session so far (each refund is a line of its own, ``refund``)
    refunded_fen: int = 0
    #: a ``refund`` line's source: ``appeal``, ``fair`` (the fair-service rule), ``admin``
    refund_source: str | None = None
    #: the other party; ``None`` when there is none or a block hides them from the viewer
    counterpart: UserOut | None = None
    counterpart_hidden: bool = False
    #: when the line's pending earnings become withdrawable (companions; ``None``: not yet known,
    #: the session is still running)
    release_at: datetime | None = None


class LedgerLine(BaseModel):
    at: datetime
    kind: str
    account: str
    amount_fen: int
    session_id: str | None
    transfer_id: str


class StatementOut(BaseModel):
    #: the lines (``detail=lines``)
    lines: list[StatementItem]
    #: the raw ledger entries (``detail=ledger``)
    entries: list[LedgerLine]
    next_cursor: str | None
    #: dates are grouped and totals counted in this time zone
    timezone: str = "Asia/Shanghai"


def _decode_after(codec: CursorCodec, kind: str, cursor: str) -> tuple[datetime, str]:
    position = codec.decode(kind, cursor)
    if len(position) != 2 or not all(isinstance(p, str) for p in position):
        raise BadCursor()
    try:
        at = datetime.fromisoformat(position[0])
    except ValueError:
        raise BadCursor() from None
    if at.tzinfo is None or not 0 < len(position[1]) <= MAX_KEY_CHARS:
        raise BadCursor()
    return at, position[1]


async def _describe(
    s: AsyncSession, call: Call, scope: Scope, groups: list[Group], hold_s: int
) -> list[StatementItem]:
    """The lines of ``groups`` in words a person reads: who, what, how long, at what rate."""
    me = call.user.user_id
    session_ids = [g.key for g in groups if g.kind == "session"]
    session_ids += [refund_of(g.key)[0] for g in groups if g.kind == "refund"]
    sessions = {
        r.id: r
        for r in (
            await s.scalars(select(MeteredSession).where(MeteredSession.id.in_(session_ids)))
        ).all()
    }
    grant_ids = [g.key.removeprefix("package:") for g in groups if g.kind == "package"]
    grants = {
        r.id: r
        for r in (await s.scalars(select(MinuteGrant).where(MinuteGrant.id.in_(grant_ids)))).all()
    }
    booking_ids = [g.key.removeprefix("booking:") for g in groups if g.kind == "booking"]
    bookings = {
        r.id: r for r in (await s.scalars(select(Booking).where(Booking.id.in_(booking_ids)))).all()
    }

    def other(customer_id: str, companion_id: str) -> str:
        return companion_id if customer_id == me else customer_id

    peer_ids = {other(r.customer_id, r.companion_id) for r in sessions.values()}
    peer_ids |= {other(b.customer_id, b.companion_id) for b in bookings.values()}
    peer_ids |= {g.companion_id for g in grants.values() if g.companion_id}
    users = {u.id: u for u in (await s.scalars(select(User).where(User.id.in_(peer_ids)))).all()}
    hidden_between = call.request.app.get(HIDDEN_BETWEEN)
    hidden = set()
    if hidden_between is not None:
        hidden = {uid for uid in users if await hidden_between(me, uid)}

    def peer(uid: str | None) -> tuple[UserOut | None, bool]:
        if uid is None or uid not in users:
            return None, False
        if uid in hidden:
            return None, True
        return user_out(users[uid]), False

    out = []
    for g in groups:
        item = StatementItem(
            key=g.key, kind=g.kind, at=g.at, amount_fen=g.amount_fen, unsettled_fen=g.unsettled_fen
        )
        if g.kind == "session" and (r := sessions.get(g.key)) is not None:
            item.session_id = r.id
            item.session_kind = "voice_room" if r.id.startswith(VOICE_ROOM_PREFIX) else "call"
            item.status = r.status
            item.mode = r.mode
            item.minutes = r.billed_minutes
            item.rate_fen_per_min = r.rate_fen_per_min
            item.refunded_fen = r.refunded_fen
            item.counterpart, item.counterpart_hidden = peer(other(r.customer_id, r.companion_id))
            if scope.name == "companion" and g.unsettled_fen > 0 and r.ended_at is not None:
                item.release_at = r.ended_at + timedelta(seconds=hold_s)
        elif g.kind == "refund" and (r := sessions.get(refund_of(g.key)[0])) is not None:
            item.session_id = r.id
            item.refund_source = refund_of(g.key)[1]
            item.session_kind = "voice_room" if r.id.startswith(VOICE_ROOM_PREFIX) else "call"
            item.mode = r.mode
            item.counterpart, item.counterpart_hidden = peer(other(r.customer_id, r.companion_id))
        elif g.kind == "booking" and (b := bookings.get(g.key.removeprefix("booking:"))):
            item.mode = b.mode
            item.minutes = b.duration_min
            item.rate_fen_per_min = b.rate_fen_per_min
            item.counterpart, item.counterpart_hidden = peer(other(b.customer_id, b.companion_id))
            if scope.name == "companion" and g.unsettled_fen > 0 and b.ended_at is not None:
                item.release_at = b.ended_at + timedelta(seconds=hold_s)
        elif g.kind == "package" and (p := grants.get(g.key.removeprefix("package:"))):
            item.mode = p.mode
            item.minutes = p.minutes_total
            item.counterpart, item.counterpart_hidden = peer(p.companion_id)
        out.append(item)
    return out


async def _ledger_page(
    s: AsyncSession, scope: Scope, *, after_id: int | None, limit: int
) -> tuple[list[LedgerLine], list[int]]:
    stmt = (
        select(
            Transfer.created_at,
            Transfer.kind,
            Entry.account_id,
            Entry.amount_fen,
            Transfer.session_id,
            Transfer.id,
            Entry.id,
        )
        .join(Transfer, Transfer.id == Entry.transfer_id)
        .where(scope.accounts)
        .order_by(Entry.id.desc())
        .limit(limit)
    )
    if after_id is not None:
        stmt = stmt.where(Entry.id < after_id)
    rows = (await s.execute(stmt)).all()
    return [
        LedgerLine(
            at=r[0],
            kind=r[1],
            account=accounts.kind_of(r[2]),
            amount_fen=int(r[3]),
            session_id=r[4],
            transfer_id=r[5],
        )
        for r in rows
    ], [int(r[6]) for r in rows]


def _csv(entries: list[LedgerLine], filename: str) -> web.Response:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["at", "kind", "account", "amount_fen", "session_id", "transfer_id"])
    for line in entries:
        writer.writerow(
            [
                line.at.isoformat(),
                line.kind,
                line.account,
                line.amount_fen,
                line.session_id or "",
                line.transfer_id,
            ]
        )
    return web.Response(
        text=out.getvalue(),
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


async def _statement(call: Call, scope: Scope, filename: str) -> web.StreamResponse:
    q: StatementQuery = call.query
    app = call.request.app
    codec = app[CURSORS]
    hold_s = app[SETTINGS].earnings_hold_s
    ledger = q.format == "csv" or q.detail == "ledger"
    listing = f"statement.{scope.name}.{'ledger' if ledger else 'lines'}"
    async with app[DB].reading(snapshot=True) as s:
        if ledger:
            after_id = codec.decode_int(listing, q.cursor) if q.cursor else None
            entries, ids = await _ledger_page(s, scope, after_id=after_id, limit=q.limit + 1)
            more = len(entries) > q.limit
            entries, ids = entries[: q.limit], ids[: q.limit]
            if q.format == "csv":
                return _csv(entries, filename)
            next_cursor = codec.encode(listing, [ids[-1]]) if more else None
            out = StatementOut(lines=[], entries=entries, next_cursor=next_cursor)
        else:
            after = _decode_after(codec, listing, q.cursor) if q.cursor else None
            groups = await statement.page(s, scope, after=after, limit=q.limit + 1)
            more = len(groups) > q.limit
            groups = groups[: q.limit]
            lines = await _describe(s, call, scope, groups, hold_s)
            last = groups[-1] if more else None
            next_cursor = codec.encode(listing, [last.at.isoformat(), last.key]) if last else None
            out = StatementOut(lines=lines, entries=[], next_cursor=next_cursor)
    return web.json_response(out.model_dump(mode="json"))


@api.route(
    "GET",
    "/api/wallet/statement",
    access=access(USERS),
    summary="My statement: a line per session, booking, top-up, package, coupon (newest first, "
    "cursor-paged); detail=ledger or CSV: the raw ledger entries",
    tags=["wallet"],
    query=StatementQuery,
    response=StatementOut,
    alt_response_types=["text/csv"],
    errors=[BadCursor],
)
async def wallet_statement(call: Call) -> web.StreamResponse:
    return await _statement(call, statement.customer_scope(call.user.user_id), "statement.csv")


@api.route(
    "GET",
    "/api/me/earnings",
    access=access(USERS),
    summary="My earnings: a line per session or booking fee (newest first, cursor-paged); "
    "detail=ledger or CSV: the raw ledger entries",
    tags=["earnings"],
    query=StatementQuery,
    response=StatementOut,
    alt_response_types=["text/csv"],
    errors=[BadCursor],
)
async def earnings_statement(call: Call) -> web.StreamResponse:
    return await _statement(call, statement.companion_scope(call.user.user_id), "earnings.csv")
