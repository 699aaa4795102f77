"""Ledger account ids and their rules (pure).

| id | what | may go below 0 |
| --- | --- | --- |
| ``wallet:{user}`` | a customer's money | no |
| ``promo:{user}`` | platform-funded credit (coupons), spendable on sessions only | no |
| ``held:{user}`` | money reserved for minutes not yet served | no |
| ``package:{grant}`` | the unearned value of a prepaid package | no |
| ``earn_pending:{user}`` | a companion's earnings inside the refund hold period | no |
| ``earn_available:{user}`` | earnings a companion may withdraw | no |
| ``payout_pending:{user}`` | withdrawals sent to the payout provider, not yet confirmed | no |
| ``booking_hold:{booking}`` | a booked slot's money until the slot (released, or a fee) | no |
| ``platform:revenue`` | commission and package revenue | yes |
| ``platform:promo_expense`` | what coupons cost the platform | yes |
| ``platform:subsidy_expense`` | what the platform pays companions for package minutes | yes |
| ``clearing:{provider}`` | money in transit with a payment provider (the outside world) | yes |
"""

from __future__ import annotations

from metering.ids import AccountId

PLATFORM_REVENUE = AccountId("platform:revenue")
PROMO_EXPENSE = AccountId("platform:promo_expense")
SUBSIDY_EXPENSE = AccountId("platform:subsidy_expense")

_MAY_GO_NEGATIVE = ("platform:", "clearing:")


def wallet(user_id: str) -> AccountId:
    return AccountId(f"wallet:{user_id}")


def promo(user_id: str) -> AccountId:
    return AccountId(f"promo:{user_id}")


def held(user_id: str) -> AccountId:
    return AccountId(f"held:{user_id}")


def package(grant_id: str) -> AccountId:
    return AccountId(f"package:{grant_id}")


def earn_pending(user_id: str) -> AccountId:
    return AccountId(f"earn_pending:{user_id}")


def earn_available(user_id: str) -> AccountId:
    return AccountId(f"earn_available:{user_id}")


def payout_pending(user_id: str) -> AccountId:
    return AccountId(f"payout_pending:{user_id}")


def clearing(provider: str) -> AccountId:
    return AccountId(f"clearing:{provider}")


def booking_hold(booking_id: str) -> AccountId:
    return AccountId(f"booking_hold:{booking_id}")


def kind_of(account: str) -> str:
    return account.split(":", 1)[0]


def owner_of(account: str) -> str | None:
    kind, _, rest = account.partition(":")
    return (
        rest
        if kind in ("wallet", "promo", "held", "earn_pending", "earn_available", "payout_pending")
        else None
    )


def no_negative(account: str) -> bool:
    return not account.startswith(_MAY_GO_NEGATIVE)
