"""Typed ids for metering."""

from typing import NewType

SessionId = NewType("SessionId", str)
AccountId = NewType("AccountId", str)
TransferId = NewType("TransferId", str)
