"""Every table.  Importing this module registers all of them on ``Base.metadata``."""

from store.models.accounts import (
    AuthSession,
    Avatar,
    IpGuard,
    PhoneGuard,
    SmsCode,
    SmsSend,
    User,
)
from store.models.base import Base, UtcDateTime

__all__ = [
    "AuthSession",
    "Avatar",
    "Base",
    "IpGuard",
    "PhoneGuard",
    "SmsCode",
    "SmsSend",
    "User",
    "UtcDateTime",
]
