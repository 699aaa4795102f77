"""What a sender said a moment ago, so a number split over several messages (``138`` /
``1234`` / ``5678``) is read as one.  Pure: the time is an argument, never read from a clock.

One ``Conversation`` per chat (a call); in it one ``SenderWindow`` per sender.  A window keeps
the normalized text of the sender's last few messages (bounded in count, age and length); the
detector reads them joined, each ending in a line break (a separator, so digits run on across
messages while words do not), and appends the new message after checking it.
"""

from __future__ import annotations

from collections import OrderedDict, deque

MAX_MESSAGES = 4  # earlier messages joined to the new one
MAX_AGE_S = 120.0  # older messages are forgotten
MAX_CHARS_PER_MESSAGE = 48  # the tail of each: enough for a split ID or card number
MAX_SENDERS = 8  # per conversation (a call has two; admins may join)


class SenderWindow:
    """One sender's recent messages in one conversation."""

    __slots__ = ("_messages", "max_age_s", "max_messages")

    def __init__(self, max_messages: int = MAX_MESSAGES, max_age_s: float = MAX_AGE_S) -> None:
        assert max_messages >= 0 and max_age_s >= 0
        self.max_messages = max_messages
        self.max_age_s = max_age_s
        self._messages: deque[tuple[float, str]] = deque(maxlen=max(1, max_messages))

    def recent(self, now_s: float) -> str:
        """The messages of the last ``max_age_s`` seconds, oldest first, each followed by a line
        break; ``""`` when there are none."""
        messages = self._messages
        while messages and now_s - messages[0][0] > self.max_age_s:
            messages.popleft()
        if not messages or not self.max_messages:
            return ""
        return "".join(text + "\n" for _, text in messages)

    def push(self, normalized: str, now_s: float) -> None:
        """Remember a checked message (its normalized text)."""
        if self.max_messages:
            self._messages.append((now_s, normalized[-MAX_CHARS_PER_MESSAGE:]))

    def __len__(self) -> int:
        return len(self._messages)


class Conversation:
    """The windows of everyone who sends in one chat, at most ``max_senders`` (the least
    recently heard is forgotten first)."""

    __slots__ = ("_windows", "max_age_s", "max_messages", "max_senders")

    def __init__(
        self,
        max_senders: int = MAX_SENDERS,
        max_messages: int = MAX_MESSAGES,
        max_age_s: float = MAX_AGE_S,
    ) -> None:
        assert max_senders >= 1
        self.max_senders = max_senders
        self.max_messages = max_messages
        self.max_age_s = max_age_s
        self._windows: OrderedDict[str, SenderWindow] = OrderedDict()

    def window(self, sender_id: str) -> SenderWindow:
        found = self._windows.get(sender_id)
        if found is None:
            found = SenderWindow(self.max_messages, self.max_age_s)
            self._windows[sender_id] = found
            while len(self._windows) > self.max_senders:
                self._windows.popitem(last=False)
        else:
            self._windows.move_to_end(sender_id)
        return found

    def __len__(self) -> int:
        return len(self._windows)
