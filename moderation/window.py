"""What a sender said a moment ago, so a number split over several messages (``138`` /
``1234`` / ``5678``) is read as one.  Pure: the time is an argument, never read from a clock.

One ``Conversation`` per chat (a call); in it one ``SenderWindow`` per sender.  A window keeps
the normalized text of the sender's last few messages (bounded in count, age and length); the
detector reads them joined, each ending in a line break (a separator, so digits run on across
messages while words do not), and appends the new message after checking it.

What spans senders lives in the conversation's ``Risk``, shared by its windows: when someone
last said they are under 18 and when a meeting or sexual content was last asked for (together,
within ``RISK_WINDOW_S``, they escalate), when the age was last asked (a bare ``15`` in reply is
an age), and when the companion last pushed a package, a top-up or a longer session.
"""

from __future__ import annotations

from collections import OrderedDict, deque

MAX_MESSAGES = 4  # earlier messages joined to the new one
MAX_AGE_S = 120.0  # older messages are forgotten
MAX_CHARS_PER_MESSAGE = 48  # the tail of each: enough for a split ID or card number
MAX_SENDERS = 8  # per conversation (a call has two; admins may join)
RISK_WINDOW_S = 1800.0  # a minor cue and a meeting or sexual cue this close escalate
AGE_QUESTION_S = 300.0  # a bare number this soon after "how old are you" is an age
MAX_PUSHES = 16  # upsell pushes remembered per conversation


class Risk:
    """What one conversation said that matters across senders (times in seconds, any clock;
    ``-inf``: never)."""

    __slots__ = ("_pushes", "age_asked_s", "minor_by", "minor_s", "solicited_s", "spend_asked_s")

    def __init__(self) -> None:
        self.minor_s = float("-inf")  # someone said they are under 18
        self.minor_by = ""  # the role of who said it (round 10: grooming words are the other's)
        self.solicited_s = float("-inf")  # a meeting or sexual content was asked for
        self.age_asked_s = float("-inf")
        self.spend_asked_s = float("-inf")  # the customer asked about a package or a price
        self._pushes: deque[float] = deque(maxlen=MAX_PUSHES)

    def minor_recent(self, now_s: float) -> bool:
        return now_s - self.minor_s <= RISK_WINDOW_S

    def solicited_recent(self, now_s: float) -> bool:
        return now_s - self.solicited_s <= RISK_WINDOW_S

    def age_asked_recent(self, now_s: float) -> bool:
        return now_s - self.age_asked_s <= AGE_QUESTION_S

    def pushed(self, now_s: float, window_s: float) -> int:
        """1 if an upsell push was counted in the last ``window_s``, else 0."""
        pushes = self._pushes
        return int(bool(pushes) and now_s - pushes[-1] <= window_s)

    def push(self, now_s: float, window_s: float, count: int = 1) -> int:
        """Count an upsell message pushing ``count`` times; how many pushes there were in the
        last ``window_s``, these included."""
        pushes = self._pushes
        pushes.extend([now_s] * count)
        while pushes and now_s - pushes[0] > window_s:
            pushes.popleft()
        return len(pushes)


class SenderWindow:
    """One sender's recent messages in one conversation."""

    __slots__ = ("_messages", "max_age_s", "max_messages", "risk")

    def __init__(
        self,
        max_messages: int = MAX_MESSAGES,
        max_age_s: float = MAX_AGE_S,
        risk: Risk | None = None,
    ) -> None:
        assert max_messages >= 0 and max_age_s >= 0
        self.max_messages = max_messages
        self.max_age_s = max_age_s
        self._messages: deque[tuple[float, str]] = deque(maxlen=max(1, max_messages))
        #: the conversation's, shared by its senders (a window alone has its own)
        self.risk = risk if risk is not None else Risk()

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

    __slots__ = ("_windows", "max_age_s", "max_messages", "max_senders", "risk")

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
        self.risk = Risk()

    def window(self, sender_id: str) -> SenderWindow:
        found = self._windows.get(sender_id)
        if found is None:
            found = SenderWindow(self.max_messages, self.max_age_s, self.risk)
            self._windows[sender_id] = found
            while len(self._windows) > self.max_senders:
                self._windows.popitem(last=False)
        else:
            self._windows.move_to_end(sender_id)
        return found

    def __len__(self) -> int:
        return len(self._windows)
