"""Roles.  A user has exactly one; admins are made by the CLI, companions by vetting."""

from enum import StrEnum


class Role(StrEnum):
    CUSTOMER = "customer"
    COMPANION = "companion"
    ADMIN = "admin"
