"""Helpers that act as a person would: ask for a code, read it from the dev outbox, log in."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from accounts.sms import DevOutbox

JSON = {"Content-Type": "application/json"}


async def send_code(client: TestClient, phone: str, *, ip: str | None = None) -> Any:  # type: ignore[type-arg]
    headers = {"X-Forwarded-For": ip} if ip else {}
    return await client.post("/api/auth/sms-code", json={"phone": phone}, headers=headers)


def last_code(outbox: DevOutbox, phone: str) -> str:
    return outbox.messages(phone, 1)[0].code


async def login_cli(client: TestClient, outbox: DevOutbox, phone: str) -> str:  # type: ignore[type-arg]
    """Log in as ``phone`` with a bearer token (CLI style); returns the token."""
    resp = await send_code(client, phone)
    assert resp.status == 200, await resp.text()
    resp = await client.post(
        "/api/auth/login",
        json={"phone": phone, "code": last_code(outbox, phone), "client": "cli"},
    )
    assert resp.status == 200, await resp.text()
    token: str = (await resp.json())["token"]
    return token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
