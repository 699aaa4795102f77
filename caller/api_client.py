"""The HTTP API as the caller uses it: login by SMS code (with a token cache), wallet, rates.

Part of the headless caller (``caller/``; ``peiliao caller --help``).
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from caller.errors import ApiError, CallerError, refused
from caller.limits import HTTP_TIMEOUT_S


class Api:
    """The server's HTTP API with a bearer token (the CLI's way to log in)."""

    def __init__(self, server: str) -> None:
        self.server = server.rstrip("/")
        self.token: str | None = None
        self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=HTTP_TIMEOUT_S))

    async def close(self) -> None:
        await self._http.close()

    async def call(
        self,
        method: str,
        path: str,
        *,
        body: dict[str, Any] | None = None,
        params: dict[str, str] | None = None,
    ) -> Any:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        try:
            async with self._http.request(
                method, self.server + path, json=body, params=params, headers=headers
            ) as resp:
                status, text = resp.status, await resp.text()
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise CallerError(
                f"cannot reach {self.server} ({type(exc).__name__}: {exc})",
                "is the server running? `make run` serves http://127.0.0.1:8080 (pass --server)",
                "unreachable",
            ) from None
        try:
            data = json.loads(text) if text else None
        except ValueError:
            data = None
        if status >= 400:
            err = data.get("error") if isinstance(data, dict) else None
            if not isinstance(err, dict):
                raise ApiError(status, "http_error", text[:200], {})
            return_details = err.get("details")
            raise ApiError(
                status,
                str(err.get("code", "http_error")),
                str(err.get("message", "")),
                return_details if isinstance(return_details, dict) else {},
            )
        return data


@dataclass(frozen=True, slots=True)
class Me:
    user_id: str
    role: str
    nickname: str


class TokenCache:
    """Login tokens this tool was given, by server and phone, in a file only its owner reads
    (a token is a login: it is never printed)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path

    @staticmethod
    def _key(server: str, phone: str) -> str:
        return f"{server}|{''.join(ch for ch in phone if ch.isdigit())[-11:]}"

    def _load(self) -> dict[str, str]:
        if self.path is None:
            return {}
        try:
            data = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return {}
        return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}

    def get(self, server: str, phone: str) -> str | None:
        return self._load().get(self._key(server, phone))

    def put(self, server: str, phone: str, token: str | None) -> None:
        if self.path is None:
            return
        tokens = self._load()
        if token is None:
            tokens.pop(self._key(server, phone), None)
        else:
            tokens[self._key(server, phone)] = token
        with contextlib.suppress(OSError):
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            tmp = self.path.with_suffix(".tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as f:
                json.dump(tokens, f)
            tmp.replace(self.path)


async def log_in(api: Api, phone: str, token: str | None, cache: TokenCache) -> Me:
    """Log in as ``phone``: with ``token``, a cached token, or a code from the dev SMS outbox."""
    if token:
        api.token = token
        try:
            return _me(await api.call("GET", "/api/me"))
        except ApiError as exc:
            raise CallerError(
                f"the server refused --token ({exc.code}: {exc.message})",
                "log in again (on a dev server, leave --token out: the dev SMS outbox is used)",
                exc.code,
            ) from None
    cached = cache.get(api.server, phone)
    if cached:
        api.token = cached
        try:
            return _me(await api.call("GET", "/api/me"))
        except ApiError as exc:
            if exc.status != 401:
                raise refused(exc, "checking the saved login") from None
            cache.put(api.server, phone, None)
    api.token = None
    try:
        await api.call("POST", "/api/auth/sms-code", body={"phone": phone})
    except ApiError as exc:
        if exc.code == "invalid_phone":
            raise CallerError(
                f"{phone!r} is not a mainland mobile number",
                "give 11 digits starting 13–19, e.g. --phone 13800000001",
                exc.code,
            ) from None
        wait = exc.details.get("retry_after_s")
        raise refused(
            exc,
            f"asking for a login code for {phone}",
            (f"wait {wait} s, or " if wait else "") + "pass --token TOKEN",
        ) from None
    try:
        outbox = await api.call("GET", "/api/dev/sms-outbox", params={"phone": phone, "limit": "1"})
    except ApiError as exc:
        if exc.status == 404:
            raise CallerError(
                "this server keeps no dev SMS outbox (it does not run with PEILIAO_ENV=dev)",
                'pass --token TOKEN (POST /api/auth/login with "client": "cli" gives one)',
                "no_dev_outbox",
            ) from None
        raise refused(exc, "reading the dev SMS outbox") from None
    messages = outbox.get("messages") if isinstance(outbox, dict) else None
    if not messages:
        raise CallerError(f"the dev SMS outbox holds no code for {phone}", "pass --token TOKEN")
    try:
        login = await api.call(
            "POST",
            "/api/auth/login",
            body={"phone": phone, "code": messages[0]["code"], "client": "cli"},
        )
    except ApiError as exc:
        raise refused(exc, f"logging in as {phone}", "pass --token TOKEN") from None
    api.token = str(login["token"])
    cache.put(api.server, phone, api.token)
    return _me(login["user"])


def _me(user: dict[str, Any]) -> Me:
    return Me(str(user["id"]), str(user["role"]), str(user.get("nickname", "")))
