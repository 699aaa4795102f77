"""``peiliao seed --demo``: the demo customer and companions (idempotent)."""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

from peiliao.cli_support import configure_logs, settings_from_env, with_accounts

DEMO_CUSTOMERS: list[dict[str, Any]] = [
    {"phone": "13800000001", "nickname": "小明", "tags": ["游戏", "音乐"]}
]
DEMO_COMPANIONS: list[dict[str, Any]] = [
    {
        "phone": "13900000001",
        "nickname": "晚晚",
        "tags": ["情感", "心理", "音乐"],
        "rates": (100, 300, 600),
        "level": "senior",
    },
    {
        "phone": "13900000002",
        "nickname": "阿杰",
        "tags": ["游戏", "动漫"],
        "rates": (60, 150, 300),
        "level": "newcomer",
    },
    {
        "phone": "13900000003",
        "nickname": "Lily",
        "tags": ["外语", "考研", "职场"],
        "rates": (150, 400, 900),
        "level": "gold",
    },
]
DEMO_BALANCE_FEN = 10_000


async def _seed_profile(
    db: Any, clock: Any, user_id: str, nickname: str, specialties: list[str]
) -> None:
    """A demo companion's profile, as an approved application would write it (idempotent:
    ``approved_at`` stays the first seeding's)."""
    from market.vetting.specialties import clean_intro, specialist_specialties
    from store.models.vetting import CompanionProfile

    intro = clean_intro(
        f"你好，我是{nickname}，擅长{'、'.join(specialties)}。认真倾听，真诚陪伴，期待和你聊天！"
    )
    now = clock.now()
    async with db.writing() as s:
        profile = await s.get(CompanionProfile, user_id)
        if profile is None:
            profile = CompanionProfile(user_id=user_id, approved_at=now, voice_sample_version=0)
            s.add(profile)
        profile.intro = intro
        profile.specialties = specialties
        profile.certified = specialist_specialties(specialties)
        profile.updated_at = now


def _seeded(user: Any, created: bool) -> dict[str, Any]:
    """What the seed command prints of each demo account."""
    return {
        "id": user.id,
        "phone": user.phone,
        "nickname": user.nickname,
        "role": user.role,
        "tags": user.tags,
        "created": created,
    }


def cmd_seed(args: argparse.Namespace) -> int:
    from accounts.roles import Role

    if not args.demo:
        raise SystemExit("peiliao: say what to seed: `peiliao seed --demo`")
    settings = settings_from_env()
    configure_logs(settings)

    async def seed(db: Any, accounts: Any) -> dict[str, Any]:
        from kernel.clock import SystemClock
        from market.vetting.specialties import specialties_for_tags
        from metering.ledger import Ledger
        from metering.service import MeteringService
        from metering.tariff import Level, Rates, is_specialist
        from metering.wallet import Wallets

        clock = SystemClock()
        metering = MeteringService(db, clock)
        wallets = Wallets(db, clock, Ledger())
        made: dict[str, list[dict[str, Any]]] = {"customers": [], "companions": []}
        for p in DEMO_CUSTOMERS:
            user, created = await accounts.ensure_user(
                p["phone"], Role.CUSTOMER, nickname=p["nickname"], tags=p["tags"]
            )
            # The demo balance is a top-up through the sandbox, keyed by the user: idempotent.
            order = f"seed-{user.id}"
            try:
                await wallets.order(order)
            except Exception:
                await wallets.create_order(order, user.id, "sandbox", DEMO_BALANCE_FEN)
            await wallets.credit_paid_order(
                order, provider="sandbox", amount_fen=DEMO_BALANCE_FEN, trade_no="seed"
            )
            balance = await wallets.balance(user.id)
            made["customers"].append(_seeded(user, created) | {"balance_fen": balance.wallet_fen})
        for p in DEMO_COMPANIONS:
            user, created = await accounts.ensure_user(
                p["phone"], Role.COMPANION, nickname=p["nickname"], tags=p["tags"]
            )
            rates = Rates(*p["rates"])
            specialties = specialties_for_tags(p["tags"])
            await metering.set_rates(
                user.id, rates, level=Level(p["level"]), specialist=is_specialist(specialties)
            )
            await _seed_profile(db, clock, user.id, p["nickname"], specialties)
            made["companions"].append(
                _seeded(user, created)
                | {
                    "level": p["level"],
                    "specialties": specialties,
                    "rates_fen_per_min": {
                        "text": rates.text_fen_per_min,
                        "voice": rates.voice_fen_per_min,
                        "video": rates.video_fen_per_min,
                    },
                }
            )
        return made

    print(json.dumps(asyncio.run(with_accounts(settings, seed)), ensure_ascii=False, indent=2))
    return 0
