"""What the subscribers of one source say back to it: bandwidth (REMB) and keyframe requests.

Bandwidth.  A subscriber's browser estimates what its downlink carries from the abs-send-time
the relay writes on every forwarded packet (the relay's packets carry no transport-wide sequence
number, so libwebrtc's receive-side estimator runs), and sends that estimate as REMB to the
relay's sender for it.  aiortc's sender would hand it to an encoder it does not have; the forward
(``media.forward``) records it here instead.  Toward the publisher the relay sends REMB as a cap
(libwebrtc caps its target at a REMB it receives, beside its own estimate): ``RembPolicy`` says
what, rewriting the REMB aiortc's receiver would send from its own estimator
(``rtc_internals.intercept_receiver_remb``) and sending one itself when a subscriber's estimate
arrives and the last one is a second old or the new value is a significant drop.  Where the
publisher's leg negotiated transport-wide feedback (``media.twcc``, every Chromium), the
publisher's browser estimates its uplink itself; otherwise the relay's own estimate of it caps
too.  An estimate older than ``stale_s`` (the subscriber left, or stopped saying) no longer
counts.  A subscriber receiving k video streams on one transport lists k SSRCs in its REMB;
each source is given 1/k of it.

Keyframes.  Every forward of a source may ask it for a keyframe (a subscriber's PLI or FIR, a
NACK nothing can repair, a subscriber starting); one keyframe serves them all, so the source is
asked at most once per interval, whoever asks.

``RembPolicy`` is pure (times in, numbers out); ``SourceFeedback`` applies it to one receiver.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Hashable

from aiortc import RTCRtpReceiver

from media import rtc_internals

#: a subscriber's estimate is not taken below this (bit/s): a broken or hostile subscriber
#: must not starve the publisher's video for everyone else
FLOOR_BPS = 100_000
#: seconds after which a subscriber's estimate no longer counts (browsers send one every ~1 s)
STALE_S = 5.0
#: REMB toward the publisher at most this often (seconds)...
INTERVAL_S = 1.0
#: ...unless the value drops by at least this fraction since the last one sent
DROP = 0.1


#: a keyframe request with no keyframe after it may be repeated this soon (the interval
#: otherwise): libwebrtc's encoder drops requests within 300 ms of its last keyframe
KEYFRAME_RETRY_S = 0.35


#: a subscriber's estimate says its downlink is congested when it falls by this fraction or
#: more (libwebrtc's receive-side estimator lowers its estimate only on overuse)...
SUBSCRIBER_DROP = 0.05
#: ...or when it is below this share of what the relay receives from the publisher (its first
#: estimate may come from an overuse: 0.85 × what its downlink carried)
CONGESTED_SHARE = 0.8
#: a congested subscriber caps the publisher at its estimate for this long (seconds)...
HOLD_S = 10.0
#: ...then lets it grow by this factor per REMB sent (one a second) until it is congested again
GROWTH = 1.5
#: the publisher's incoming rate is measured over windows this long (seconds)
RATE_WINDOW_S = 1.0
#: what "no cap" is said as, once a cap was sent: REMB has no "unlimited" that every browser
#: reads the same (libwebrtc takes 0 as none), so a rate no call here reaches
UNCAPPED_BPS = 20_000_000


class RembPolicy:
    """What REMB the relay sends a publisher, and when.

    A subscriber's browser estimates its downlink from the relay's abs-send-time (libwebrtc's
    receive-side estimator).  That estimate only falls on overuse, and otherwise grows by about
    8 % a second whatever arrives: taken as a cap it held a publisher on a fast link to half of
    a direct call's bitrate over 20 s.  So a subscriber's estimate caps the publisher only when
    its downlink has said "too much" (the estimate fell, or is well below what the publisher
    sends): at the estimate for ``HOLD_S`` after that, then growing by ``GROWTH`` per REMB sent
    (never below the estimate) until it is congested again.  The relay's own estimate of the
    publisher's uplink (aiortc's receive-side one) counts only when the publisher's leg has no
    transport-wide feedback (``media.twcc``): with it, the publisher's browser estimates its
    uplink itself.  Once a cap was sent and nothing caps any more, ``UNCAPPED_BPS`` lifts it."""

    def __init__(
        self,
        *,
        floor_bps: int = FLOOR_BPS,
        stale_s: float = STALE_S,
        interval_s: float = INTERVAL_S,
        drop: float = DROP,
    ) -> None:
        self.floor_bps = floor_bps
        self.stale_s = stale_s
        self.interval_s = interval_s
        self.drop = drop
        #: the relay's own estimate of the publisher → relay leg (aiortc's estimator)
        self.own_bps: int | None = None
        #: the publisher's leg has transport-wide feedback: its browser estimates the uplink
        self.transport_cc = False
        #: per subscriber (a forward): its latest estimate, when it arrived, when it last said
        #: its downlink was congested
        self.subscribers: dict[Hashable, tuple[int, float, float]] = {}
        self.last_sent: tuple[int, float] | None = None
        #: what the relay receives from the publisher (bit/s; ``SourceFeedback.received``)
        self.incoming_bps: int | None = None

    def subscriber(self, key: Hashable, bps: int, now: float) -> None:
        before = self.subscribers.get(key)
        congested = -math.inf if before is None else before[2]
        if (before is not None and bps < before[0] * (1 - SUBSCRIBER_DROP)) or (
            self.incoming_bps is not None and bps < self.incoming_bps * CONGESTED_SHARE
        ):
            congested = now
        self.subscribers[key] = (bps, now, congested)

    def forget(self, key: Hashable) -> None:
        self.subscribers.pop(key, None)

    def _cap(self, bps: int, congested: float, now: float) -> int | None:
        """What one subscriber lets the publisher send (None: no limit)."""
        if congested == -math.inf:
            return None  # its downlink never said "too much"
        if now - congested <= HOLD_S or self.last_sent is None:
            return bps
        return max(bps, int(self.last_sent[0] * GROWTH))

    def lowest_subscriber(self, now: float) -> int | None:
        for key in [k for k, (_, at, _) in self.subscribers.items() if now - at > self.stale_s]:
            del self.subscribers[key]
        caps = [self._cap(bps, fell, now) for bps, _, fell in self.subscribers.values()]
        known = [c for c in caps if c is not None]
        return min(known) if known else None

    def target(self, now: float) -> int | None:
        """The estimate the publisher should be told now (None: nothing to tell)."""
        lowest = self.lowest_subscriber(now)
        if lowest is not None:
            lowest = max(lowest, self.floor_bps)
        own = None if self.transport_cc else self.own_bps
        known = [b for b in (own, lowest) if b is not None]
        if known:
            return min(known)
        # nothing caps the publisher now; if something did, lift it
        return UNCAPPED_BPS if self.last_sent is not None else None

    def due(self, value: int, now: float) -> bool:
        """Whether to send ``value`` now: a second after the last, or at once on a drop."""
        if self.last_sent is None:
            return True
        sent, at = self.last_sent
        return now - at >= self.interval_s or value <= sent * (1 - self.drop)

    def sent(self, value: int, now: float) -> None:
        self.last_sent = (value, now)

    def own(self, bps: int, now: float) -> int | None:
        """aiortc's estimator produced ``bps``: what to send instead (None: nothing now)."""
        self.own_bps = bps
        value = self.target(now)
        if value is None or not self.due(value, now):
            return None
        self.sent(value, now)
        return value


class SourceFeedback:
    """The feedback state of one source: the relay's receiver of one publisher's video."""

    #: where a receiver keeps its ``SourceFeedback`` (on the receiver itself, so the two go
    #: together: a weak-keyed table would be kept alive by the value's reference to its key)
    _ATTRIBUTE = "_peiliao_source_feedback"

    def __init__(
        self,
        receiver: RTCRtpReceiver,
        policy: RembPolicy | None = None,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self._receiver = receiver
        self.policy = policy or RembPolicy()
        self._now = now
        self._ssrcs: list[int] = []
        self.last_keyframe_request = -math.inf
        #: when a keyframe last came after a request (``keyframe_arrived``)
        self.last_keyframe = -math.inf
        #: REMB values sent to the publisher (tests, the bench)
        self.remb_sent = 0
        #: what arrived from the publisher since ``_rx_since`` (``received``)
        self._rx_bytes = 0
        self._rx_since: float | None = None
        rtc_internals.intercept_receiver_remb(receiver, self._own)

    @classmethod
    def of(
        cls,
        receiver: RTCRtpReceiver,
        policy: RembPolicy | None = None,
        now: Callable[[], float] = time.monotonic,
    ) -> SourceFeedback:
        """The one ``SourceFeedback`` of ``receiver`` (made, and hooked, on first use)."""
        found: SourceFeedback | None = getattr(receiver, cls._ATTRIBUTE, None)
        if found is None:
            found = cls(receiver, policy, now)
            setattr(receiver, cls._ATTRIBUTE, found)
        return found

    def _own(self, bps: int, ssrcs: list[int]) -> int | None:
        self._ssrcs = ssrcs or self._ssrcs
        value = self.policy.own(bps, self._now())
        if value is not None:
            self.remb_sent += 1
        return value

    async def subscriber(self, key: Hashable, bps: int, media_ssrc: int | None) -> None:
        """A subscriber's estimate for this source arrived: tell the publisher if it matters."""
        now = self._now()
        self.policy.subscriber(key, bps, now)
        value = self.policy.target(now)
        if value is None or not self.policy.due(value, now):
            return
        ssrcs = self._ssrcs or ([media_ssrc] if media_ssrc is not None else [])
        if await rtc_internals.send_remb(self._receiver, value, ssrcs):
            self.policy.sent(value, now)
            self.remb_sent += 1

    def forget(self, key: Hashable) -> None:
        self.policy.forget(key)

    def received(self, nbytes: int, now_s: float) -> None:
        """A packet of ``nbytes`` arrived from the publisher: the policy's incoming rate, over
        windows of ``RATE_WINDOW_S``."""
        since = self._rx_since
        if since is None:
            self._rx_since = now_s
            return
        self._rx_bytes += nbytes
        elapsed = now_s - since
        if elapsed >= RATE_WINDOW_S:
            self.policy.incoming_bps = int(self._rx_bytes * 8 / elapsed)
            self._rx_bytes = 0
            self._rx_since = now_s

    def keyframe_may_be_asked(self, now: float, interval_s: float) -> bool:
        """Once per ``interval_s``; or again after ``KEYFRAME_RETRY_S`` when no keyframe has
        come since the last request (a browser's encoder ignores a request that comes within
        300 ms of its last keyframe, as when a subscriber connects just after the publisher
        started: waiting out the whole interval delayed that subscriber's first frame)."""
        since = now - self.last_keyframe_request
        if since >= interval_s:
            return True
        return since >= KEYFRAME_RETRY_S and self.last_keyframe < self.last_keyframe_request

    def keyframe_due(self, now: float, interval_s: float) -> bool:
        """Whether the source may be asked for a keyframe now (and note that it is)."""
        if not self.keyframe_may_be_asked(now, interval_s):
            return False
        self.last_keyframe_request = now
        return True

    def keyframe_arrived(self, now: float) -> None:
        """A keyframe from the source reached a forward (noted while a request is open)."""
        self.last_keyframe = now
