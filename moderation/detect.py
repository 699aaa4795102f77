"""Chat content detection: what a message holds that must not pass as written, and what to do.

Pure (no I/O, no clock): ``Detector(policy, key).check(text, sender_role=…, now_s=…,
window=…)`` normalizes the text (``moderation.normalize``), blanks what only looks like a number
(the platform's ids, dates, times), finds numbers (``moderation.numbers``) and words
(``moderation.cues``), and decides by the ``Policy``:

- ``block``: not delivered; ``Decision.reason`` tells the sender why;
- ``mask``: delivered with each match replaced by ``****``;
- ``review``: delivered as written and queued for an admin;
- ``allow``: nothing found (or the policy lets the category through).

With several categories the most severe action wins, and every match of a ``mask`` or
``block`` category is masked in ``Decision.text`` whatever the action (a reviewed message is
delivered masked).  Matched values are never kept in the decision: each is an HMAC-SHA256 under
the caller's key (``Finding.value_hash``), so logs can tell a repeated number without holding
it (STYLE: never log ID/card numbers or message text).

Beside the rules, a learned model (``moderation.ngram``: character n-grams, trained on the
labelled lines) reads each message in which the rules found nothing; what it finds is
``review`` whatever the category's action (``allow`` stays ``allow``): it has no span to mask and
its precision is lower than a rule's, so the message is delivered as written and an admin looks.
A minor's cue it finds still escalates with a meeting or sexual request (the conjunction is the
evidence).  ``Detector(key, model=None)``: the rules alone (public titles and introductions,
refused outright, use them alone).

``Decision.warn_receiver`` is set when a companion asks for contact details, an offline meeting
or payment off the platform: the customer is shown a warning with a one-tap report.

Conduct: sexual content and solicitation (``moderation.solicitation``) is blocked and queued; a
companion sending it adds ``Flag.SEXUAL_WARNING``.  A cue that someone is under 18
(``moderation.minors``) is reviewed with ``Flag.MINOR``; with a meeting or sexual request in the
same conversation (``window.Risk``, ``RISK_WINDOW_S``) the message is blocked at
``Priority.HIGH``; so is, from the other party after a minor's cue, a grooming word harmless
between adults (``minors.GROOMING``: 把聊天记录删了, 接你放学; round 10).  A companion's second
push to spend more within ``upsell.UPSELL_WINDOW_S`` (``moderation.upsell``) is reviewed at
``Priority.LOW`` with ``Flag.UPSELL_BANNER``.  Word patterns are tried only where a match can
start (``moderation.gate``).

Known misses (``tests/moderation/test_detect.py::test_known_misses``): digits told out of order
(``尾号…前面是…``) or with words between them and no phone cue (``1哈3哈8…``; with a cue, a mobile
number told in pieces or backwards is found), numbers read as amounts (``一百三十八``), an ID
with emoji inside (one spelled letter by letter is found after an app's name, since round 7), a
cue word split across messages (the window joins digits and IDs, not words), and phrasings
neither the lexicon nor the n-gram model has seen: the held-out figures of each round are in
``tests/moderation/fresh/HISTORY.md``.  Landline numbers
need their area code (a bare 8-digit number counts only after 电话/号码); 400/800 hotlines and
first-generation 15-digit ID numbers are not looked for.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import NamedTuple

from moderation import cues, minors, ngram, solicitation, upsell
from moderation.gate import Gated, GatedSet
from moderation.normalize import normalize
from moderation.numbers import (
    NumberHit,
    blank_benign,
    scan_numbers,
    scattered_card,
    scattered_phone,
    spelled_phone,
)
from moderation.window import Risk, SenderWindow

MAX_TEXT_CHARS = 4000  # longer input is not checked but blocked (chat caps messages at 2000)
MASK = "****"
_SHA256_BLOCK = 64  # bytes: a longer key is hashed first (RFC 2104, section 2)


class Category(StrEnum):
    PHONE = "phone"
    MESSENGER_ID = "messenger_id"
    CONTACT_REQUEST = "contact_request"
    EMAIL_URL = "email_url"
    ID_CARD = "id_card"
    BANK_CARD = "bank_card"
    OFFLINE_MEETING = "offline_meeting"
    OFF_PLATFORM_PAYMENT = "off_platform_payment"
    SEXUAL = "sexual"
    MINOR = "minor"
    UPSELL = "upsell"


class Priority(StrEnum):
    """How soon an admin should look at a queued message."""

    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"


class Flag(StrEnum):
    """What the signaling layer may show beside the message (the detector only says so)."""

    MINOR = "minor"  # someone said they are under 18: prompt both sides about the rules
    UPSELL_BANNER = "upsell_banner"  # the companion keeps pushing spending: a customer banner
    SEXUAL_WARNING = "sexual_warning"  # a companion sent sexual content: protect the customer


class Action(StrEnum):
    ALLOW = "allow"
    MASK = "mask"
    REVIEW = "review"
    BLOCK = "block"


_SEVERITY = {Action.ALLOW: 0, Action.MASK: 1, Action.REVIEW: 2, Action.BLOCK: 3}
_ORDER = {c: i for i, c in enumerate(Category)}

# Why: ID and card numbers are the user's own secrets, and a masked one still tells the reader
# that one was sent, so they are not delivered at all.  Phone numbers, messenger IDs, e-mail
# addresses and URLs are masked (the rest of the message is fine).  Requests (for contact
# details, to meet, to pay outside) carry nothing to mask and are often innocent: an admin looks.
DEFAULT_ACTIONS: Mapping[Category, Action] = {
    Category.PHONE: Action.MASK,
    Category.MESSENGER_ID: Action.MASK,
    Category.CONTACT_REQUEST: Action.REVIEW,
    Category.EMAIL_URL: Action.MASK,
    Category.ID_CARD: Action.BLOCK,
    Category.BANK_CARD: Action.BLOCK,
    Category.OFFLINE_MEETING: Action.REVIEW,
    Category.OFF_PLATFORM_PAYMENT: Action.REVIEW,
    Category.SEXUAL: Action.BLOCK,
    Category.MINOR: Action.REVIEW,
    Category.UPSELL: Action.REVIEW,
}
# Blocked, and queued for an admin all the same: sexual content (who sends it is looked at), and
# a minor with a meeting or sexual request (escalated, always blocked).
QUEUED_WHEN_BLOCKED = frozenset({Category.SEXUAL, Category.MINOR})
# Asking for these near a minor's cue escalates.
SOLICITING = frozenset({Category.OFFLINE_MEETING, Category.SEXUAL})
# What the sender is told when a message of the category is blocked.
REASONS: Mapping[Category, str] = {
    Category.PHONE: "phone numbers",
    Category.MESSENGER_ID: "messenger IDs (WeChat, QQ, …)",
    Category.CONTACT_REQUEST: "requests for contact details",
    Category.EMAIL_URL: "e-mail addresses or links",
    Category.ID_CARD: "ID card numbers",
    Category.BANK_CARD: "bank card numbers",
    Category.OFFLINE_MEETING: "requests to meet offline",
    Category.OFF_PLATFORM_PAYMENT: "payment outside the platform",
    Category.SEXUAL: "sexual content or solicitation",
    Category.MINOR: "meeting or sexual requests involving a minor",
    Category.UPSELL: "repeated pushes to spend more",
}
# A companion who sends one of these puts the customer at risk: the customer is warned.
WARN_CATEGORIES = frozenset(
    {
        Category.PHONE,
        Category.MESSENGER_ID,
        Category.CONTACT_REQUEST,
        Category.EMAIL_URL,
        Category.OFFLINE_MEETING,
        Category.OFF_PLATFORM_PAYMENT,
        Category.SEXUAL,
    }
)
COMPANION = "companion"


@dataclass(frozen=True, slots=True)
class Policy:
    """The action for each category (a category not listed is allowed)."""

    actions: Mapping[Category, Action] = field(default_factory=lambda: dict(DEFAULT_ACTIONS))

    def action(self, category: Category) -> Action:
        return self.actions.get(category, Action.ALLOW)

    @classmethod
    def parse(cls, spec: str, base: Policy | None = None) -> Policy:
        """``"phone=block,offline_meeting=allow"`` over ``base`` (default: the defaults).
        Raises ``ValueError`` naming an unknown category or action."""
        actions = dict((base or cls()).actions)
        for item in filter(None, (part.strip() for part in spec.split(","))):
            name, sep, value = item.partition("=")
            try:
                category, action = Category(name.strip()), Action(value.strip())
            except ValueError:
                raise ValueError(
                    f"bad policy item {item!r}: want CATEGORY=ACTION, categories "
                    f"{', '.join(Category)}; actions {', '.join(Action)}"
                ) from None
            if not sep:
                raise ValueError(f"bad policy item {item!r}: want CATEGORY=ACTION")
            actions[category] = action
        return cls(actions)


DEFAULT_POLICY = Policy()


@dataclass(frozen=True, slots=True)
class Finding:
    """One match: its category and the keyed hash of its value (never the value)."""

    category: Category
    value_hash: str


@dataclass(frozen=True, slots=True)
class Decision:
    action: Action
    text: str  # what to deliver: the message with mask/block matches replaced by ****
    categories: tuple[Category, ...] = ()
    findings: tuple[Finding, ...] = ()
    warn_receiver: bool = False  # a companion asked for contact, a meeting or payment outside
    reason: str = ""  # for the sender, when blocked
    flags: tuple[Flag, ...] = ()
    priority: Priority = Priority.NORMAL
    queue: bool = False  # an admin should look (every review; some blocks)

    def log_fields(self) -> dict[str, object]:
        """What may be logged about the decision (no text, no raw values)."""
        return {
            "action": self.action.value,
            "categories": [c.value for c in self.categories],
            "value_hashes": [f.value_hash for f in self.findings],
            "warn_receiver": self.warn_receiver,
            "flags": [f.value for f in self.flags],
            "priority": self.priority.value,
            "queue": self.queue,
        }


class _Hit(NamedTuple):  # made for every match: a tuple is built several times faster
    category: Category
    start: int  # in the scanned text
    end: int
    value: str


_DIGIT = re.compile(r"[0-9]")
# The n-gram model beside the rules (``moderation.ngram``), if its weights are shipped.
DEFAULT_MODEL = ngram.Model.load() if ngram.WEIGHTS.exists() else None
_ASCII_LETTER = re.compile(r"[a-z]")


class Detector:
    """Checks chat messages against a policy; ``key`` keys the hashes of matched values."""

    def __init__(
        self,
        key: bytes,
        policy: Policy = DEFAULT_POLICY,
        model: ngram.Model | None = DEFAULT_MODEL,
    ) -> None:
        if not key:
            raise ValueError("the detector needs a non-empty key for its value hashes")
        # HMAC-SHA256 (RFC 2104) with the key's two padded blocks hashed once: each value then
        # costs a copy of each state instead of hashing the pads again.
        block = hashlib.sha256(key).digest() if len(key) > _SHA256_BLOCK else key
        block = block.ljust(_SHA256_BLOCK, b"\0")
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in block))
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in block))
        self.policy = policy
        self.model = model

    def check(
        self,
        text: str,
        *,
        sender_role: str = "customer",
        now_s: float = 0.0,
        window: SenderWindow | None = None,
    ) -> Decision:
        """Decide about one message.  ``window`` (the sender's, in this conversation) joins the
        sender's last messages to this one, so a number split across them is found; the message
        is then added to it.  ``now_s`` is any clock in seconds, used only for the window.
        A text longer than ``MAX_TEXT_CHARS`` is blocked unread (the cost of a check grows with
        the length)."""
        if len(text) > MAX_TEXT_CHARS:
            return Decision(Action.BLOCK, "", reason=f"not sent: longer than {MAX_TEXT_CHARS}")
        norm = normalize(text)
        current = norm.text
        if _DIGIT.search(current):
            current = blank_benign(current)
        before = window.recent(now_s) if window is not None else ""
        if window is not None:
            window.push(current, now_s)
        if before and (_DIGIT.search(current) or _ASCII_LETTER.search(current)):
            scanned, offset = before + current, len(before)
        else:
            scanned, offset = current, 0
        found_hits, refused_end = _scan(scanned)
        hits = [h for h in found_hits if h.end > offset]
        learned = None
        if (
            not hits
            and refused_end <= offset  # a cue the rules read as refused: not the model's to flag
            and self.model is not None
            and (found := self.model.flags(current))
            and not _talked_about(Category(found), current)
        ):
            learned = Category(found)  # what the rules did not see, the model may
            hits.append(_Hit(learned, offset, offset + len(current), "learned"))
        escalate = False
        if window is not None:
            escalate = self._converse(window.risk, current, offset, hits, sender_role, now_s)
        if not hits:
            return Decision(Action.ALLOW, text)
        return self._decide(
            text, norm.span_in_original, hits, offset, sender_role, escalate, learned
        )

    def _converse(
        self,
        risk: Risk,
        current: str,
        offset: int,
        hits: list[_Hit],
        sender_role: str,
        now_s: float,
    ) -> bool:
        """What the conversation adds to this message's ``hits`` (a bare age answering "how
        old are you", the second upsell push), and the risk it leaves; whether a minor's cue
        and a meeting or sexual request now meet (escalate)."""
        if risk.age_asked_recent(now_s) and (m := minors.BARE_AGE.search(current)):
            hits.append(_Hit(Category.MINOR, offset + m.start(), offset + m.end(), m.group()))
        if minors.AGE_ASKED.search(current):
            risk.age_asked_s = now_s
        push = None
        if sender_role == COMPANION:
            push = _push(current, risk, now_s)
            risk.spend_asked_s = float("-inf")  # round 10: answered once, not every message after
        if (
            sender_role != COMPANION
            and upsell.SPEND.search(current)
            and upsell.SPEND_ASKED.search(current)
            and not upsell.COMPLAINT.search(current)  # round 11: 你怎么老要礼物
        ):
            risk.spend_asked_s = now_s  # the companion's next words answer it
        if (
            push
            # a spend word unpressed counts once the companion has pressed in the session
            and (times := upsell.pushes(current) or risk.pushed(now_s, upsell.UPSELL_WINDOW_S))
            and risk.push(now_s, upsell.UPSELL_WINDOW_S, times) >= upsell.UPSELL_PUSHES
        ):
            hits.append(_Hit(Category.UPSELL, offset + push[0], offset + push[1], "push"))
        found = {h.category for h in hits}
        if self.policy.action(Category.MINOR) is Action.ALLOW:
            found.discard(Category.MINOR)
        minor = Category.MINOR in found
        # round 10: grooming words (删聊天记录, 接你放学, 校服自拍) count as a request, read only
        # in a message of the other party after a minor's cue (a minor's own 校服好丑 is not)
        # round 11: a minor's cue only the model found (value "learned") does not make the
        # message the minor's own: the grooming words in it still count
        ruled_minor = minor and any(
            h.category is Category.MINOR and h.value != "learned" for h in hits
        )
        groom = (
            minors.GROOMING.search(current)
            if not ruled_minor and risk.minor_recent(now_s) and sender_role != risk.minor_by
            else None
        )
        if not hits and groom is None:
            return False  # no minor's cue, no request: nothing escalates, no risk to note
        soliciting = groom is not None or not found.isdisjoint(SOLICITING)
        escalate = (minor and (soliciting or risk.solicited_recent(now_s))) or (
            soliciting and risk.minor_recent(now_s)
        )
        if minor:
            risk.minor_s = now_s
            risk.minor_by = sender_role
        if soliciting:
            risk.solicited_s = now_s
        if escalate and not minor:
            start, end = (hits[0].start, hits[0].end) if hits else (offset, offset + len(current))
            hits.append(_Hit(Category.MINOR, start, end, "escalated"))
        return escalate

    def _decide(
        self,
        text: str,
        to_original: Callable[[int, int], tuple[int, int]],
        hits: list[_Hit],
        offset: int,
        sender_role: str,
        escalate: bool = False,
        learned: Category | None = None,
    ) -> Decision:
        categories = sorted({h.category for h in hits}, key=_ORDER.__getitem__)
        policy = self.policy.actions  # Policy.action, inline: an unlisted category is allowed
        actions = {c: policy.get(c, Action.ALLOW) for c in categories}
        if learned is not None and actions[learned] is not Action.ALLOW:
            actions[learned] = Action.REVIEW  # the model's word, not a rule's: an admin looks
        if escalate:
            actions[Category.MINOR] = Action.BLOCK
        action = max(actions.values(), key=_SEVERITY.__getitem__)
        spans = sorted(
            to_original(max(h.start, offset) - offset, h.end - offset)
            for h in hits
            if actions[h.category] in (Action.MASK, Action.BLOCK)
        )
        masked = _mask(text, spans) if spans else text
        seen: set[tuple[Category, str]] = set()
        findings: list[Finding] = []
        for h in hits:
            if (h.category, h.value) not in seen:
                seen.add((h.category, h.value))
                findings.append(Finding(h.category, self._hash(h.category, h.value)))
        flagged = tuple(c for c in categories if actions[c] is not Action.ALLOW)
        reason = ""
        blocked = [c for c in categories if actions[c] is Action.BLOCK]
        if action is Action.BLOCK:
            reason = "not sent: messages may not contain " + ", ".join(REASONS[c] for c in blocked)
        companion = sender_role == COMPANION
        flags: list[Flag] = []
        if Category.MINOR in flagged:
            flags.append(Flag.MINOR)
        if Category.UPSELL in flagged:
            flags.append(Flag.UPSELL_BANNER)
        if companion and Category.SEXUAL in flagged:
            flags.append(Flag.SEXUAL_WARNING)
        if escalate:
            priority = Priority.HIGH
        elif flagged == (Category.UPSELL,):
            priority = Priority.LOW
        else:
            priority = Priority.NORMAL
        return Decision(
            action,
            masked,
            flagged,
            tuple(f for f in findings if f.category in flagged),
            companion and any(c in WARN_CATEGORIES for c in flagged),
            reason,
            tuple(flags),
            priority,
            action is Action.REVIEW or not QUEUED_WHEN_BLOCKED.isdisjoint(blocked),
        )

    def _hash(self, category: Category, value: str) -> str:
        """HMAC-SHA256 of ``category:value`` under the key, in hex (``hmac.new(key, …,
        sha256).hexdigest()``)."""
        inner = self._inner.copy()
        inner.update(f"{category}:{value}".encode())
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.hexdigest()


def _mask(text: str, spans: list[tuple[int, int]]) -> str:
    """``text`` with each (merged) span replaced by ``MASK``."""
    out: list[str] = []
    pos = 0
    last_end = -1
    for start, end in spans:
        if start < last_end:  # overlaps the previous span: extend it
            if end > last_end:
                last_end = end
                pos = end
            continue
        out.append(text[pos:start])
        out.append(MASK)
        pos = last_end = end
    out.append(text[pos:])
    return "".join(out)


def _scan(text: str) -> tuple[list[_Hit], int]:
    """Every match in normalized, blanked ``text``, and where the last word cue found but read
    as negated or refused (千万不要私下转账, 我不加微信) ends (0: none)."""
    hits: list[_Hit] = []
    refused_end = 0
    digits = _DIGIT.search(text)
    letters = _ASCII_LETTER.search(text)
    numbers: list[NumberHit] = []
    if digits:
        numbers, runs = scan_numbers(text)
        hits.extend(_number_hit(h) for h in numbers)
        for run in runs:
            if cues.UNIT_AFTER.match(text, run.end):
                continue
            if cues.RUN_CUE_BEFORE.search(text[max(0, run.start - 14) : run.start]) or (
                cues.RUN_CUE_AFTER.search(text[run.end : run.end + 12])
            ):
                hits.append(_Hit(Category.MESSENGER_ID, run.start, run.end, run.value))
    if not numbers and (digits or letters) and (scattered := scattered_phone(text)):
        hits.append(_number_hit(scattered))  # a mobile number told in pieces
    if not numbers and digits and (card := scattered_card(text)):
        hits.append(_number_hit(card))  # round 11: a card number told in pieces
    if not numbers and letters and (spelled := spelled_phone(text)):
        hits.append(_number_hit(spelled))  # round 9: yao wu jiu …, one-five-two …
    if letters:
        for m in cues.MESSENGER_ID.finditer(text):
            name = m.group("id") or m.group("id2")
            start, end = m.span("id") if m.group("id") else m.span("id2")
            if _plausible_id(name):
                hits.append(_Hit(Category.MESSENGER_ID, start, end, name))
        for m in cues.EMAIL_URL.finditer(text):
            hits.append(_Hit(Category.EMAIL_URL, m.start(), m.end(), m.group()))
        for m in cues.LETTER_ID.finditer(text):
            group = "id" if m.group("id") else "id3"
            start, end = m.span(group)
            hits.append(_Hit(Category.MESSENGER_ID, start, end, m.group(group)))
        for m in cues.SPELLED_ID.finditer(text) if cues.SPELLED.search(text) else ():
            name = m.group("id").replace(" ", "")
            if _plausible_id(name):
                start, end = m.span("id")
                hits.append(_Hit(Category.MESSENGER_ID, start, end, name))
        if cues.APP_NAMED.search(text):
            for m in cues.ID_ANYWHERE.finditer(text):
                if _plausible_id(m.group("id")):
                    start, end = m.span("id")
                    hits.append(_Hit(Category.MESSENGER_ID, start, end, m.group("id")))
    if digits and ("前" in text or "开头" in text) and (pieces := cues.ID_IN_PIECES.search(text)):
        start, end = pieces.span("a")[0], pieces.span("b")[1]
        value = pieces.group("a") + pieces.group("b")
        hits.append(_Hit(Category.MESSENGER_ID, start, end, value))
    if "@" in text:
        for m in cues.HANDLE.finditer(text):
            start, end = m.span("handle")
            hits.append(_Hit(Category.MESSENGER_ID, start, end, m.group("handle")))
        for m in cues.AT_HANDLE.finditer(text):
            if _plausible_id(m.group("handle")):
                start, end = m.span("handle")
                hits.append(_Hit(Category.MESSENGER_ID, start, end, m.group("handle")))
    for matches, category in zip(_WORDS.finditer_each(text), _CATEGORIES, strict=True):
        for m in matches:
            if cues.NEGATED.search(text, max(0, m.start() - 6), m.start()) or (
                category is not Category.MINOR and cues.refused(text, m.start(), m.end())
            ):
                refused_end = max(refused_end, m.end())
                continue
            if (
                category is Category.SEXUAL
                and solicitation.NIGHT_PRICED.search(m.group())
                and solicitation.LODGING_BEFORE.search(
                    text, max(0, m.start() - solicitation.LODGING_LOOKBACK), m.start()
                )
            ):
                continue  # a night at a hotel priced: travel talk
            if category is Category.OFFLINE_MEETING and (
                cues.OTHERS_MEETING.search(text, max(0, m.start() - 16), m.start())
                or cues.OTHERS_INSIDE.search(m.group())  # round 11: 约相亲对象见面
            ):
                continue  # someone else's meeting
            if (
                category is Category.CONTACT_REQUEST
                and "你" not in m.group()
                and cues.OTHERS_ASKING.search(
                    text, max(0, m.start() - cues.OTHERS_ASKING_LOOK), m.start()
                )
            ):
                continue  # round 11: someone else's request, reported
            if category in _REPORTABLE and cues.REPORTED.search(text):
                continue  # round 11: scams, the news or dating advice talked about
            if category in _REPORTABLE and cues.QUOTED_BEFORE.search(
                text, max(0, m.start() - 40), m.start()
            ):
                continue  # round 12: a request quoted as words to say
            if (
                category is Category.CONTACT_REQUEST
                and "换" in m.group()
                and cues.OWN_ACCOUNT.search(text, m.end(), m.end() + 16)
            ):
                continue  # round 12: one's own number changed on the platform
            if (
                category is Category.CONTACT_REQUEST
                and cues.GAME_FRIEND.search(text, m.start(), m.end() + 2)
                and cues.GAME_ROOM.search(text, max(0, m.start() - 12), m.start())
            ):
                continue  # round 11: a friend or a private chat in a game
            if (
                category is Category.OFF_PLATFORM_PAYMENT
                and "红包" in m.group()
                and (
                    cues.GIVEN_TO_OTHERS.search(text, max(0, m.start() - 12), m.start())
                    or cues.GIVEN_BY_FAMILY.search(text, max(0, m.start() - 14), m.start())
                )
            ):
                continue  # round 11: a red envelope to family
            if (
                category is Category.OFFLINE_MEETING
                and "房" in m.group()
                and cues.GAME_ROOM.search(
                    text, max(0, m.start() - cues.GAME_ROOM_LOOK), m.end() + cues.GAME_ROOM_LOOK
                )
            ):
                continue  # round 10: a room in a game
            if category is Category.MINOR and (
                _someone_else(text, m.start())
                or minors.ADULT_ROLE.search(text) is not None  # round 10: 我是初中老师
                or minors.PAST_BEFORE.search(
                    text, max(0, m.start() - minors.PAST_LOOKBACK), m.start()
                )
            ):
                continue
            hits.append(_Hit(category, m.start(), m.end(), m.group()))
    return hits, refused_end


# Round 11: the requests that a message about scams, the news or dating advice reports.
_REPORTABLE = frozenset(
    {Category.CONTACT_REQUEST, Category.OFFLINE_MEETING, Category.OFF_PLATFORM_PAYMENT}
)
_WORD_PATTERNS = (
    (cues.CONTACT_REQUEST, Category.CONTACT_REQUEST),
    (cues.CONTACT_APP, Category.CONTACT_REQUEST),
    (cues.OFFLINE_MEETING, Category.OFFLINE_MEETING),
    (cues.OFF_PLATFORM_PAYMENT, Category.OFF_PLATFORM_PAYMENT),
    (solicitation.SEXUAL, Category.SEXUAL),
    (solicitation.SEXUAL_SHOWN, Category.SEXUAL),
    (minors.MINOR, Category.MINOR),
)
# One pass over the text for all of them (``moderation.gate``); hits stay in this order.
_WORDS = GatedSet([p for p, _ in _WORD_PATTERNS])
_CATEGORIES = [c for _, c in _WORD_PATTERNS]
_PUSH = Gated(upsell.PUSH)


def warm() -> int:
    """Compile every pattern the scans would otherwise compile on first use (about 2.6 s of
    CPU): a server runs this in a thread when it starts.  Returns how many it compiled."""
    return _WORDS.warm() + _PUSH.warm()


def _push(current: str, risk: Risk, now_s: float) -> tuple[int, int] | None:
    """Where a companion's message pushes spending: a push pattern, or a spend word with a
    pressing word, unless the customer just asked about spending (an answer, not a push)."""
    for m in _PUSH.finditer(current):
        if not upsell.declined(current, m.start()):  # 不用刷礼物 declines
            return m.span()
    if now_s - risk.spend_asked_s <= upsell.ANSWER_WINDOW_S:
        return None
    if spent := upsell.SPEND.search(current):
        if upsell.NOT_PUSH.search(current) and not upsell.AGAIN.search(current):
            return None  # thanks, or telling not to spend (谢谢老板 再来个… is a push all the same)
        return spent.span()
    if risk.pushed(now_s, upsell.UPSELL_WINDOW_S) and (plea := upsell.PLEA.search(current)):
        return plea.span()  # round 8: a plea pressing the session's push again
    return None


def _talked_about(category: Category, text: str) -> bool:
    """Round 12: what the rules read as talked about, not done, vetoes the model too: scams,
    the news, dating advice or a request quoted as words to say (说'加个微信'会不会太刻意), for a
    request; school days in the past or the other's asked about (那时候晚自习…, 你高中是住校吗),
    for a minor's cue."""
    if category is Category.CONTACT_REQUEST and cues.EXTENDED_HERE.search(text):
        return True  # 加钟吧: time added here, not an app added
    if category in _REPORTABLE:
        return bool(cues.REPORTED.search(text) or cues.QUOTED.search(text))
    if category is Category.MINOR:
        return minors.PAST_ANYWHERE.search(text) is not None
    return False


def _someone_else(text: str, start: int) -> bool:
    """Whether a minor's cue that does not start with 我 follows someone else's name."""
    if text[start] in minors.SELF:
        return False
    lookback = max(0, start - minors.THIRD_PARTY_LOOKBACK)
    return minors.THIRD_PARTY.search(text, lookback, start) is not None


def _number_hit(h: NumberHit) -> _Hit:
    return _Hit(Category(h.category), h.start, h.end, h.value)


def _plausible_id(name: str) -> bool:
    """An ID with a digit, ``_`` or ``-`` in it, or a longer all-letter one that is not an
    ordinary English word following a messenger name."""
    if any(c.isdigit() or c in "_-" for c in name):
        return True
    return len(name) >= 6 and name not in cues.NOT_IDS
