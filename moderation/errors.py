"""Errors of the moderation domain."""

from __future__ import annotations

from kernel.errors import DomainError


class CannotBlockSelf(DomainError):
    code = "cannot_block_self"
    status = 400
    default_message = "you cannot block yourself"


class UserNotFound(DomainError):
    code = "user_not_found"
    status = 404
    default_message = "no such user"
