"""Companions as customers browse them: profile, prices per mode, figures, online state.

A companion is listed once they have prices; their vetting profile (``CompanionProfile``) and
figures (``CompanionStats``) are joined when they exist (a companion made before vetting, or
without a review or session yet, has neither: no intro, the prior rating, no orders).

Search and filters: ``q`` (case-insensitive substring of the nickname, the intro or a
specialty; LIKE wildcards are literal), ``specialty`` (exactly one of theirs), ``gender``,
``mode`` with ``min_fen``/``max_fen`` (their price per minute in that mode), ``min_rating``
(rated, with a Bayesian rating at least this), ``online`` (online now).

Sorts, each paged by a keyset cursor on (sort key, id), signed (``catalog.cursor``):
``recommended`` (those online now first, then everyone else, each group by
``catalog.ranking.recommended_score``, best first: ``ranking.presence_first``), ``rating`` (Bayesian
rating), ``orders``, ``price`` (in ``mode``, cheapest first), ``new`` (most recently joined),
``online`` (the ``new`` order, each page then ordered online, busy, offline by the caller).

What paging guarantees: each page continues strictly after the last item of the previous one
in (sort key, id) order, so a companion whose sort key did not change in between is never
shown twice nor skipped, however others join, leave or move.  A companion whose key changed
between two pages (a new review, an order, a price change) can be shown twice or missed: no
keyset can promise more without holding a snapshot of the whole catalog.  ``recommended``
carries the time of its first page in the cursor, so the new-companion boost of a companion
does not expire in the middle of a browse.

``recommended`` reads the score order twice: a first pass keeps those online now, a second
(from the top again) everyone else; the cursor says which pass it is in.  Presence is not in
the database, so a companion who comes online or leaves between the two passes can be shown
twice or missed, like one whose key changed (above).  The first pass reads a bounded number of
chunks per request, like ``online``: a page can come back short (even empty) with a cursor when
few are online in a large catalog; the client then asks on.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import String, and_, case, cast, false, func, or_, select

from kernel.clock import Clock, SystemClock
from kernel.cursor import BadCursor, CursorCodec
from market.catalog import ranking
from market.reviews.rules import bayesian_x100
from moderation.blocks import blocked_between
from signaling.presence import Presence
from store import Database
from store.models import CompanionRate, User
from store.models.reviews import CompanionStats
from store.models.vetting import CompanionProfile

__all__ = ["BadCursor", "Catalog", "Listed", "by_presence"]

Mode = Literal["text", "voice", "video"]
Sort = Literal["recommended", "rating", "price", "orders", "new", "online"]
_STATUS_ORDER = {"online": 0, "busy": 1, "offline": 2}
_MAX_CHUNKS = 10
#: the rating of a companion with no figures yet: the prior
PRIOR_X100 = bayesian_x100(0, 0)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MAX_SNAPSHOT_MS = 253_402_300_800_000  # year 10000


@dataclass(frozen=True)
class Listed:
    user: User
    rates: CompanionRate
    status: str
    profile: CompanionProfile | None = None
    stats: CompanionStats | None = None

    @property
    def rating_x100(self) -> int:
        return self.stats.rating_x100 if self.stats is not None else PRIOR_X100

    @property
    def rating_count(self) -> int:
        return self.stats.rating_count if self.stats is not None else 0

    @property
    def orders(self) -> int:
        return self.stats.orders if self.stats is not None else 0

    @property
    def specialties(self) -> list[str]:
        return list(self.profile.specialties) if self.profile is not None else []

    @property
    def joined_at(self) -> datetime:
        return self.profile.approved_at if self.profile is not None else self.user.created_at


# -- SQL forms of the sort keys ------------------------------------------------------------------

joined_sql = func.coalesce(CompanionProfile.approved_at, User.created_at)
rating_sql = func.coalesce(CompanionStats.rating_x100, PRIOR_X100)
orders_sql = func.coalesce(CompanionStats.orders, 0)


def _recommended_score(now: datetime) -> Any:
    """``catalog.ranking.recommended_score`` in SQL (integers only, the same on both
    databases)."""
    since = ranking.new_since(now)
    boost = case(
        (
            and_(
                CompanionRate.level == ranking.NEWCOMER,
                joined_sql >= since,
                orders_sql < ranking.NEW_MAX_ORDERS,
            ),
            ranking.NEW_BOOST_PER_ORDER_X100 * (ranking.NEW_MAX_ORDERS - orders_sql),
        ),
        else_=0,
    )
    return rating_sql + boost


def _rate_column(mode: Mode) -> Any:
    return {
        "text": CompanionRate.text_fen_per_min,
        "voice": CompanionRate.voice_fen_per_min,
        "video": CompanionRate.video_fen_per_min,
    }[mode]


def companions_query() -> Any:
    """Listed companions with their rates, profile and figures (the last two may be None)."""
    return (
        select(User, CompanionRate, CompanionProfile, CompanionStats)
        .join(CompanionRate, CompanionRate.user_id == User.id)
        .outerjoin(CompanionProfile, CompanionProfile.user_id == User.id)
        .outerjoin(CompanionStats, CompanionStats.user_id == User.id)
        .where(User.role == "companion")
    )


class Catalog:
    def __init__(
        self,
        db: Database,
        presence: Presence,
        *,
        clock: Clock | None = None,
        cursors: CursorCodec | None = None,
    ) -> None:
        self._db = db
        self._presence = presence
        self._clock = clock or SystemClock()
        # Without the app's codec (keyed by the secret), cursors verify in this process only.
        self._cursors = cursors or CursorCodec(secrets.token_bytes(32))

    async def page(
        self,
        *,
        q: str = "",
        specialty: str | None = None,
        gender: str | None = None,
        mode: Mode | None = None,
        min_fen: int | None = None,
        max_fen: int | None = None,
        min_rating_x100: int | None = None,
        online: bool = False,
        sort: Sort = "recommended",
        cursor: str | None = None,
        limit: int = 20,
        viewer: str | None = None,
    ) -> tuple[list[Listed], str | None]:
        """One page of companions and the cursor of the next (None: this was the last).
        ``price`` sorting and price bounds need ``mode`` (``ValueError`` otherwise: the route
        refuses first)."""
        kind = f"companions.{sort}" + (f".{mode}" if sort == "price" else "")
        position = self._cursors.decode(kind, cursor) if cursor else None
        snapshot_ms = (self._clock.now() - _EPOCH) // timedelta(milliseconds=1)
        if sort == "recommended" and position is not None:
            snapshot_ms = _snapshot_of(position)
        snapshot = _EPOCH + timedelta(milliseconds=snapshot_ms)
        key, descending = self._sort_key(sort, mode, snapshot)
        stmt = companions_query().add_columns(key.label("sort_key"))
        stmt = stmt.where(*_filters(q, specialty, gender, mode, min_fen, max_fen, min_rating_x100))
        if viewer is not None:
            stmt = stmt.where(~blocked_between(viewer, User.id))
        if descending:
            stmt = stmt.order_by(key.desc(), User.id.desc())
        else:
            stmt = stmt.order_by(key.asc(), User.id.asc())
        # ``recommended`` pages in two passes (online now, then the rest): 0 or 1.
        two_passes = sort == "recommended" and not online
        phase = _phase_of(position) if sort == "recommended" and position is not None else 0
        after = _position_of(sort, position) if position is not None else None

        def next_cursor(at: tuple[Any, str] | None) -> str:
            if at is None:  # the second pass, from its top
                return self._cursors.encode(kind, [None, None, snapshot_ms, phase])
            value = at[0].isoformat() if isinstance(at[0], datetime) else int(at[0])
            extra = [snapshot_ms, phase] if sort == "recommended" else []
            return self._cursors.encode(kind, [value, at[1], *extra])

        def kept(status: str) -> bool:
            if online or (two_passes and phase == 0):
                return status == "online"
            return not two_passes or status != "online"

        listed: list[Listed] = []
        async with self._db.reading() as s:
            # With ``online`` (or in the first pass of ``recommended``), read on (a bounded
            # number of chunks) until the page is full.
            for _ in range(_MAX_CHUNKS):
                page = stmt if after is None else stmt.where(_keyset(key, descending, *after))
                rows = (await s.execute(page.limit(limit))).all()
                statuses = await self._presence.statuses([r[0].id for r in rows])
                for i, (user, rates, profile, stats, sort_key) in enumerate(rows):
                    after = (sort_key, user.id)
                    status = statuses.get(user.id, "offline")
                    if not kept(status):
                        continue
                    listed.append(Listed(user, rates, status, profile, stats))
                    if len(listed) == limit:
                        # the first pass always has a second after it (which may be empty)
                        more = i < len(rows) - 1 or len(rows) == limit
                        more = more or (two_passes and phase == 0)
                        return listed, next_cursor(after) if more else None
                if len(rows) < limit:
                    if two_passes and phase == 0:
                        phase, after = 1, None
                        continue
                    return listed, None
        return listed, next_cursor(after) if after is not None or phase == 1 else None

    def _sort_key(self, sort: Sort, mode: Mode | None, now: datetime) -> tuple[Any, bool]:
        if sort == "recommended":
            return _recommended_score(now), True
        if sort == "rating":
            return rating_sql, True
        if sort == "orders":
            return orders_sql, True
        if sort == "price":
            if mode is None:
                raise ValueError("sorting by price needs a mode")
            return _rate_column(mode), False
        return joined_sql, True  # new, online

    async def one(self, user_id: str, viewer: str | None = None) -> Listed | None:
        stmt = companions_query().where(User.id == user_id)
        if viewer is not None:
            stmt = stmt.where(~blocked_between(viewer, User.id))
        async with self._db.reading() as s:
            row = (await s.execute(stmt)).first()
        if row is None:
            return None
        status = (await self._presence.statuses([user_id])).get(user_id, "offline")
        return Listed(row[0], row[1], status, row[2], row[3])

    async def many(self, user_ids: list[str], viewer: str | None = None) -> list[Listed]:
        """The listed companions among ``user_ids`` (unlisted and blocked ones left out), in
        no particular order."""
        if not user_ids:
            return []
        stmt = companions_query().where(User.id.in_(user_ids))
        if viewer is not None:
            stmt = stmt.where(~blocked_between(viewer, User.id), User.id != viewer)
        async with self._db.reading() as s:
            rows = (await s.execute(stmt)).all()
        statuses = await self._presence.statuses([r[0].id for r in rows])
        return [Listed(u, r, statuses.get(u.id, "offline"), p, st) for u, r, p, st in rows]


def by_presence(listed: list[Listed]) -> list[Listed]:
    return sorted(listed, key=lambda x: _STATUS_ORDER.get(x.status, 3))


def _filters(
    q: str,
    specialty: str | None,
    gender: str | None,
    mode: Mode | None,
    min_fen: int | None,
    max_fen: int | None,
    min_rating_x100: int | None,
) -> list[Any]:
    where: list[Any] = []
    if q:
        where.append(
            or_(
                _contains(User.nickname, q),
                _contains(CompanionProfile.intro, q),
                json_contains(CompanionProfile.specialties, q),
            )
        )
    if specialty:
        where.append(has_element(CompanionProfile.specialties, specialty))
    if gender:
        where.append(CompanionProfile.gender == gender)
    if min_fen is not None or max_fen is not None:
        if mode is None:
            raise ValueError("a price range needs a mode")
        if min_fen is not None:
            where.append(_rate_column(mode) >= min_fen)
        if max_fen is not None:
            where.append(_rate_column(mode) <= max_fen)
    if min_rating_x100 is not None:
        where.append(CompanionStats.rating_count > 0)
        where.append(CompanionStats.rating_x100 >= min_rating_x100)
    return where


def _contains(column: Any, text: str) -> Any:
    """Case-insensitive substring of a text column."""
    return func.lower(column).like(f"%{_escape(text.lower())}%", escape="\\")


#: what the text of a ``\\uXXXX`` escape is made of
_ESCAPE_CHARS = frozenset("0123456789abcdefu\\")


def json_contains(column: Any, text: str) -> Any:
    """Case-insensitive substring of the strings of a JSON column.  JSON is stored with
    non-ASCII characters as ``\\uXXXX`` escapes (the default serializer), so the escaped form
    of ``text`` is searched, and the plain form should a serializer ever keep them.  A query of
    nothing but hex digits and ``u`` would match inside the escapes themselves: not searched."""
    needle = text.lower()
    escaped = json.dumps(needle)[1:-1]
    forms = [escaped, needle] if escaped != needle else [needle]
    if escaped == needle and set(needle) <= _ESCAPE_CHARS:
        return false()
    lowered = func.lower(cast(column, String))
    return or_(*(lowered.like(f"%{_escape(form)}%", escape="\\") for form in forms))


def has_element(column: Any, value: str) -> Any:
    """``value`` is one of the strings of a JSON array column (see :func:`_contains`)."""
    text = cast(column, String)
    forms = dict.fromkeys([json.dumps(value), json.dumps(value, ensure_ascii=False)])
    return or_(*(text.like(f"%{_escape(form)}%", escape="\\") for form in forms))


def _keyset(key: Any, descending: bool, value: Any, user_id: str) -> Any:
    if descending:
        return or_(key < value, and_(key == value, User.id < user_id))
    return or_(key > value, and_(key == value, User.id > user_id))


def _position_of(sort: Sort, position: list[Any]) -> tuple[Any, str] | None:
    """The (sort key, id) of a decoded cursor, its types checked (a signed cursor of the right
    kind has them; the check is the last line); None: the top of ``recommended``'s second
    pass."""
    if sort == "recommended" and position[:2] == [None, None] and _phase_of(position) == 1:
        return None
    if len(position) < 2 or not isinstance(position[1], str) or len(position[1]) > 40:
        raise BadCursor()
    value = position[0]
    if sort in ("new", "online"):
        if not isinstance(value, str):
            raise BadCursor()
        try:
            at = datetime.fromisoformat(value)
        except ValueError:
            raise BadCursor() from None
        return (at if at.tzinfo else at.replace(tzinfo=UTC)), position[1]
    if not isinstance(value, int) or isinstance(value, bool):
        raise BadCursor()
    return value, position[1]


def _phase_of(position: list[Any]) -> int:
    """The pass of a ``recommended`` browse: 0 (online now), 1 (everyone else)."""
    if len(position) != 4 or position[3] not in (0, 1) or isinstance(position[3], bool):
        raise BadCursor()
    return int(position[3])


def _snapshot_of(position: list[Any]) -> int:
    """The time (ms since the epoch) of a ``recommended`` browse's first page."""
    if len(position) != 4 or not isinstance(position[2], int) or isinstance(position[2], bool):
        raise BadCursor()
    if not 0 <= position[2] < _MAX_SNAPSHOT_MS:
        raise BadCursor()
    return position[2]


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
