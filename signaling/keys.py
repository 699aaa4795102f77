"""Signaling's state, under the AppKeys other packages read: the Socket.IO adapter (with its
presence and media route), calls, and the emitter that reaches a user's open devices."""

from __future__ import annotations

from aiohttp import web

from signaling.calls import CallService
from signaling.media_route import MediaRoute
from signaling.server import Signaling, SocketEmitter

SIGNALING = web.AppKey("signaling", Signaling)
CALLS = web.AppKey("calls", CallService)
#: tells a user's open devices something happened (a decision, a reply): ``to_user(id, event, …)``
EMITTER = web.AppKey("emitter", SocketEmitter)
#: this process's media relay (``.rooms``) and the route to the process holding a room's media
MEDIA_ROUTE = web.AppKey("media_route", MediaRoute)
