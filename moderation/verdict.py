"""What moderation decides about one chat message: the hook's answer (``signaling.chat``
calls the hook; moderation owns its verdict)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Verdict:
    """What moderation decided about one message."""

    action: str  # allow | mask | review | block
    text: str  # what is delivered (masked when action is mask)
    categories: tuple[str, ...] = field(default=())
    reason: str = ""
    #: the receiving customer should be warned (a companion asked for contact details or an
    #: offline meeting): they get ``chat:warning`` with one-tap report
    warn: bool = False
