"""Profiles: nickname and tag rules, avatar upload checks and re-encoding, phone privacy."""

from __future__ import annotations

import io

import pytest
from aiohttp.test_utils import TestClient
from PIL import Image

from accounts.sms import DevOutbox
from tests.harness import bearer, login_cli

pytestmark = pytest.mark.timeout(60)


def image_bytes(fmt: str, size: tuple[int, int] = (300, 200), mode: str = "RGB") -> bytes:
    img = Image.new(mode, size, (200, 30, 30) if mode == "RGB" else 200)
    out = io.BytesIO()
    if fmt == "JPEG":
        exif = Image.Exif()
        exif[0x010F] = "CameraMaker"  # Make
        img.save(out, format=fmt, exif=exif)
    else:
        img.save(out, format=fmt)
    return out.getvalue()


@pytest.fixture
async def token(client: TestClient, outbox: DevOutbox) -> str:  # type: ignore[type-arg]
    return await login_cli(client, outbox, "13800000201")


async def test_tags_come_from_the_curated_list(client: TestClient, token: str) -> None:
    tags = (await (await client.get("/api/profile/tags")).json())["tags"]
    assert {"游戏", "动漫", "情感", "外语", "考研", "职场", "音乐"} <= set(tags)
    ok = await client.patch(
        "/api/me", json={"tags": ["游戏", "音乐", "游戏"]}, headers=bearer(token)
    )
    assert (await ok.json())["tags"] == ["游戏", "音乐"]
    bad = await client.patch("/api/me", json={"tags": ["赌博"]}, headers=bearer(token))
    assert bad.status == 400 and (await bad.json())["error"]["code"] == "unknown_tag"


@pytest.mark.parametrize(
    ("nickname", "code"),
    [
        ("", "invalid_input"),
        ("   ", "nickname_length"),
        ("a" * 21, "nickname_length"),
        ("bad\u200bname", "nickname_characters"),
        ("bell\x07", "nickname_characters"),
    ],
)
async def test_bad_nicknames_are_refused_and_nothing_changes(
    client: TestClient, token: str, nickname: str, code: str
) -> None:
    before = await (await client.get("/api/me", headers=bearer(token))).json()
    resp = await client.patch("/api/me", json={"nickname": nickname}, headers=bearer(token))
    assert resp.status == 400
    assert (await resp.json())["error"]["code"] == code
    after = await (await client.get("/api/me", headers=bearer(token))).json()
    assert after == before


async def test_other_users_never_see_the_phone(
    client: TestClient, outbox: DevOutbox, token: str
) -> None:
    me = await (await client.get("/api/me", headers=bearer(token))).json()
    other = await login_cli(client, outbox, "13800000202")
    seen = await (await client.get(f"/api/users/{me['id']}", headers=bearer(other))).json()
    assert "phone" not in seen and "13800000201" not in str(seen)
    missing = await client.get("/api/users/u_nobody", headers=bearer(other))
    assert missing.status == 404 and (await missing.json())["error"]["code"] == "user_not_found"


@pytest.mark.parametrize(
    ("fmt", "content_type"), [("PNG", "image/png"), ("JPEG", "image/jpeg"), ("WEBP", "image/webp")]
)
async def test_avatar_is_reencoded_to_a_square_webp(
    client: TestClient, token: str, fmt: str, content_type: str
) -> None:
    resp = await client.put(
        "/api/me/avatar",
        data=image_bytes(fmt),
        headers={**bearer(token), "Content-Type": content_type},
    )
    assert resp.status == 200, await resp.text()
    url = (await resp.json())["avatar_url"]
    got = await client.get(url)
    assert got.status == 200 and got.content_type == "image/webp"
    img = Image.open(io.BytesIO(await got.read()))
    assert img.format == "WEBP" and img.size == (256, 256)
    assert not img.getexif(), "metadata must not survive re-encoding"


async def test_avatar_url_changes_with_each_upload(client: TestClient, token: str) -> None:
    headers = {**bearer(token), "Content-Type": "image/png"}
    first = (
        await (await client.put("/api/me/avatar", data=image_bytes("PNG"), headers=headers)).json()
    )["avatar_url"]
    second = (
        await (await client.put("/api/me/avatar", data=image_bytes("PNG"), headers=headers)).json()
    )["avatar_url"]
    assert first != second


async def test_avatar_rejects_non_images_and_lies_about_type(
    client: TestClient, token: str
) -> None:
    cases = [
        (b"<?php echo 1; ?>", "image/png", 400, "invalid_image"),
        (image_bytes("PNG"), "image/jpeg", 400, "invalid_image"),  # declared JPEG, is PNG
        (image_bytes("PNG")[:100], "image/png", 400, "invalid_image"),  # truncated
        (b"GIF89a....", "image/gif", 415, "unsupported_media_type"),
        (b"", "image/png", 400, "invalid_image"),
    ]
    for data, ctype, status, code in cases:
        resp = await client.put(
            "/api/me/avatar", data=data, headers={**bearer(token), "Content-Type": ctype}
        )
        assert resp.status == status, (ctype, await resp.text())
        assert (await resp.json())["error"]["code"] == code
    me = await (await client.get("/api/me", headers=bearer(token))).json()
    assert me["avatar_url"] is None


async def test_avatar_size_and_pixel_limits(client: TestClient, token: str) -> None:
    headers = {**bearer(token), "Content-Type": "image/png"}
    huge = await client.put(
        "/api/me/avatar", data=b"\x89PNG" + b"\0" * (2_097_152 + 10), headers=headers
    )
    assert huge.status == 413 and (await huge.json())["error"]["code"] == "payload_too_large"
    # A tiny file that decodes to 5000 x 5000 pixels: a decompression bomb.
    bomb = image_bytes("PNG", size=(5000, 5000), mode="L")
    assert len(bomb) < 2_097_152
    resp = await client.put("/api/me/avatar", data=bomb, headers=headers)
    assert resp.status == 413 and (await resp.json())["error"]["code"] == "image_too_large"
