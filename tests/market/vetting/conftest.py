"""The running server (``rig``), and what an applicant does: verify a real name, fill in an
application, upload a voice sample and certificates."""

from __future__ import annotations

import secrets
from datetime import date
from typing import Any

from tests.accounts.test_real_name import make_id
from tests.harness import bearer
from tests.harness.rig import Person, Rig, make_rig, rig

__all__ = ["make_rig", "rig"]

# Enough of each format for the magic-byte check, padded past the minimum size.
WEBM = b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm" + bytes(2048)
OGG = b"OggS\x00\x02" + bytes(2048)
MP3 = b"ID3\x04\x00" + bytes(2048)
MP4 = b"\x00\x00\x00\x20ftypM4A " + bytes(2048)
WAV = b"RIFF\x00\x10\x00\x00WAVEfmt " + bytes(2048)
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR" + bytes(256)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(256)

INTRO = "你好，我是一个温柔耐心的倾听者，喜欢音乐和电影，陪你度过每一个难眠的夜晚。"
FORM: dict[str, Any] = {
    "specialties": ["情感倾诉", "助眠陪伴"],
    "gender": "female",
    "intro": INTRO,
    "text_fen_per_min": 100,
    "voice_fen_per_min": 300,
    "video_fen_per_min": 600,
}


async def verify(rig: Rig, who: Person, born: date = date(1995, 6, 1)) -> None:
    """Verify ``who``'s real name (a fresh ID number each time: one account per ID)."""
    serial = f"{secrets.randbelow(1000):03d}"
    body = {"name": "王小丽", "id_number": make_id(born, serial, region=_region())}
    resp = await rig.http.put("/api/me/real-name", json=body, headers=bearer(who.token))
    assert resp.status == 200, await resp.text()


def _region() -> str:
    return f"11{secrets.randbelow(10000):04d}"


async def applicant(rig: Rig) -> Person:
    who = await rig.person()
    await verify(rig, who)
    return who


async def call(rig: Rig, method: str, path: str, who: Person | None, **kw: Any) -> Any:
    """(status, JSON body) of one request."""
    headers = bearer(who.token) if who is not None else {}
    resp = await rig.http.request(method, path, headers=headers | kw.pop("headers", {}), **kw)
    body = await resp.json() if resp.content_type == "application/json" else await resp.read()
    return resp.status, body


def code(body: Any) -> str:
    return str(body["error"]["code"])


async def upload(
    rig: Rig,
    who: Person,
    path: str,
    data: bytes,
    content_type: str,
    method: str = "PUT",
    **kw: Any,
) -> Any:
    headers = {"Content-Type": content_type}
    return await call(rig, method, path, who, data=data, headers=headers, **kw)


async def voice(rig: Rig, who: Person, data: bytes = WEBM, ctype: str = "audio/webm") -> Any:
    return await upload(rig, who, "/api/me/application/voice-sample", data, ctype)


async def certificate(
    rig: Rig, who: Person, category: str, data: bytes = PNG, ctype: str = "image/png"
) -> Any:
    return await upload(
        rig,
        who,
        "/api/me/application/certificates",
        data,
        ctype,
        method="POST",
        params={"category": category},
    )


async def submitted(rig: Rig, who: Person, form: dict[str, Any] | None = None) -> str:
    """A complete application of ``who``, submitted; its id."""
    status, body = await call(rig, "PUT", "/api/me/application", who, json=form or FORM)
    assert status == 200, body
    status, body = await voice(rig, who)
    assert status == 200, body
    status, body = await call(rig, "POST", "/api/me/application/submit", who)
    assert status == 200, body
    return str(body["id"])


async def decide(
    rig: Rig, admin: Person, application_id: str, approve: bool, reason: str = ""
) -> Any:
    return await call(
        rig,
        "POST",
        f"/api/admin/applications/{application_id}/decision",
        admin,
        json={"approve": approve, "reason": reason},
    )
