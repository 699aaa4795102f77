"""Voice rooms' state, under its AppKey."""

from __future__ import annotations

from aiohttp import web

from market.voicerooms.service import VoiceRoomService

VOICE_ROOMS = web.AppKey("voice_rooms", VoiceRoomService)
