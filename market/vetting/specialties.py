"""What a companion may offer (specialties), and the rules of an application's text fields:
specialties, gender and the self-introduction (length, characters, no contact details).

Pure: no I/O.  Contact details are found by the chat detector (``moderation.detect``) with
every category refused: an intro is public and permanent, so nothing in it is masked or
queued — the applicant is told which kinds of detail to take out.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

from metering.tariff import SPECIALIST_CATEGORIES
from moderation.detect import REASONS, Action, Category, Detector, Policy

#: The fixed list of specialties (the web client shows them in this order).
SPECIALTIES: tuple[str, ...] = (
    "情感倾诉",
    "游戏陪玩",
    "外语陪练",
    "考研辅导",
    "职场咨询",
    "闲聊",
    "心理咨询",
    "助眠陪伴",
    "才艺",
)
#: A profile with more than this reads as "anything": customers choose by specialty.
MAX_SPECIALTIES = 5
GENDERS: tuple[str, ...] = ("female", "male", "")
#: Long enough to say something about oneself, short enough to read on a phone's card.
INTRO_MIN_CHARS = 20
INTRO_MAX_CHARS = 500

assert set(SPECIALTIES) >= SPECIALIST_CATEGORIES, "every specialist category is a specialty"

# Every detector category refused: the hashes it computes are never kept, so any key will do.
# The rules only: the n-gram model's word is a review by an admin, not a refusal (its precision
# is lower, and an introduction refused has no one to look at it).
_INTRO_DETECTOR = Detector(
    b"vetting-intro", Policy({category: Action.BLOCK for category in Category}), model=None
)


class ApplicationRuleError(ValueError):
    """An application field breaks a rule; ``code`` is stable, ``details`` machine-readable."""

    def __init__(self, code: str, message: str, **details: object) -> None:
        super().__init__(message)
        self.code = code
        self.details = details


def clean_specialties(raw: Sequence[str]) -> list[str]:
    """1..``MAX_SPECIALTIES`` known specialties, duplicates dropped, order kept."""
    unknown = [s for s in raw if s not in SPECIALTIES]
    if unknown:
        raise ApplicationRuleError(
            "unknown_specialty",
            f"unknown specialties: {', '.join(unknown[:5])}; choose from {', '.join(SPECIALTIES)}",
            unknown=unknown[:5],
        )
    chosen = list(dict.fromkeys(raw))
    if not chosen:
        raise ApplicationRuleError("no_specialty", "choose at least one specialty")
    if len(chosen) > MAX_SPECIALTIES:
        raise ApplicationRuleError("too_many_specialties", f"at most {MAX_SPECIALTIES} specialties")
    return chosen


#: The specialty an interest tag (``accounts.profile.INTEREST_TAGS``) suggests; the demo seed
#: gives its companions specialties this way.  Tags not listed suggest 闲聊.
TAG_SPECIALTIES: dict[str, str] = {
    "情感": "情感倾诉",
    "心理": "心理咨询",
    "游戏": "游戏陪玩",
    "外语": "外语陪练",
    "考研": "考研辅导",
    "职场": "职场咨询",
    "音乐": "才艺",
}


def specialties_for_tags(tags: Sequence[str]) -> list[str]:
    """Specialties suggested by interest tags (at most ``MAX_SPECIALTIES``, order kept)."""
    found = [TAG_SPECIALTIES.get(t, "闲聊") for t in tags]
    return list(dict.fromkeys(found))[:MAX_SPECIALTIES] or ["闲聊"]


def specialist_specialties(specialties: Sequence[str]) -> list[str]:
    """The specialist categories among ``specialties`` (each needs a certificate)."""
    return [s for s in specialties if s in SPECIALIST_CATEGORIES]


def clean_intro(raw: str) -> str:
    """The NFC-normalized, trimmed intro, or :class:`ApplicationRuleError`: its length
    (``intro_length``), invisible characters (``intro_characters``) or contact details and
    the like (``intro_contact_details``, ``details.categories`` naming each kind found)."""
    intro = unicodedata.normalize("NFC", raw).strip()
    if not (INTRO_MIN_CHARS <= len(intro) <= INTRO_MAX_CHARS):
        raise ApplicationRuleError(
            "intro_length",
            f"the introduction must be {INTRO_MIN_CHARS}-{INTRO_MAX_CHARS} characters",
            min_chars=INTRO_MIN_CHARS,
            max_chars=INTRO_MAX_CHARS,
        )
    # Line breaks are fine; other control and format characters (zero-width, bidi) hide text.
    if any(
        unicodedata.category(ch) in ("Cc", "Cf", "Co", "Cs") and ch not in "\n\t" for ch in intro
    ):
        raise ApplicationRuleError(
            "intro_characters", "the introduction has invisible or control characters"
        )
    decision = _INTRO_DETECTOR.check(intro, sender_role="companion")
    if decision.categories:
        kinds = [REASONS[c] for c in decision.categories]
        raise ApplicationRuleError(
            "intro_contact_details",
            "the introduction may not contain " + ", ".join(kinds),
            categories=[c.value for c in decision.categories],
        )
    return intro
