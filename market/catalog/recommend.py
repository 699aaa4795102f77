"""Recommendations for one customer, with no I/O: score candidates, give each a reason, keep
a slot for new companions.

Score (× 100 stars, like the rating it starts from) = the companion's Bayesian rating
+ the new-companion boost (``catalog.ranking``) + what ties them to this customer:

- ``TAG_MATCH_X100`` per interest tag of the customer that is one of the companion's tags or
  part of one of their specialties (游戏 ↔ 游戏陪玩), at most ``MAX_TAG_MATCHES`` counted;
- ``FAVOURITE_X100`` if they are a favourite, ``LIKE_FAVOURITE_X100`` if they share a
  specialty with a favourite;
- ``SIMILAR_HISTORY_X100`` if they share a specialty with someone the customer had a paid
  session with, ``TALKED_BEFORE_X100`` if that was them.

The weights are a fraction of a star to a star and a half: a tie to the customer moves a
companion past others rated up to that much higher, never past everyone (a 3.9 favourite does
not top a 4.9 that matches two tags).

Each pick says why, as a ``reason_code`` with ``params`` (the client translates;
:data:`REASON_TEXT` has zh-CN and en): the strongest tie, else ``new_companion`` for a new
one, ``highly_rated`` for a rated one, ``worth_a_try`` otherwise.  Of several ties the first
of :data:`_PERSONAL` is named (a favourite is "in your favourites" whatever else it matches).

Fair exposure: in every group of five positions (1-5, 6-10, …) at least one pick is a new
companion while there is one: if the first two of a group have none, the third is one.  Which
new companion gets that slot rotates: new companions are taken in an order keyed by a hash of
(customer, day, companion), so each customer sees different ones each day, and the same ones
all day (the page does not shuffle on reload).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

TAG_MATCH_X100 = 60
MAX_TAG_MATCHES = 2
FAVOURITE_X100 = 80
LIKE_FAVOURITE_X100 = 40
SIMILAR_HISTORY_X100 = 40
TALKED_BEFORE_X100 = 30
GROUP = 5
#: the position in each group (0-based) kept for a new companion if none came before it
FAIR_SLOT = 2
MAX_LIMIT = 50

Lang = Literal["zh-CN", "en"]

#: the strongest reason first when a companion has several
_PERSONAL = ("favourite", "matches_tag", "like_favourite", "similar_to_history", "talked_before")

REASON_TEXT: dict[str, dict[str, str]] = {
    "zh-CN": {
        "favourite": "在你的收藏中",
        "matches_tag": "符合你的兴趣标签「{tag}」",
        "like_favourite": "和你收藏的{nickname}一样擅长{specialty}",
        "similar_to_history": "因为你和{nickname}聊过{specialty}",
        "talked_before": "你和{nickname}聊过，再聊聊？",
        "new_companion": "新人陪聊，来打个招呼",
        "highly_rated": "评分 {rating}（{count} 条评价）",
        "worth_a_try": "为你推荐",
    },
    "en": {
        "favourite": "In your favourites",
        "matches_tag": "Matches your tag {tag}",
        "like_favourite": "Like your favourite {nickname}: {specialty}",
        "similar_to_history": "Because you talked with {nickname} ({specialty})",
        "talked_before": "You talked with {nickname} before",
        "new_companion": "New companion: say hello",
        "highly_rated": "Rated {rating} ({count} reviews)",
        "worth_a_try": "Picked for you",
    },
}


@dataclass(frozen=True, slots=True)
class Candidate:
    id: str
    nickname: str
    #: the companion's own interest tags (User.tags)
    tags: tuple[str, ...]
    specialties: tuple[str, ...]
    rating_x100: int
    rating_count: int
    is_new: bool = False
    #: catalog.ranking.new_boost_x100
    boost_x100: int = 0


@dataclass(frozen=True, slots=True)
class Known:
    """A companion the customer knows: a favourite, or one they had a paid session with."""

    id: str
    nickname: str
    specialties: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Taste:
    user_id: str
    interest_tags: tuple[str, ...] = ()
    #: most recent first
    favourites: tuple[Known, ...] = ()
    #: most recent first
    history: tuple[Known, ...] = ()
    #: the customer's day (the rotation of new companions changes with it)
    day: date = date(2026, 1, 1)


@dataclass(frozen=True, slots=True)
class Pick:
    companion_id: str
    score: int
    reason_code: str
    params: dict[str, str] = field(default_factory=dict)

    def reason(self, lang: Lang = "zh-CN") -> str:
        return REASON_TEXT[lang][self.reason_code].format(**self.params)


def tag_matches(tag: str, c: Candidate) -> bool:
    return tag in c.tags or any(tag in s for s in c.specialties)


def score(taste: Taste, c: Candidate) -> Pick:
    """The candidate's score for this customer and its strongest reason."""
    ties: dict[str, tuple[int, dict[str, str]]] = {}
    matched = [t for t in taste.interest_tags if tag_matches(t, c)][:MAX_TAG_MATCHES]
    if matched:
        ties["matches_tag"] = (TAG_MATCH_X100 * len(matched), {"tag": matched[0]})
    if any(k.id == c.id for k in taste.favourites):
        ties["favourite"] = (FAVOURITE_X100, {})
    like = _sharing(taste.favourites, c)
    if like is not None:
        ties["like_favourite"] = (LIKE_FAVOURITE_X100, like)
    similar = _sharing(taste.history, c)
    if similar is not None:
        ties["similar_to_history"] = (SIMILAR_HISTORY_X100, similar)
    talked = next((k for k in taste.history if k.id == c.id), None)
    if talked is not None:
        ties["talked_before"] = (TALKED_BEFORE_X100, {"nickname": talked.nickname})
    total = c.rating_x100 + c.boost_x100 + sum(w for w, _ in ties.values())
    if ties:
        code = next(k for k in _PERSONAL if k in ties)
        return Pick(c.id, total, code, ties[code][1])
    if c.is_new:
        return Pick(c.id, total, "new_companion")
    if c.rating_count > 0:
        rating = f"{c.rating_x100 // 100}.{c.rating_x100 % 100:02d}"
        return Pick(c.id, total, "highly_rated", {"rating": rating, "count": str(c.rating_count)})
    return Pick(c.id, total, "worth_a_try")


def _sharing(known: Sequence[Known], c: Candidate) -> dict[str, str] | None:
    """The first (most recent) other known companion sharing a specialty with ``c``."""
    for k in known:
        if k.id == c.id:
            continue
        shared = next((s for s in c.specialties if s in k.specialties), None)
        if shared is not None:
            return {"nickname": k.nickname, "specialty": shared}
    return None


def rotation_key(user_id: str, day: date, companion_id: str) -> bytes:
    return hashlib.sha256(f"{user_id}|{day.isoformat()}|{companion_id}".encode()).digest()


def recommend(taste: Taste, candidates: Sequence[Candidate], limit: int) -> list[Pick]:
    """At most ``limit`` picks, best first, with the fair-exposure slots filled; the customer
    themselves is never a candidate."""
    limit = max(0, min(limit, MAX_LIMIT))
    pool = [c for c in dict((c.id, c) for c in candidates).values() if c.id != taste.user_id]
    picks = {c.id: score(taste, c) for c in pool}
    ranked = sorted(pool, key=lambda c: (-picks[c.id].score, c.id))
    rotation = sorted(
        (c for c in pool if c.is_new), key=lambda c: rotation_key(taste.user_id, taste.day, c.id)
    )
    out: list[Candidate] = []
    used: set[str] = set()
    while len(out) < limit and len(used) < len(pool):
        group = out[len(out) - len(out) % GROUP :]
        want_new = len(out) % GROUP == FAIR_SLOT and not any(c.is_new for c in group)
        source = rotation if want_new and any(c.id not in used for c in rotation) else ranked
        chosen = next(c for c in source if c.id not in used)
        used.add(chosen.id)
        out.append(chosen)
    return [picks[c.id] for c in out]
