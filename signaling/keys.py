"""Signaling's state, under the AppKeys other packages read: the Socket.IO adapter (with its
presence and media route), calls, and the emitter that reaches a user's open devices."""

from __future__ import annotations

from aiohttp import web

from media.evidence_store import EvidenceStore
from signaling.calls import CallService
from signaling.fair_service import FairService
from signaling.media_route import MediaRoute
from signaling.server import Signaling, SocketEmitter

SIGNALING = web.AppKey("signaling", Signaling)
CALLS = web.AppKey("calls", CallService)
#: tells a user's open devices something happened (a decision, a reply): ``to_user(id, event, …)``
EMITTER = web.AppKey("emitter", SocketEmitter)
#: this process's media relay (``.rooms``) and the route to the process holding a room's media
MEDIA_ROUTE = web.AppKey("media_route", MediaRoute)
#: sealed evidence of reported calls (``media.evidence_store``): admins read it, a sweep expires it
EVIDENCE = web.AppKey("call_evidence_store", EvidenceStore)
#: fair service: each ended call's judgement and automatic refund (``signaling.fair_service``)
FAIR = web.AppKey("fair", FairService)
