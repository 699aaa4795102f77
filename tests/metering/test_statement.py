"""Statements for people: a session is one line whose net is the sum of its ledger entries; holds
and releases are never lines; the lines of a statement add up to the change of the money it
covers; the month's spend is one figure; a companion's earnings say what is pending until when;
a withdrawal of held earnings is refused with the figures to explain it.  On both databases."""

from __future__ import annotations

import contextlib
import csv
import io
import random
from datetime import datetime, timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from accounts.keys import ACCOUNTS
from accounts.roles import Role
from accounts.sms import DevOutbox
from metering import accounts
from metering.errors import RefundTooLarge, WithdrawalRefused
from metering.ledger import balances
from metering.periods import periods
from metering.tariff import Mode, Rates
from store.models import Entry, Transfer
from tests.harness import bearer, login_cli
from tests.metering.conftest import Money
from tests.metering.test_payouts import CARD, payouts

pytestmark = [pytest.mark.timeout(120), pytest.mark.both_databases]


async def login(client: TestClient, outbox: DevOutbox, phone: str, role: Role) -> tuple[str, str]:
    await client.app[ACCOUNTS].ensure_user(phone, role)
    token = await login_cli(client, outbox, phone)
    me = await (await client.get("/api/me", headers=bearer(token))).json()
    return token, me["id"]


async def call(money: Money, sid: str, cust: str, comp: str, minutes: int) -> None:
    """A voice call whose media run ``minutes`` whole minutes, then hang-up."""
    await money.metering.open_session(sid, cust, comp, Mode.VOICE)
    await money.metering.media_up(sid)
    for _ in range(minutes - 1):
        money.clock.advance(60)
        await money.metering.tick(sid)
    money.clock.advance(30)
    await money.metering.end(sid, "hangup")


async def all_lines(client: TestClient, token: str, path: str, limit: int) -> list[dict[str, Any]]:
    """Every line of a statement, page by page through the cursor."""
    lines: list[dict[str, Any]] = []
    cursor = None
    for _ in range(200):
        query = f"?limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        resp = await client.get(path + query, headers=bearer(token))
        assert resp.status == 200, await resp.text()
        page = await resp.json()
        assert page["entries"] == []
        lines += page["lines"]
        cursor = page["next_cursor"]
        if cursor is None:
            return lines
    raise AssertionError("the cursor never ended")


def at(line: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(line["at"])


async def money_of(money: Money, user_id: str) -> int:
    """A customer's money the statement covers: wallet, promo credit, held, booking holds."""
    async with money.db.reading() as s:
        b = await balances(
            s, [accounts.wallet(user_id), accounts.promo(user_id), accounts.held(user_id)]
        )
    return sum(b.values())


async def ledger_net(money: Money, session_id: str, account_ids: list[str]) -> int:
    async with money.db.reading() as s:
        value = (
            await s.execute(
                select(func.coalesce(func.sum(Entry.amount_fen), 0))
                .join(Transfer, Transfer.id == Entry.transfer_id)
                .where(Transfer.session_id == session_id, Entry.account_id.in_(account_ids))
            )
        ).scalar_one()
    return int(value)


async def test_a_thirteen_minute_call_is_one_line_and_holds_are_not_lines(
    client: TestClient, money: Money, outbox: DevOutbox
) -> None:
    token, cust = await login(client, outbox, "13800007001", Role.CUSTOMER)
    _, comp = await login(client, outbox, "13900007001", Role.COMPANION)
    await money.metering.set_rates(comp, Rates(100, 300, 600))
    await money.fund(cust, 15000)
    money.clock.advance(5)
    await call(money, "call_statement13", cust, comp, 13)
    view = await money.metering.view("call_statement13")
    assert view.billed_minutes == 13 and view.charged_fen == 3900

    lines = await all_lines(client, token, "/api/wallet/statement", 50)
    assert [line["kind"] for line in lines] == ["session", "topup"]
    session, topup = lines
    assert session["session_id"] == "call_statement13"
    assert session["amount_fen"] == -3900 and session["unsettled_fen"] == 0
    assert (session["minutes"], session["rate_fen_per_min"], session["mode"]) == (13, 300, "voice")
    assert session["session_kind"] == "call" and session["status"] == "ended"
    assert session["counterpart"]["id"] == comp and not session["counterpart_hidden"]
    assert topup["amount_fen"] == 15000 and topup["counterpart"] is None
    # the line is exactly the session's ledger entries on the customer's money
    mine = [accounts.wallet(cust), accounts.promo(cust), accounts.held(cust)]
    assert await ledger_net(money, "call_statement13", mine) == -3900

    # the raw ledger is still there: every hold, release and top-up entry, paged by cursor
    raw = await (
        await client.get("/api/wallet/statement?detail=ledger&limit=5", headers=bearer(token))
    ).json()
    assert raw["lines"] == [] and len(raw["entries"]) == 5 and raw["next_cursor"]
    text = await (
        await client.get("/api/wallet/statement?format=csv", headers=bearer(token))
    ).text()
    kinds = {row["kind"] for row in csv.DictReader(io.StringIO(text))}
    assert {"hold", "capture", "topup"} <= kinds

    wallet = await (await client.get("/api/wallet", headers=bearer(token))).json()
    assert wallet["wallet_fen"] == 15000 - 3900
    assert wallet["month_spent_fen"] == 3900  # the statement's session line, nothing else
    assert wallet["real_name_required_for_topup"] is False  # dev default (prod: on)
    await money.check()


async def test_in_call_the_balance_and_the_held_minute_add_up_to_the_wallet(
    money: Money,
) -> None:
    cust, comp = await money.user(), await money.companion(voice=300)
    await money.fund(cust, 15000)
    await money.metering.open_session("call_held", cust, comp, Mode.VOICE)
    await money.metering.media_up("call_held")
    money.clock.advance(60)
    await money.metering.tick("call_held")
    live = (await money.metering.view("call_held")).for_customer()
    # ¥150: two minutes served (¥6 spent), the third held (¥3), ¥141 to spend
    assert live["charged_fen"] + live["held_fen"] + live["balance_fen"] == 15000
    assert live["held_fen"] == 300
    await money.metering.end("call_held", "hangup")
    live = (await money.metering.view("call_held")).for_customer()
    assert live["held_fen"] == 0 and live["balance_fen"] == 15000 - live["charged_fen"]
    await money.check()


async def test_blocked_counterparts_are_not_named(
    client: TestClient, money: Money, outbox: DevOutbox
) -> None:
    token, cust = await login(client, outbox, "13800007002", Role.CUSTOMER)
    comp_token, comp = await login(client, outbox, "13900007002", Role.COMPANION)
    await money.metering.set_rates(comp, Rates(100, 300, 600))
    await money.fund(cust, 5000)
    money.clock.advance(5)
    await call(money, "call_blocked", cust, comp, 2)
    resp = await client.post("/api/blocks", json={"user_id": cust}, headers=bearer(comp_token))
    assert resp.status in (200, 201, 204), await resp.text()
    (line, _topup) = await all_lines(client, token, "/api/wallet/statement", 10)
    assert line["counterpart"] is None and line["counterpart_hidden"] is True
    assert line["amount_fen"] == -600  # the money is still told


async def test_statement_queries_are_validated(
    client: TestClient, outbox: DevOutbox, money: Money
) -> None:
    token, _ = await login(client, outbox, "13800007003", Role.CUSTOMER)
    for query in ("limit=0", "limit=abc", "detail=everything", "format=xml", "colour=red"):
        resp = await client.get(f"/api/wallet/statement?{query}", headers=bearer(token))
        assert resp.status == 400, query
    resp = await client.get("/api/wallet/statement?cursor=forged.abc", headers=bearer(token))
    assert resp.status == 400 and (await resp.json())["error"]["code"] == "bad_cursor"
    # a cursor of the raw ledger is not one of the lines
    await money.fund((await (await client.get("/api/me", headers=bearer(token))).json())["id"], 100)
    await money.fund((await (await client.get("/api/me", headers=bearer(token))).json())["id"], 200)
    raw = await (
        await client.get("/api/wallet/statement?detail=ledger&limit=1", headers=bearer(token))
    ).json()
    resp = await client.get(
        f"/api/wallet/statement?cursor={raw['next_cursor']}", headers=bearer(token)
    )
    assert resp.status == 400 and (await resp.json())["error"]["code"] == "bad_cursor"
    assert (await client.get("/api/wallet/statement")).status == 401


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_statement_lines_add_up_to_the_change_of_money(
    client: TestClient, money: Money, outbox: DevOutbox, seed: int
) -> None:
    """A random run of top-ups, packages, coupons, calls (some paid by package minutes, some
    running when looked at) and refunds: the lines, read through the cursor in small pages, sum
    to the change of the customer's money; each session line is its own ledger entries; the
    month's spend is the spending lines' net."""
    rnd = random.Random(seed)
    token, cust = await login(client, outbox, f"1380000710{seed}", Role.CUSTOMER)
    _, comp = await login(client, outbox, f"1390000710{seed}", Role.COMPANION)
    await money.metering.set_rates(comp, Rates(100, 300, 600))
    start = await money_of(money, cust)
    ended: list[str] = []
    for step in range(14):
        op = rnd.choice(["topup", "topup", "call", "call", "package", "coupon", "refund"])
        if op == "topup":
            await money.fund(cust, rnd.randrange(500, 20000))
        elif op == "package":
            try:
                await money.wallets.buy_package(cust, "voice-60", f"g_{seed}_{step}")
            except Exception as exc:  # not enough money: nothing written
                assert type(exc).__name__ in ("InsufficientFunds", "BudgetExceeded")
        elif op == "coupon":
            try:
                await money.wallets.redeem_trial(cust, rnd.choice(["amount", "minutes"]))
            except Exception as exc:
                assert type(exc).__name__ == "CouponUsed"
        elif op == "call":
            sid = f"call_p{seed}_{step}"
            try:
                await call(money, sid, cust, comp, rnd.randrange(1, 6))
            except Exception as exc:  # no money for minute 1: refused, nothing written
                assert type(exc).__name__ in ("InsufficientFunds", "BudgetExceeded")
                continue
            ended.append(sid)
        elif op == "refund" and ended:
            sid = rnd.choice(ended)
            with contextlib.suppress(RefundTooLarge):
                await money.metering.refund_session(sid, rnd.randrange(1, 400), key=f"r{step}")
        money.clock.advance(rnd.randrange(1, 4000))
    # one call still running, its next minute held
    await money.fund(cust, 1000)
    await money.metering.open_session(f"call_open{seed}", cust, comp, Mode.TEXT)
    await money.metering.media_up(f"call_open{seed}")
    money.clock.advance(61)
    await money.metering.tick(f"call_open{seed}")

    lines = await all_lines(client, token, "/api/wallet/statement", rnd.choice([1, 2, 3]))
    assert len({line["key"] for line in lines}) == len(lines)  # no line twice across pages
    assert [line["at"] for line in lines] == sorted((line["at"] for line in lines), reverse=True)
    assert sum(line["amount_fen"] for line in lines) == await money_of(money, cust) - start
    assert not any(line["kind"] in ("hold", "release", "capture") for line in lines)
    mine = [accounts.wallet(cust), accounts.promo(cust), accounts.held(cust)]
    refunds = [line for line in lines if line["kind"] == "refund"]
    for line in lines:
        if line["kind"] == "session":
            # the session's line and its refund lines (each dated when it was made) are exactly
            # its ledger entries; a refund line names its session and says what it refunded
            back = [r for r in refunds if r["session_id"] == line["session_id"]]
            assert all(r["amount_fen"] > 0 and r["refund_source"] is None for r in back)
            assert sum(r["amount_fen"] for r in back) == line["refunded_fen"]
            assert line["amount_fen"] + line["refunded_fen"] == await ledger_net(
                money, line["session_id"], mine
            )
    assert {r["session_id"] for r in refunds} <= {line["session_id"] for line in lines}
    open_line = next(line for line in lines if line["session_id"] == f"call_open{seed}")
    assert open_line["status"] == "running" and open_line["unsettled_fen"] == 100
    assert open_line["amount_fen"] == -200  # minutes 1 and 2 spent; minute 3 held, not spent

    wallet = await (await client.get("/api/wallet", headers=bearer(token))).json()
    month_start = periods(money.clock.now()).month_start
    assert wallet["month_spent_fen"] == -sum(
        line["amount_fen"]
        for line in lines
        if line["kind"] in ("session", "package", "booking", "refund") and at(line) >= month_start
    )
    await money.metering.end(f"call_open{seed}", "hangup")
    await money.check()


async def test_earnings_say_what_is_pending_until_when_and_explain_a_refusal(
    client: TestClient, money: Money, outbox: DevOutbox
) -> None:
    _, cust = await login(client, outbox, "13800007201", Role.CUSTOMER)
    comp_token, comp = await login(client, outbox, "13900007201", Role.COMPANION)
    await money.metering.set_rates(comp, Rates(100, 500, 600))
    await money.fund(cust, 100_000)
    await call(money, "call_earn1", cust, comp, 10)  # 10 × 350 earned
    money.clock.advance(72 * 3600 + 60)
    await money.metering.settle_earnings()
    await call(money, "call_earn2", cust, comp, 4)  # 4 × 350, pending 72 h
    ended_at = money.clock.now()

    summary = await (
        await client.get("/api/me/earnings/summary", headers=bearer(comp_token))
    ).json()
    assert summary["available_fen"] == 3500 and summary["pending_fen"] == 1400
    assert summary["hold_hours"] == 72 and summary["payout_account"] is None
    (release,) = summary["releases"]
    assert release["amount_fen"] == 1400
    assert release["at"].startswith((ended_at + timedelta(hours=72)).strftime("%Y-%m-%dT%H:%M"))

    lines = await all_lines(client, comp_token, "/api/me/earnings", 1)
    assert [(line["session_id"], line["amount_fen"]) for line in lines] == [
        ("call_earn2", 1400),
        ("call_earn1", 3500),  # the settlement's ± pair nets out inside the line
    ]
    assert lines[0]["unsettled_fen"] == 1400 and lines[0]["release_at"] == release["at"]
    assert lines[1]["unsettled_fen"] == 0 and lines[1]["release_at"] is None
    assert lines[0]["counterpart"]["id"] == cust
    p = periods(money.clock.now())
    for name, start in (("today", p.day_start), ("week", p.week_start), ("month", p.month_start)):
        expected = sum(line["amount_fen"] for line in lines if at(line) >= start)
        assert summary[f"{name}_fen"] == expected, name
    assert summary["today_fen"] == 1400  # 2026-01-04 China time: only the second call

    # the payout account, masked
    resp = await client.put(
        "/api/me/payout-account",
        json={"method": "bank", "account": CARD},
        headers=bearer(comp_token),
    )
    assert resp.status == 200
    bound = await (await client.get("/api/me/payout-account", headers=bearer(comp_token))).json()
    assert bound["account"] == {"method": "bank", "account_masked": "****3445"}

    # ¥40 of ¥49: ¥35 withdrawable, the rest on hold: the refusal says so, with the figures
    resp = await client.post(
        "/api/me/withdrawals", json={"amount_fen": 4000}, headers=bearer(comp_token)
    )
    assert resp.status == 409
    error = (await resp.json())["error"]
    assert error["code"] == "earnings_on_hold"
    assert error["details"]["available_fen"] == 3500
    assert error["details"]["pending_fen"] == 1400
    assert error["details"]["next_release_at"] == release["at"].replace("Z", "+00:00")
    # more than everything: plainly insufficient
    resp = await client.post(
        "/api/me/withdrawals", json={"amount_fen": 9000}, headers=bearer(comp_token)
    )
    assert (await resp.json())["error"]["code"] == "insufficient_earnings"

    # an automatic payout shows with its status
    resp = await client.post(
        "/api/me/withdrawals", json={"amount_fen": 2000}, headers=bearer(comp_token)
    )
    assert resp.status == 201 and (await resp.json())["status"] == "paid"
    listed = await (await client.get("/api/me/withdrawals", headers=bearer(comp_token))).json()
    assert [(w["amount_fen"], w["status"]) for w in listed["withdrawals"]] == [(2000, "paid")]
    assert listed["withdrawals"][0]["created_at"]
    # withdrawals are not earnings lines
    assert len(await all_lines(client, comp_token, "/api/me/earnings", 10)) == 2
    await money.check()


async def test_a_refusal_of_held_earnings_names_the_next_release(money: Money) -> None:
    cust, comp = await money.user(), await money.companion(voice=500)
    await money.fund(cust, 100_000)
    await call(money, "call_hold1", cust, comp, 3)
    p = payouts(money)
    await p.bind_account(comp, "alipay", "someone@example.com")
    with pytest.raises(WithdrawalRefused) as refused:
        await p.request(comp, 500)
    assert refused.value.code == "earnings_on_hold"
    assert refused.value.details["available_fen"] == 0
    assert refused.value.details["pending_fen"] == 1050
    assert refused.value.details["next_release_fen"] == 1050
    assert refused.value.details["next_release_at"] is not None
    await money.check()
