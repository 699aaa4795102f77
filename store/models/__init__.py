"""Every table.  Importing this module registers all of them on ``Base.metadata``."""

from store.models.accounts import (
    AuthSession,
    Avatar,
    IpGuard,
    PhoneGuard,
    RealName,
    RealNameAttempt,
    SmsCode,
    SmsSend,
    User,
)
from store.models.base import Base, UtcDateTime
from store.models.calls import Call, Message
from store.models.catalog import Favourite
from store.models.ledger import (
    BudgetMonth,
    CompanionRate,
    CouponRedemption,
    CustomerSetting,
    Entry,
    Hold,
    LedgerAccount,
    MeteredSession,
    MinuteGrant,
    PackageOffer,
    PaymentOrder,
    PayoutAccount,
    Transfer,
    Withdrawal,
)
from store.models.moderation import Block, Report

__all__ = [
    "AuthSession",
    "Avatar",
    "Base",
    "Block",
    "BudgetMonth",
    "Call",
    "CompanionRate",
    "CouponRedemption",
    "CustomerSetting",
    "Entry",
    "Favourite",
    "Hold",
    "IpGuard",
    "LedgerAccount",
    "Message",
    "MeteredSession",
    "MinuteGrant",
    "PackageOffer",
    "PaymentOrder",
    "PayoutAccount",
    "PhoneGuard",
    "RealName",
    "RealNameAttempt",
    "Report",
    "SmsCode",
    "SmsSend",
    "Transfer",
    "User",
    "UtcDateTime",
    "Withdrawal",
]
