"""What other packages use to reach accounts' state: its AppKeys and the login cookies' names."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from accounts.real_name import RealNameService
from accounts.revocation import Revocations
from accounts.sanctions import SanctionService
from accounts.service import AccountService
from accounts.sms import DevOutbox

ACCOUNTS = web.AppKey("accounts", AccountService)
DEV_OUTBOX = web.AppKey("dev_outbox", DevOutbox)
REAL_NAMES = web.AppKey("real_names", RealNameService)
#: warnings, mutes, suspensions and bans (``accounts.sanctions``)
SANCTIONS = web.AppKey("sanctions", SanctionService)
#: logout, deletion, a role change or a sanction, told to every process (``accounts.revocation``)
REVOCATIONS = web.AppKey("revocations", Revocations)
#: (viewer, user) → whether a block hides them from each other (moderation's ``setup`` sets it)
HiddenBetween = Callable[[str, str], Awaitable[bool]]
HIDDEN_BETWEEN: web.AppKey[HiddenBetween] = web.AppKey("hidden_between")

SESSION_COOKIE = "peiliao_session"
CSRF_COOKIE = "peiliao_csrf"
