"""Every SMS-code rule through the real HTTP API, on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestClient, TestServer

from accounts.sms import DevOutbox
from kernel.clock import FakeClock
from kernel.settings import Settings
from peiliao.app import create_app
from store import Database
from tests.harness import last_code, send_code

pytestmark = pytest.mark.timeout(60)


async def login(client: TestClient, phone: str, code: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    resp = await client.post(
        "/api/auth/login", json={"phone": phone, "code": code, "client": "cli"}
    )
    return resp.status, await resp.json()


async def test_code_logs_in_and_signs_up_a_new_phone(client: TestClient, outbox: DevOutbox) -> None:
    resp = await send_code(client, "+86 138-0000-0009")
    assert resp.status == 200
    assert await resp.json() == {"sent": True, "expires_in_s": 300, "resend_after_s": 60}
    code = last_code(outbox, "13800000009")
    assert len(code) == 6 and code.isdigit()
    status, body = await login(client, "138 0000 0009", code)
    assert status == 200, body
    assert body["new_user"] is True
    assert body["user"]["phone"] == "13800000009"
    assert body["user"]["role"] == "customer"
    assert "0009" in body["user"]["nickname"] and "1380000" not in body["user"]["nickname"]


async def test_second_login_finds_the_same_user(
    client: TestClient, outbox: DevOutbox, clock: FakeClock
) -> None:
    await send_code(client, "13800000010")
    _, first = await login(client, "13800000010", last_code(outbox, "13800000010"))
    clock.advance(61)
    await send_code(client, "13800000010")
    status, second = await login(client, "13800000010", last_code(outbox, "13800000010"))
    assert status == 200
    assert second["new_user"] is False
    assert second["user"]["id"] == first["user"]["id"]


async def test_registered_and_unregistered_phones_get_identical_answers(
    client: TestClient, outbox: DevOutbox, clock: FakeClock
) -> None:
    registered, unknown = "13800000011", "13800000012"
    await send_code(client, registered)
    status, _ = await login(client, registered, last_code(outbox, registered))
    assert status == 200
    clock.advance(61)

    async def exchange(phone: str) -> list[tuple[int, object, str | None]]:
        seen = []
        for _ in range(2):  # the accepted send, then the too-soon refusal
            r = await send_code(client, phone)
            seen.append((r.status, await r.json(), r.headers.get("Retry-After")))
        wrong = "000000" if last_code(outbox, phone) != "000000" else "111111"
        r = await client.post("/api/auth/login", json={"phone": phone, "code": wrong})
        seen.append((r.status, await r.json(), None))
        return seen

    assert await exchange(registered) == await exchange(unknown)


async def test_code_is_single_use(client: TestClient, outbox: DevOutbox) -> None:
    await send_code(client, "13800000013")
    code = last_code(outbox, "13800000013")
    assert (await login(client, "13800000013", code))[0] == 200
    status, body = await login(client, "13800000013", code)
    assert status == 400
    assert body["error"]["code"] == "code_invalid"


async def test_code_expires_after_five_minutes(
    client: TestClient, outbox: DevOutbox, clock: FakeClock
) -> None:
    await send_code(client, "13800000014")
    code = last_code(outbox, "13800000014")
    clock.advance(299)
    await send_code(client, "13800000015")  # unrelated traffic, same clock
    clock.advance(1)
    status, body = await login(client, "13800000014", code)
    assert status == 400
    assert body["error"]["code"] == "code_expired"


async def test_code_still_valid_just_before_expiry(
    client: TestClient, outbox: DevOutbox, clock: FakeClock
) -> None:
    await send_code(client, "13800000016")
    clock.advance(299)
    assert (await login(client, "13800000016", last_code(outbox, "13800000016")))[0] == 200


async def test_new_code_retires_the_previous_one(
    client: TestClient, outbox: DevOutbox, clock: FakeClock
) -> None:
    await send_code(client, "13800000017")
    old = last_code(outbox, "13800000017")
    clock.advance(60)
    assert (await send_code(client, "13800000017")).status == 200
    new = last_code(outbox, "13800000017")
    if old != new:
        assert (await login(client, "13800000017", old))[0] == 400
    assert (await login(client, "13800000017", new))[0] == 200


async def test_resend_within_60_seconds_is_refused(client: TestClient, clock: FakeClock) -> None:
    assert (await send_code(client, "13800000018")).status == 200
    clock.advance(59)
    resp = await send_code(client, "13800000018")
    assert resp.status == 429
    body = await resp.json()
    assert body["error"]["code"] == "sms_resend_too_soon"
    assert body["error"]["details"]["retry_after_s"] == 1
    assert resp.headers["Retry-After"] == "1"
    clock.advance(1)
    assert (await send_code(client, "13800000018")).status == 200


async def test_at_most_ten_sends_per_phone_per_day(client: TestClient, clock: FakeClock) -> None:
    for _ in range(10):
        assert (await send_code(client, "13800000019")).status == 200
        clock.advance(60)
    resp = await send_code(client, "13800000019")
    assert resp.status == 429
    assert (await resp.json())["error"]["code"] == "sms_daily_limit"
    # The window is rolling: 24 h after the first send, one slot frees up.
    clock.advance(24 * 3600 - 10 * 60)
    assert (await send_code(client, "13800000019")).status == 200
    assert (await send_code(client, "13800000019")).status == 429


@pytest.fixture
async def proxied_client(
    db: Database, settings: Settings, clock: FakeClock, outbox: DevOutbox
) -> AsyncIterator[TestClient]:  # type: ignore[type-arg]
    app = create_app(settings.replace(trust_forwarded_for=True), clock=clock, sms=outbox)
    async with TestClient(TestServer(app)) as c:
        yield c


async def test_at_most_twenty_sends_per_ip_per_hour(
    proxied_client: TestClient, clock: FakeClock
) -> None:
    for i in range(20):
        resp = await send_code(proxied_client, f"1370000{i:04d}", ip="203.0.113.7")
        assert resp.status == 200
    resp = await send_code(proxied_client, "13700009999", ip="203.0.113.7")
    assert resp.status == 429
    assert (await resp.json())["error"]["code"] == "sms_ip_limit"
    # Another network is not affected; the same network is again after the hour.
    assert (await send_code(proxied_client, "13700009999", ip="198.51.100.1")).status == 200
    clock.advance(3601)
    assert (await send_code(proxied_client, "13700009998", ip="203.0.113.7")).status == 200


async def test_five_wrong_codes_lock_the_phone_for_15_minutes(
    client: TestClient, outbox: DevOutbox, clock: FakeClock
) -> None:
    phone = "13800000020"
    await send_code(client, phone)
    right = last_code(outbox, phone)
    wrong = "000000" if right != "000000" else "111111"
    for attempt in range(4):
        status, body = await login(client, phone, wrong)
        assert status == 400
        assert body["error"]["code"] == "code_invalid"
        assert body["error"]["details"]["attempts_left"] == 4 - attempt
    status, body = await login(client, phone, wrong)
    assert status == 429 and body["error"]["code"] == "phone_locked"
    # Locked: even the right code fails, and no new code is sent.
    status, body = await login(client, phone, right)
    assert status == 429 and body["error"]["code"] == "phone_locked"
    resp = await send_code(client, phone)
    assert resp.status == 429 and (await resp.json())["error"]["code"] == "phone_locked"
    clock.advance(15 * 60 - 1)
    assert (await login(client, phone, right))[0] == 429
    clock.advance(1)
    assert (await send_code(client, phone)).status == 200
    assert (await login(client, phone, last_code(outbox, phone)))[0] == 200


async def test_malformed_code_is_refused_without_costing_an_attempt(
    client: TestClient, outbox: DevOutbox
) -> None:
    phone = "13800000021"
    await send_code(client, phone)
    for bad in ("12345", "1234567", "abcdef", "１２３４５６"):
        status, body = await login(client, phone, bad)
        assert status == 400 and body["error"]["code"] == "code_malformed"
    assert (await login(client, phone, last_code(outbox, phone)))[0] == 200


@pytest.mark.parametrize(
    "phone", ["12800000001", "1380000000", "138000000012", "+1 4155550100", "", "abc", "1" * 40]
)
async def test_invalid_phones_are_refused(client: TestClient, phone: str) -> None:
    resp = await send_code(client, phone)
    assert resp.status == 400
    assert (await resp.json())["error"]["code"] in ("invalid_phone", "invalid_input")


@pytest.mark.both_databases
async def test_concurrent_sends_for_one_phone_deliver_one_code(
    client: TestClient, outbox: DevOutbox
) -> None:
    results = await asyncio.gather(*(send_code(client, "13800000022") for _ in range(8)))
    statuses = sorted(r.status for r in results)
    assert statuses == [200] + [429] * 7
    assert len(outbox.messages("13800000022")) == 1


@pytest.mark.both_databases
async def test_concurrent_wrong_guesses_cannot_exceed_the_attempt_limit(
    client: TestClient, outbox: DevOutbox
) -> None:
    phone = "13800000023"
    await send_code(client, phone)
    right = last_code(outbox, phone)
    guesses = [f"{i:06d}" for i in range(20) if f"{i:06d}" != right][:12]
    results = await asyncio.gather(*(login(client, phone, g) for g in guesses))
    assert all(status in (400, 429) for status, _ in results)
    # Exactly five guesses were judged before the lock; the rest met it.
    assert sum(1 for status, _ in results if status == 400) == 4
    assert (await login(client, phone, right))[0] == 429


async def test_failed_sms_provider_does_not_use_up_the_send(
    db: Database, settings: Settings, clock: FakeClock
) -> None:
    from accounts.errors import SmsUnavailable

    class Flaky(DevOutbox):
        fail = True

        async def send_code(self, phone: str, code: str) -> None:
            if self.fail:
                raise SmsUnavailable()
            await super().send_code(phone, code)

    sms = Flaky(10)
    async with TestClient(TestServer(create_app(settings, clock=clock, sms=sms))) as c:
        resp = await send_code(c, "13800000024")
        assert resp.status == 503
        assert (await resp.json())["error"]["code"] == "sms_unavailable"
        sms.fail = False
        assert (await send_code(c, "13800000024")).status == 200
