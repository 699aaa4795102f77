"""Every table.  Importing this module registers all of them on ``Base.metadata``."""

# Each module below registers its tables; import the classes from the module itself.
from store.models import appeals as appeals
from store.models import audit as audit
from store.models import bookings as bookings
from store.models import evidence as evidence
from store.models import fairness as fairness
from store.models import reviews as reviews
from store.models import sanctions as sanctions
from store.models import support as support
from store.models import vetting as vetting
from store.models import voicerooms as voicerooms
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
    ActiveMeter,
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
from store.models.moderation import Block, Case, Report

__all__ = [
    "ActiveMeter",
    "AuthSession",
    "Avatar",
    "Base",
    "Block",
    "BudgetMonth",
    "Call",
    "Case",
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
