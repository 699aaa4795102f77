"""A user as others see them (never the phone number), and as they see themselves: the one
public shape of a user that every package's routes return."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from store.models import User


class UserOut(BaseModel):
    """A user as others see them: never the phone number."""

    id: str
    nickname: str
    role: str
    tags: list[str]
    avatar_url: str | None


class MeOut(UserOut):
    """A user as they see themselves."""

    phone: str
    created_at: datetime


def user_out(user: User) -> UserOut:
    return UserOut(**_public(user))


def me_out(user: User) -> MeOut:
    return MeOut(**_public(user), phone=user.phone, created_at=user.created_at)


def _public(user: User) -> dict[str, object]:
    avatar = f"/api/users/{user.id}/avatar?v={user.avatar_version}" if user.avatar_version else None
    return {
        "id": user.id,
        "nickname": user.nickname,
        "role": user.role,
        "tags": list(user.tags),
        "avatar_url": avatar,
    }
