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
    #: what the client may show beside the conversation, for the signaling layer to use:
    #: ``minor`` (someone said they are under 18: remind both sides of the rules),
    #: ``upsell_banner`` (the companion keeps pushing spending: a banner for the customer),
    #: ``sexual_warning`` (a companion sent sexual content: protect the customer)
    flags: tuple[str, ...] = field(default=())
    #: how soon an admin should look: low | normal | high (a minor with a meeting or sexual
    #: request); ``queue``: the message goes to the admin queue (every review, and blocked
    #: sexual content)
    priority: str = "normal"
    queue: bool = False
