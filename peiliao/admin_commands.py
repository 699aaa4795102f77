"""``peiliao admin``: make a phone's account an admin; sanction a phone's account."""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

from peiliao.cli_support import configure_logs, settings_from_env, with_accounts


def cmd_admin_create(args: argparse.Namespace) -> int:
    from accounts.errors import InvalidPhone
    from accounts.roles import Role

    settings = settings_from_env()
    configure_logs(settings)

    async def work(db: Any, accounts: Any) -> dict[str, Any]:
        user, created = await accounts.ensure_user(args.phone, Role.ADMIN)
        return {"id": user.id, "phone": user.phone, "role": user.role, "created": created}

    try:
        print(json.dumps(asyncio.run(with_accounts(settings, work)), ensure_ascii=False))
    except InvalidPhone:
        raise SystemExit(f"peiliao: {args.phone!r} is not a mainland mobile number") from None
    return 0


def cmd_admin_sanction(args: argparse.Namespace) -> int:
    """Sanction the account of a phone, as a moderator would through the API; JSON out."""
    from accounts.errors import InvalidPhone, UserNotFound
    from accounts.sanction_rules import Kind
    from accounts.sanctions import SanctionService
    from audit.log import AuditLog
    from kernel.clock import SystemClock
    from kernel.errors import DomainError

    settings = settings_from_env()
    configure_logs(settings)

    async def work(db: Any, accounts: Any) -> dict[str, Any]:
        user = await accounts.user_by_phone(accounts.parse_phone(args.phone))
        if user is None:
            raise UserNotFound()
        clock = SystemClock()
        v = await SanctionService(db, clock, settings, accounts).impose(
            user.id,
            Kind(args.kind),
            args.reason,
            "cli",
            hours=args.hours,
            freeze_earnings=args.freeze_earnings,
        )
        await AuditLog(db, clock).record(
            key=f"sanction.impose:{v.id}",
            admin_id="cli",
            action="sanction.impose",
            subject_type="user",
            subject_id=v.user_id,
            detail={"sanction_id": v.id, "kind": v.kind, "requested": args.kind},
        )
        return {
            "id": v.id,
            "user_id": v.user_id,
            "kind": v.kind,
            "requested_kind": v.requested_kind,
            "escalated": v.kind != v.requested_kind,
            "points": v.points,
            "reason": v.reason,
            "starts_at": v.starts_at.isoformat(),
            "ends_at": v.ends_at.isoformat() if v.ends_at else None,
            "freeze_earnings": v.freeze_earnings,
        }

    try:
        print(json.dumps(asyncio.run(with_accounts(settings, work)), ensure_ascii=False))
    except InvalidPhone:
        raise SystemExit(f"peiliao: {args.phone!r} is not a mainland mobile number") from None
    except DomainError as e:
        print(json.dumps({"error": e.to_dict()}, ensure_ascii=False))
        return 1
    return 0
