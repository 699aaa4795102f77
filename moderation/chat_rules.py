"""The chat moderation hook (``signaling.chat.Moderation``) backed by the detector: every
message is checked with its sender's recent messages in the same session (digits split across
messages), and the decision is logged without the text or any matched value (keyed hashes)."""

from __future__ import annotations

import hashlib
import hmac
from collections import OrderedDict
from collections.abc import Callable

import structlog

from accounts.service import Principal
from kernel.settings import SettingsError
from moderation.detect import Detector, Policy
from moderation.verdict import Verdict
from moderation.window import Conversation

log = structlog.get_logger(__name__)

#: sessions whose conversation windows are kept (least recently used dropped first)
MAX_CONVERSATIONS = 20_000


class ChatRules:
    def __init__(self, detector: Detector, now_s: Callable[[], float]) -> None:
        self._detector = detector
        self._now_s = now_s
        self._conversations: OrderedDict[str, Conversation] = OrderedDict()

    @classmethod
    def from_secret(cls, secret: str, policy: str, now_s: Callable[[], float]) -> ChatRules:
        key = hmac.new(secret.encode(), b"moderation", hashlib.sha256).digest()
        try:
            detector = Detector(key, Policy.parse(policy)) if policy else Detector(key)
        except ValueError as exc:  # the server refuses to start, saying which setting is wrong
            raise SettingsError(f"PEILIAO_MODERATION_POLICY: {exc}") from None
        return cls(detector, now_s)

    def _conversation(self, call_id: str) -> Conversation:
        conversation = self._conversations.get(call_id)
        if conversation is None:
            conversation = self._conversations[call_id] = Conversation()
            if len(self._conversations) > MAX_CONVERSATIONS:
                self._conversations.popitem(last=False)
        else:
            self._conversations.move_to_end(call_id)
        return conversation

    async def review(self, sender: Principal, call_id: str, text: str) -> Verdict:
        decision = self._detector.check(
            text,
            sender_role=sender.role.value,
            now_s=self._now_s(),
            window=self._conversation(call_id).window(sender.user_id),
        )
        if decision.categories:
            log.info(
                "message_moderated",
                call_id=call_id,
                user_id=sender.user_id,
                **decision.log_fields(),
            )
        return Verdict(
            decision.action.value,
            decision.text,
            tuple(c.value for c in decision.categories),
            decision.reason,
            warn=decision.warn_receiver,
            flags=tuple(f.value for f in decision.flags),
            priority=decision.priority.value,
            queue=decision.queue,
        )

    async def forget(self, call_id: str) -> None:
        self._conversations.pop(call_id, None)
