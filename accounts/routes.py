"""HTTP adapter for accounts: login by SMS code, sessions, profile, avatar, the dev SMS outbox."""

from __future__ import annotations

import ipaddress
from datetime import datetime
from typing import Annotated, Literal

from aiohttp import web
from pydantic import BaseModel, Field

from accounts.errors import (
    CodeRejected,
    ImageTooLarge,
    InvalidImage,
    InvalidPhone,
    InvalidProfile,
    PhoneLocked,
    SmsRefused,
    SmsUnavailable,
    UserNotFound,
)
from accounts.ids import AuthSessionId, UserId
from accounts.keys import (
    ACCOUNTS,
    CSRF_COOKIE,
    DEV_OUTBOX,
    HIDDEN_BETWEEN,
    REAL_NAMES,
    SESSION_COOKIE,
)
from accounts.profile import INTEREST_TAGS, MAX_TAGS, NICKNAME_MAX_CHARS
from accounts.real_name import RealNameView
from accounts.service import AccountService, Principal
from accounts.standing import AccountBanned, AccountLocked
from accounts.tokens import csrf_matches, csrf_token
from accounts.views import MeOut, UserOut, me_out, user_out
from kernel.errors import CsrfFailed, NotFound, Unauthenticated
from kernel.http.access import ANYONE, USERS, access
from kernel.http.api import Api, Call
from kernel.http.models import Strict
from kernel.keys import SETTINGS
from kernel.settings import Settings

PRINCIPAL = web.RequestKey("principal", Principal)

CSRF_HEADER = "X-CSRF-Token"

api = Api()

Phone = Annotated[str, Field(min_length=1, max_length=32, examples=["+86 138-0000-0001"])]


class SmsCodeRequest(Strict):
    phone: Phone


class SmsCodeSent(BaseModel):
    sent: bool = True
    expires_in_s: int
    resend_after_s: int


class LoginRequest(Strict):
    phone: Phone
    code: Annotated[str, Field(min_length=1, max_length=16)]
    #: ``browser``: an HttpOnly cookie plus a CSRF token; ``cli``: a bearer token in the body
    client: Literal["browser", "cli"] = "browser"


class LoginOut(BaseModel):
    user: MeOut
    new_user: bool
    expires_at: datetime
    csrf_token: str | None = None
    token: str | None = None


class SessionOut(BaseModel):
    user: MeOut
    session_id: str
    csrf_token: str


class ProfilePatch(Strict):
    nickname: Annotated[str, Field(min_length=1, max_length=NICKNAME_MAX_CHARS * 2)] | None = None
    tags: (
        Annotated[list[Annotated[str, Field(max_length=16)]], Field(max_length=MAX_TAGS * 2)] | None
    ) = None


class TagsOut(BaseModel):
    tags: list[str]


class OkOut(BaseModel):
    ok: bool = True


class OutboxQuery(Strict):
    phone: Annotated[str, Field(max_length=32)] | None = None
    limit: Annotated[int, Field(ge=1, le=200)] = 20


class OutboxMessageOut(BaseModel):
    phone: str
    code: str
    text: str
    sent_at: datetime


class OutboxOut(BaseModel):
    messages: list[OutboxMessageOut]


def client_ip(request: web.Request, settings: Settings) -> str:
    """The caller's IP: ``X-Forwarded-For``'s first hop only behind a trusted proxy."""
    candidate = request.remote or "unknown"
    if settings.trust_forwarded_for:
        forwarded = request.headers.get("X-Forwarded-For", "").split(",")[0].strip()
        if forwarded:
            candidate = forwarded
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return "unknown"


class SessionAuthenticator:
    """Finds the principal from ``Authorization: Bearer`` or the session cookie.

    Cookie-authenticated requests that change state must carry the session's CSRF token in
    ``X-CSRF-Token``; bearer tokens are not sent by browsers on their own and need none.
    """

    def __init__(self, accounts: AccountService, settings: Settings) -> None:
        self._accounts = accounts
        self._secret = settings.secret_key

    async def __call__(
        self, request: web.Request, *, unsafe: bool, optional: bool = False
    ) -> Principal | None:
        if PRINCIPAL in request:
            return request[PRINCIPAL]
        header = request.headers.get("Authorization", "")
        via_cookie = False
        if header:
            scheme, _, token = header.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                raise Unauthenticated("use 'Authorization: Bearer <token>'")
            token = token.strip()
        elif SESSION_COOKIE in request.cookies:
            token = request.cookies[SESSION_COOKIE]
            via_cookie = True
        else:
            return None
        try:
            principal = await self._accounts.authenticate(token)
        except Unauthenticated:
            if via_cookie and optional:
                return None  # the cookie of a login that ended, on a route open to anyone
            raise
        if via_cookie and unsafe:
            presented = request.headers.get(CSRF_HEADER, "")
            if not presented or not csrf_matches(self._secret, principal.session_id, presented):
                raise CsrfFailed()
        request[PRINCIPAL] = principal
        return principal


def _set_cookies(
    resp: web.StreamResponse, settings: Settings, token: str, csrf: str, max_age_s: int
) -> None:
    secure = settings.secure_cookies
    resp.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=max_age_s,
        path="/",
        httponly=True,
        secure=secure,
        samesite="Lax",
    )
    # Readable by the page's own script, which echoes it in X-CSRF-Token.
    resp.set_cookie(
        CSRF_COOKIE,
        csrf,
        max_age=max_age_s,
        path="/",
        httponly=False,
        secure=secure,
        samesite="Lax",
    )


def _json(model: BaseModel, status: int = 200) -> web.Response:
    return web.json_response(model.model_dump(mode="json"), status=status)


@api.route(
    "POST",
    "/api/auth/sms-code",
    access=access(ANYONE),
    summary="Send a login code by SMS",
    tags=["auth"],
    auth="none",
    body=SmsCodeRequest,
    response=SmsCodeSent,
    errors=[InvalidPhone, SmsRefused, SmsUnavailable],
)
async def request_sms_code(call: Call) -> BaseModel:
    body: SmsCodeRequest = call.body
    app = call.request.app
    sent = await app[ACCOUNTS].request_code(body.phone, client_ip(call.request, app[SETTINGS]))
    return SmsCodeSent(expires_in_s=sent.expires_in_s, resend_after_s=sent.resend_after_s)


@api.route(
    "POST",
    "/api/auth/login",
    access=access(ANYONE),
    summary="Log in (or sign up) with an SMS code",
    tags=["auth"],
    auth="none",
    body=LoginRequest,
    response=LoginOut,
    errors=[InvalidPhone, CodeRejected, PhoneLocked, AccountLocked, AccountBanned],
)
async def login(call: Call) -> web.StreamResponse:
    body: LoginRequest = call.body
    app = call.request.app
    settings = app[SETTINGS]
    result = await app[ACCOUNTS].verify_code(
        body.phone,
        body.code,
        client=body.client,
        user_agent=call.request.headers.get("User-Agent", ""),
    )
    out = LoginOut(user=me_out(result.user), new_user=result.new_user, expires_at=result.expires_at)
    if body.client == "cli":
        out.token = result.token
        return _json(out)
    out.csrf_token = csrf_token(settings.secret_key, result.session_id)
    resp = _json(out)
    _set_cookies(resp, settings, result.token, out.csrf_token, settings.session_ttl_s)
    return resp


@api.route(
    "POST",
    "/api/auth/logout",
    access=access(USERS),
    summary="End this login session",
    tags=["auth"],
    response=OkOut,
)
async def logout(call: Call) -> web.StreamResponse:
    await call.request.app[ACCOUNTS].logout(
        AuthSessionId(call.user.session_id), UserId(call.user.user_id)
    )
    resp = _json(OkOut())
    resp.del_cookie(SESSION_COOKIE, path="/")
    resp.del_cookie(CSRF_COOKIE, path="/")
    return resp


@api.route(
    "POST",
    "/api/auth/logout-all",
    access=access(USERS),
    summary="End every login session of this user",
    tags=["auth"],
    response=OkOut,
)
async def logout_all(call: Call) -> web.StreamResponse:
    await call.request.app[ACCOUNTS].logout_everywhere(UserId(call.user.user_id))
    resp = _json(OkOut())
    resp.del_cookie(SESSION_COOKIE, path="/")
    resp.del_cookie(CSRF_COOKIE, path="/")
    return resp


@api.route(
    "GET",
    "/api/auth/session",
    access=access(USERS),
    summary="The current session and its CSRF token",
    tags=["auth"],
    response=SessionOut,
)
async def current_session(call: Call) -> BaseModel:
    app = call.request.app
    user = await app[ACCOUNTS].get_user(call.user.user_id)
    return SessionOut(
        user=me_out(user),
        session_id=call.user.session_id,
        csrf_token=csrf_token(app[SETTINGS].secret_key, call.user.session_id),
    )


@api.route(
    "GET", "/api/me", access=access(USERS), summary="My profile", tags=["profile"], response=MeOut
)
async def get_me(call: Call) -> BaseModel:
    return me_out(await call.request.app[ACCOUNTS].get_user(call.user.user_id))


@api.route(
    "PATCH",
    "/api/me",
    access=access(USERS),
    summary="Change my nickname or interest tags",
    tags=["profile"],
    body=ProfilePatch,
    response=MeOut,
    errors=[InvalidProfile],
)
async def patch_me(call: Call) -> BaseModel:
    body: ProfilePatch = call.body
    user = await call.request.app[ACCOUNTS].update_profile(
        UserId(call.user.user_id), nickname=body.nickname, tags=body.tags
    )
    return me_out(user)


@api.route(
    "PUT",
    "/api/me/avatar",
    access=access(USERS),
    summary="Upload my avatar (re-encoded to a WebP square)",
    tags=["profile"],
    response=MeOut,
    errors=[InvalidImage, ImageTooLarge],
    raw_body_types=["image/png", "image/jpeg", "image/webp"],
)
async def put_avatar(call: Call) -> BaseModel:
    user = await call.request.app[ACCOUNTS].set_avatar(
        UserId(call.user.user_id), call.raw_body, call.request.content_type
    )
    return me_out(user)


@api.route(
    "GET",
    "/api/users/{user_id}",
    access=access(USERS, user_id="public"),
    summary="A user's public profile",
    tags=["profile"],
    response=UserOut,
    errors=[UserNotFound],
)
async def get_user(call: Call) -> BaseModel:
    user_id = call.request.match_info["user_id"]
    hidden = call.request.app.get(HIDDEN_BETWEEN)
    if (
        hidden is not None
        and user_id != call.user.user_id
        and await hidden(call.user.user_id, user_id)
    ):
        raise UserNotFound()  # a block either way: neither sees the other
    return user_out(await call.request.app[ACCOUNTS].get_user(user_id))


@api.route(
    "GET",
    "/api/users/{user_id}/avatar",
    access=access(ANYONE, user_id="public"),
    summary="A user's avatar image",
    tags=["profile"],
    auth="none",
    raw_response_type="image/webp",
    errors=[UserNotFound],
)
async def get_avatar(call: Call) -> web.StreamResponse:
    avatar = await call.request.app[ACCOUNTS].get_avatar(call.request.match_info["user_id"])
    return web.Response(
        body=avatar.data,
        content_type=avatar.content_type,
        headers={"Cache-Control": "public, max-age=86400", "X-Content-Type-Options": "nosniff"},
    )


@api.route(
    "GET",
    "/api/profile/tags",
    access=access(ANYONE),
    summary="The curated interest tags",
    tags=["profile"],
    auth="none",
    response=TagsOut,
)
async def list_tags(call: Call) -> BaseModel:
    return TagsOut(tags=list(INTEREST_TAGS))


class RealNameIn(Strict):
    name: Annotated[str, Field(min_length=1, max_length=40)]
    id_number: Annotated[str, Field(min_length=15, max_length=24)]


class RealNameOut(BaseModel):
    verified: bool
    name_masked: str | None
    id_number_masked: str | None
    adult: bool | None


def _real_name_out(v: RealNameView) -> RealNameOut:
    return RealNameOut(
        verified=v.verified,
        name_masked=v.name_masked,
        id_number_masked=v.id_number_masked,
        adult=v.adult,
    )


@api.route(
    "GET",
    "/api/me/real-name",
    access=access(USERS),
    summary="My real-name verification, masked",
    tags=["profile"],
    response=RealNameOut,
)
async def get_real_name(call: Call) -> BaseModel:
    return _real_name_out(await call.request.app[REAL_NAMES].view(call.user.user_id))


@api.route(
    "PUT",
    "/api/me/real-name",
    access=access(USERS),
    summary="Verify my real name (name and mainland ID number); stored encrypted, shown masked",
    tags=["profile"],
    body=RealNameIn,
    response=RealNameOut,
)
async def put_real_name(call: Call) -> BaseModel:
    body: RealNameIn = call.body
    view = await call.request.app[REAL_NAMES].verify(call.user.user_id, body.name, body.id_number)
    return _real_name_out(view)


class DevUserQuery(Strict):
    phone: Annotated[str, Field(max_length=32)]


@api.route(
    "GET",
    "/api/dev/users",
    access=access(ANYONE),
    summary="Dev only: the user with a phone number (for the headless caller and local tests)",
    tags=["dev"],
    auth="none",
    query=DevUserQuery,
    response=UserOut,
    errors=[NotFound],
)
async def dev_user_by_phone(call: Call) -> BaseModel:
    app = call.request.app
    if app[SETTINGS].env != "dev":
        raise NotFound()
    q: DevUserQuery = call.query
    user = await app[ACCOUNTS].user_by_phone(AccountService.parse_phone(q.phone))
    if user is None:
        raise NotFound("no user has that phone number")
    return user_out(user)


@api.route(
    "GET",
    "/api/dev/sms-outbox",
    access=access(ANYONE),
    summary="Dev only: SMS messages the dev provider kept",
    tags=["dev"],
    auth="none",
    query=OutboxQuery,
    response=OutboxOut,
    errors=[NotFound],
)
async def dev_sms_outbox(call: Call) -> BaseModel:
    app = call.request.app
    if app[SETTINGS].env != "dev" or DEV_OUTBOX not in app:
        raise NotFound()
    q: OutboxQuery = call.query
    phone = AccountService.parse_phone(q.phone) if q.phone else None
    return OutboxOut(
        messages=[
            OutboxMessageOut(phone=m.phone, code=m.code, text=m.text, sent_at=m.sent_at)
            for m in app[DEV_OUTBOX].messages(phone, q.limit)
        ]
    )
