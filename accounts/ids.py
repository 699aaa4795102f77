"""Typed ids for the accounts domain."""

from typing import NewType

UserId = NewType("UserId", str)
AuthSessionId = NewType("AuthSessionId", str)
