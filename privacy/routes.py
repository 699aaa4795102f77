"""HTTP adapter for privacy: export my data, delete my account."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import BaseModel

from accounts.keys import CSRF_COOKIE, SESSION_COOKIE
from kernel.http.access import USERS, access
from kernel.http.api import Api, Call
from privacy.keys import PRIVACY

api = Api()


class ExportOut(BaseModel):
    profile: dict[str, Any]
    sessions: list[dict[str, Any]]
    messages: list[dict[str, Any]]
    money: list[dict[str, Any]]
    reports: list[dict[str, Any]]
    blocked: list[str]
    companion_applications: list[dict[str, Any]]
    reviews: list[dict[str, Any]]
    bookings: list[dict[str, Any]]
    appeals: list[dict[str, Any]]
    tickets: list[dict[str, Any]]
    voice_rooms: list[dict[str, Any]]


class DeletedOut(BaseModel):
    deleted: bool = True


@api.route(
    "GET",
    "/api/me/export",
    access=access(USERS),
    summary="Everything the platform keeps about me, as JSON",
    tags=["privacy"],
    response=ExportOut,
)
async def export_me(call: Call) -> BaseModel:
    return ExportOut(**await call.request.app[PRIVACY].export(call.user.user_id))


@api.route(
    "DELETE",
    "/api/me",
    access=access(USERS),
    summary="Delete my account (refused while a session is open or money is left)",
    tags=["privacy"],
    response=DeletedOut,
)
async def delete_me(call: Call) -> web.StreamResponse:
    await call.request.app[PRIVACY].delete(call.user.user_id)
    resp = web.json_response(DeletedOut().model_dump())
    resp.del_cookie(SESSION_COOKIE, path="/")
    resp.del_cookie(CSRF_COOKIE, path="/")
    return resp
