"""One frozen Settings object, read from ``PEILIAO_*`` environment variables.

Nothing else in the code base reads ``os.environ``.  Every timeout and limit is a field here,
so tests and deployments change behaviour through configuration, not code.  ``Settings.from_env``
validates everything at start-up and raises :class:`SettingsError` with a message that says
which variable is wrong and what to do about it.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Literal, get_args

Env = Literal["dev", "prod"]
SmsProviderName = Literal["dev", "aliyun"]
PaymentProviderName = Literal["sandbox", "alipay", "wechat"]
PayoutProviderName = Literal["sandbox", "manual"]

#: The dev secret.  Refused in ``prod``; printed nowhere.
DEFAULT_SECRET_KEY = "dev-insecure-secret-change-me-0000000000"

_PREFIX = "PEILIAO_"


class SettingsError(ValueError):
    """A configuration value is missing, malformed or unsafe for the chosen environment."""


@dataclass(frozen=True, slots=True)
class Settings:
    """Process configuration.  Field ``foo_bar`` is read from ``PEILIAO_FOO_BAR``."""

    env: Env = "dev"
    host: str = "127.0.0.1"
    port: int = 8080
    #: ``peiliao serve`` worker processes (0: one per core; 1: this process serves alone)
    workers: int = 0
    #: the event loop ``serve`` runs on: asyncio's own, or uvloop's (bench/media compares them)
    event_loop: str = "asyncio"
    database_url: str = "sqlite+aiosqlite:///./var/peiliao.db"
    redis_url: str = ""
    secret_key: str = field(default=DEFAULT_SECRET_KEY, repr=False)
    log_level: str = "INFO"
    log_json: bool | None = None  # None: JSON outside dev
    #: the built web client; empty: web_client/dist beside the code (the checkout it runs from),
    #: whatever the working directory (peiliao.web.web_dist_path)
    web_dist_dir: str = ""

    # Store
    db_timeout_s: float = 10.0
    db_pool_size: int = 10
    sqlite_busy_timeout_ms: int = 10_000

    # HTTP
    max_body_bytes: int = 1_048_576
    #: JSON bodies and Socket.IO payloads nested deeper than this are refused unread
    max_json_depth: int = 32
    max_avatar_bytes: int = 2_097_152
    max_avatar_pixels: int = 16_000_000
    avatar_size_px: int = 256
    trust_forwarded_for: bool = False

    # Accounts: SMS codes (the product rules; see accounts/sms_policy.py)
    sms_provider: SmsProviderName = "dev"
    sms_code_ttl_s: int = 300
    sms_resend_interval_s: int = 60
    sms_max_per_phone_per_day: int = 10
    sms_max_per_ip_per_hour: int = 20
    sms_max_failed_attempts: int = 5
    sms_lockout_s: int = 900
    sms_outbox_size: int = 1000
    aliyun_sms_endpoint: str = "https://dysmsapi.aliyuncs.com/"
    aliyun_sms_access_key_id: str = ""
    aliyun_sms_access_key_secret: str = field(default="", repr=False)
    aliyun_sms_sign_name: str = ""
    aliyun_sms_template_code: str = ""
    sms_timeout_s: float = 5.0

    # Accounts: sessions
    session_ttl_s: int = 30 * 24 * 3600
    session_idle_s: int = 7 * 24 * 3600
    cookie_secure: bool | None = None  # None: Secure outside dev

    # Metering
    payment_provider: PaymentProviderName = "sandbox"
    public_base_url: str = ""  # how providers reach us; default http://{host}:{port}
    var_dir: str = "var"
    alipay_app_id: str = ""
    alipay_gateway: str = "https://openapi.alipay.com/gateway.do"
    alipay_private_key_file: str = ""
    alipay_public_key_file: str = ""
    wechat_mchid: str = ""
    wechat_appid: str = ""
    wechat_apiv3_key: str = field(default="", repr=False)
    wechat_platform_public_key_file: str = ""
    wechat_merchant_private_key_file: str = ""
    wechat_merchant_serial: str = ""
    resume_grace_s: int = 60
    earnings_hold_s: int = 72 * 3600
    heartbeat_timeout_s: int = 120
    heartbeat_interval_s: int = 30
    withdraw_review_above_fen: int = 100_000
    payout_provider: PayoutProviderName = "sandbox"

    # Signaling
    redis_prefix: str = "peiliao:"
    ring_timeout_s: int = 30
    away_timeout_s: int = 120
    drain_timeout_s: float = 60.0
    sweep_interval_s: float = 1.0
    socket_max_payload_bytes: int = 65_536
    socket_ping_interval_s: int = 20
    socket_ping_timeout_s: int = 20
    socket_events_per_s: float = 20.0
    socket_events_burst: int = 60
    #: a socket's login is re-checked in the database when its last check is older than this
    #: (a revocation normally ends it at once; this bounds a missed pub/sub message)
    socket_reauth_s: float = 5.0
    #: re-check every socket's login in the background (batched) each half of that, so events
    #: rarely wait for the database and an idle socket of an ended login is ended too
    socket_reauth_ahead: bool = True
    #: malformed Socket.IO frames are logged once per connection, and at most this many lines
    #: at once across the process, refilled at the rate below (the rest are counted)
    socket_refusal_logs_burst: int = 20
    socket_refusal_logs_per_s: float = 0.2
    chat_messages_per_s: float = 2.0
    chat_messages_burst: int = 10
    presence_ttl_s: int = 90
    #: each process heartbeats itself in Redis this often; one silent for ``process_lapse_s``
    #: is dead: its users are away as of its last heartbeat, its sessions settled at that time
    process_heartbeat_interval_s: float = 2.0
    process_lapse_s: float = 10.0
    #: a user whose only process died has this long (from its last heartbeat) to come back
    #: through another before their call ends; nothing is billed meanwhile
    process_lost_grace_s: float = 20.0
    chat_retention_days: int = 180
    #: per-category actions over the defaults, e.g. "phone=block,offline_meeting=allow"
    moderation_policy: str = ""
    #: compile the detector's patterns in a background thread at start, so the first chats
    #: after a start do not each stall the event loop compiling them (about 2.6 s of CPU)
    moderation_warm: bool = True
    chat_retention_interval_s: int = 3600
    #: the sanction ladder (``accounts.sanction_rules``): points per kind, the points at which
    #: a heavier kind is imposed, and how many days of history count
    sanction_points: str = "warn=1,mute=2,suspend=4,ban=10"
    sanction_escalate_at: str = "mute=3,suspend=6,ban=12"
    sanction_window_days: int = 365
    #: how long an admin may take back a case's decision (and the sanction it imposed)
    case_undo_s: int = 600

    # Media
    media_silence_s: float = 10.0
    media_lost_s: float = 60.0
    #: safety evidence (``media.evidence``): how much of each participant's recent media the
    #: relay holds in memory, how long after a call it is kept for a report, and how many days
    #: written evidence of a reported call is kept (longer while its case is open)
    evidence_window_s: float = 120.0
    evidence_after_call_s: float = 600.0
    evidence_retention_days: int = 30

    # Fair service (signaling/fairness.py): the automatic partial refund of silent minutes
    #: judge finished 1:1 calls and refund the customer when the rule says so
    fair_enabled: bool = True
    #: an audio packet is voiced when its RFC 6464 level is at most this many dB below
    #: overload (or its voice-activity bit is set); speech is ~20–45, silence 90–127
    fair_voiced_dbov: int = 50
    #: a voice/video minute is silent when the companion spoke less than this …
    fair_silent_voiced_s: float = 5.0
    #: … and the customer less than this (a companion listening to a talker is not silent)
    fair_listening_voiced_s: float = 30.0
    #: a text minute is unresponsive when a customer's message waited unanswered more than
    #: this long of it
    fair_text_wait_s: float = 40.0
    #: the share of each silent or unresponsive minute's price given back
    fair_refund_percent: int = 50
    #: refund only when at least this many minutes were silent or unresponsive …
    fair_min_minutes: int = 3
    #: … or at least this share of the billed minutes
    fair_min_share_percent: int = 50
    #: a minute covering less connected time than this is not judged (too short to tell)
    fair_min_judged_s: float = 20.0
    ice_host_addresses: str = ""
    ice_public_ip: str = ""
    ice_udp_ports: str = ""
    ice_stun_urls: str = ""
    ice_turn_urls: str = ""
    ice_turn_secret: str = field(default="", repr=False)
    ice_turn_ttl_s: int = 3600

    # Personal data
    data_keys: str = field(default="", repr=False)
    data_key_id: str = ""
    #: unset: required in prod, not in dev (the dev flows and tests pay without one)
    real_name_before_payment: bool | None = None
    real_name_attempts_per_day: int = 5

    # Reviews
    #: a customer may review a paid session until this many days after it ended
    review_window_days: int = 7

    # Vetting: companion applications
    vetting_submissions_per_day: int = 5
    #: after a rejection, how long before the applicant may submit again (0: at once)
    vetting_reapply_cooldown_s: int = 0

    # Appeals and customer service
    #: a customer may appeal a session until this many days after it ended
    appeal_window_days: int = 7
    #: appeals one customer may have waiting for a decision
    appeal_max_open: int = 3
    #: tickets one user may have not closed
    ticket_max_open: int = 5
    #: tickets one user may open per rolling 24 h (closed ones count too)
    ticket_max_per_day: int = 20
    #: messages one ticket holds, both sides together (a full ticket is closed and a new one opened)
    ticket_max_messages: int = 100

    # Bookings (times before a slot; the calendar is in Asia/Shanghai)
    #: a slot can be booked at least this long ahead
    booking_min_lead_s: int = 3600
    #: and at most this many days ahead
    booking_horizon_days: int = 14
    #: the hold is the booked rate times min(duration, this many minutes)
    booking_hold_minutes: int = 10
    #: an unconfirmed booking expires this long before its slot (the hold goes back)
    booking_confirm_before_s: int = 900
    #: the customer cancels a confirmed booking free until this long before the slot
    booking_free_cancel_before_s: int = 7200
    #: after that, this share of the hold (basis points) is paid to the companion
    booking_late_cancel_fee_bp: int = 5000
    #: both sides are reminded this long before a confirmed slot
    booking_reminder_before_s: int = 900
    #: the customer has no device connected at the slot: this share of the hold is paid
    booking_no_show_fee_bp: int = 10_000
    #: requested and confirmed bookings one customer may have
    booking_max_open: int = 5
    #: how often a process looks for bookings to expire, remind or start
    booking_sweep_interval_s: float = 5.0

    # Operations
    require_services: bool = False
    #: GET /metrics needs "Authorization: Bearer <this>" (required in prod; dev: open if empty)
    metrics_token: str = field(default="", repr=False)
    gc_full_interval_s: int = 600

    @property
    def requires_real_name(self) -> bool:
        if self.real_name_before_payment is None:
            return self.env == "prod"
        return self.real_name_before_payment

    @property
    def is_dev(self) -> bool:
        return self.env == "dev"

    @property
    def json_logs(self) -> bool:
        return (not self.is_dev) if self.log_json is None else self.log_json

    @property
    def secure_cookies(self) -> bool:
        return (not self.is_dev) if self.cookie_secure is None else self.cookie_secure

    @property
    def base_url(self) -> str:
        return self.public_base_url.rstrip("/") or f"http://{self.host}:{self.port}"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def replace(self, **changes: object) -> Settings:
        """A copy with ``changes`` applied and validated again."""
        new = dataclasses.replace(self, **changes)  # type: ignore[arg-type]
        new.validate()
        return new

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        """Build settings from ``PEILIAO_*`` variables; unknown ``PEILIAO_*`` names are an error."""
        known = {f.name for f in fields(cls)}
        values: dict[str, object] = {}
        for key, raw in environ.items():
            if not key.startswith(_PREFIX):
                continue
            name = key[len(_PREFIX) :].lower()
            if name not in known:
                # Test-only variables live under PEILIAO_TEST_; everything else is a typo.
                if name.startswith("test_"):
                    continue
                raise SettingsError(f"unknown setting {key}; see the README's configuration table")
            values[name] = _parse(cls, name, raw)
        settings = cls(**values)  # type: ignore[arg-type]
        settings.validate()
        return settings

    def validate(self) -> None:
        if self.env not in get_args(Env):
            raise SettingsError("PEILIAO_ENV must be dev or prod")
        if self.sms_provider not in get_args(SmsProviderName):
            raise SettingsError("PEILIAO_SMS_PROVIDER must be dev or aliyun")
        if self.payment_provider not in get_args(PaymentProviderName):
            raise SettingsError("PEILIAO_PAYMENT_PROVIDER must be sandbox, alipay or wechat")
        if self.payout_provider not in get_args(PayoutProviderName):
            raise SettingsError("PEILIAO_PAYOUT_PROVIDER must be sandbox or manual")
        if not (0 < self.port < 65536):
            raise SettingsError("PEILIAO_PORT must be 1..65535")
        if not self.database_url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise SettingsError(
                "PEILIAO_DATABASE_URL must start with sqlite+aiosqlite:// or postgresql+asyncpg://"
            )
        if self.redis_url and not self.redis_url.startswith(("redis://", "rediss://", "unix://")):
            raise SettingsError("PEILIAO_REDIS_URL must start with redis://, rediss:// or unix://")
        if self.event_loop not in ("asyncio", "uvloop"):
            raise SettingsError("PEILIAO_EVENT_LOOP must be asyncio or uvloop")
        if self.workers < 0:
            raise SettingsError("PEILIAO_WORKERS must be 0 (one per core) or more")
        if len(self.secret_key) < 32:
            raise SettingsError("PEILIAO_SECRET_KEY must be at least 32 characters")
        for name in (
            "db_timeout_s",
            "max_body_bytes",
            "max_json_depth",
            "max_avatar_bytes",
            "max_avatar_pixels",
            "avatar_size_px",
            "sms_code_ttl_s",
            "sms_resend_interval_s",
            "sms_max_per_phone_per_day",
            "sms_max_per_ip_per_hour",
            "sms_max_failed_attempts",
            "sms_lockout_s",
            "sms_outbox_size",
            "sms_timeout_s",
            "session_ttl_s",
            "session_idle_s",
            "db_pool_size",
            "resume_grace_s",
            "earnings_hold_s",
            "heartbeat_timeout_s",
            "heartbeat_interval_s",
            "ring_timeout_s",
            "away_timeout_s",
            "drain_timeout_s",
            "sweep_interval_s",
            "socket_max_payload_bytes",
            "socket_ping_interval_s",
            "socket_ping_timeout_s",
            "socket_events_per_s",
            "socket_events_burst",
            "socket_reauth_s",
            "socket_refusal_logs_burst",
            "socket_refusal_logs_per_s",
            "chat_messages_per_s",
            "chat_messages_burst",
            "presence_ttl_s",
            "process_heartbeat_interval_s",
            "process_lapse_s",
            "process_lost_grace_s",
            "chat_retention_days",
            "chat_retention_interval_s",
            "media_silence_s",
            "media_lost_s",
            "evidence_window_s",
            "evidence_after_call_s",
            "evidence_retention_days",
            "fair_silent_voiced_s",
            "fair_listening_voiced_s",
            "fair_text_wait_s",
            "fair_min_minutes",
            "fair_min_judged_s",
            "ice_turn_ttl_s",
            "gc_full_interval_s",
            "review_window_days",
            "appeal_window_days",
            "appeal_max_open",
            "ticket_max_open",
            "ticket_max_per_day",
            "ticket_max_messages",
            "real_name_attempts_per_day",
            "vetting_submissions_per_day",
        ):
            if getattr(self, name) <= 0:
                raise SettingsError(f"PEILIAO_{name.upper()} must be positive")
        if self.vetting_reapply_cooldown_s < 0:
            raise SettingsError("PEILIAO_VETTING_REAPPLY_COOLDOWN_S must be 0 or more")
        for name in (
            "booking_min_lead_s",
            "booking_horizon_days",
            "booking_hold_minutes",
            "booking_max_open",
            "booking_sweep_interval_s",
        ):
            if getattr(self, name) <= 0:
                raise SettingsError(f"PEILIAO_{name.upper()} must be positive")
        for name in (
            "booking_confirm_before_s",
            "booking_free_cancel_before_s",
            "booking_reminder_before_s",
        ):
            if getattr(self, name) < 0:
                raise SettingsError(f"PEILIAO_{name.upper()} must be 0 or more")
        if not (0 <= self.fair_voiced_dbov <= 127):
            raise SettingsError("PEILIAO_FAIR_VOICED_DBOV must be 0..127 (dB below overload)")
        for name in ("fair_refund_percent", "fair_min_share_percent"):
            if not (0 <= getattr(self, name) <= 100):
                raise SettingsError(f"PEILIAO_{name.upper()} must be 0..100 (percent)")
        for name in ("booking_late_cancel_fee_bp", "booking_no_show_fee_bp"):
            if not (0 <= getattr(self, name) <= 10_000):
                raise SettingsError(f"PEILIAO_{name.upper()} must be 0..10000 (basis points)")
        if self.process_lapse_s < 2 * self.process_heartbeat_interval_s:
            # One late heartbeat (a busy loop, a slow Redis) must not declare a process dead.
            raise SettingsError(
                "PEILIAO_PROCESS_LAPSE_S must be at least twice "
                "PEILIAO_PROCESS_HEARTBEAT_INTERVAL_S"
            )
        try:
            parse_port_range(self.ice_udp_ports)
        except ValueError as exc:
            raise SettingsError(f"PEILIAO_ICE_UDP_PORTS: {exc}") from None
        for address in filter(None, (a.strip() for a in self.ice_host_addresses.split(","))):
            try:
                ipaddress.ip_address(address)
            except ValueError:
                raise SettingsError(
                    f"PEILIAO_ICE_HOST_ADDRESSES: {address!r} is not an IP address"
                ) from None
        if self.ice_public_ip:
            try:
                ipaddress.ip_address(self.ice_public_ip)
            except ValueError:
                raise SettingsError("PEILIAO_ICE_PUBLIC_IP must be an IP address") from None
        if self.ice_turn_urls and not self.ice_turn_secret:
            raise SettingsError(
                "PEILIAO_ICE_TURN_URLS needs PEILIAO_ICE_TURN_SECRET (the TURN server's "
                "static-auth-secret) to issue credentials"
            )
        for url in filter(None, (u.strip() for u in self.ice_stun_urls.split(","))):
            if not url.startswith("stun:"):
                raise SettingsError(f"PEILIAO_ICE_STUN_URLS: {url!r} must start with stun:")
        for url in filter(None, (u.strip() for u in self.ice_turn_urls.split(","))):
            if not url.startswith(("turn:", "turns:")):
                raise SettingsError(f"PEILIAO_ICE_TURN_URLS: {url!r} must start with turn:/turns:")
        if self.data_keys:
            from kernel.crypto import Sealer

            try:
                Sealer.from_settings(self)
            except (ValueError, TypeError) as exc:
                raise SettingsError(f"PEILIAO_DATA_KEYS / PEILIAO_DATA_KEY_ID: {exc}") from None
        if self.metrics_token and len(self.metrics_token) < 32:
            raise SettingsError("PEILIAO_METRICS_TOKEN must be at least 32 characters")
        if self.env == "prod":
            problems = []
            if not self.metrics_token:
                problems.append(
                    "PEILIAO_METRICS_TOKEN is empty; set a random token for Prometheus to send "
                    "as a bearer token (the metrics are not public)"
                )
            if self.secret_key == DEFAULT_SECRET_KEY:
                problems.append("PEILIAO_SECRET_KEY is the dev default; set a random secret")
            if not self.data_keys:
                problems.append(
                    "PEILIAO_DATA_KEYS is empty; set id:base64(32 random bytes) to encrypt "
                    "real names and ID numbers"
                )
            if self.sms_provider == "dev":
                problems.append("PEILIAO_SMS_PROVIDER=dev keeps codes in memory; use aliyun")
            if self.payment_provider == "sandbox":
                problems.append(
                    "PEILIAO_PAYMENT_PROVIDER=sandbox takes no money; use alipay or wechat"
                )
            if self.payout_provider == "sandbox":
                problems.append("PEILIAO_PAYOUT_PROVIDER=sandbox pays nobody; use manual")
            if self.sms_provider == "aliyun" and not (
                self.aliyun_sms_access_key_id and self.aliyun_sms_access_key_secret
            ):
                problems.append("PEILIAO_ALIYUN_SMS_ACCESS_KEY_ID/_SECRET are required for aliyun")
            if self.payment_provider == "alipay" and not (
                self.alipay_app_id and self.alipay_private_key_file and self.alipay_public_key_file
            ):
                problems.append(
                    "PEILIAO_ALIPAY_APP_ID/_PRIVATE_KEY_FILE/_PUBLIC_KEY_FILE are "
                    "required for alipay"
                )
            if self.payment_provider == "wechat" and not (
                self.wechat_mchid
                and len(self.wechat_apiv3_key) == 32
                and self.wechat_platform_public_key_file
                and self.wechat_merchant_private_key_file
                and self.wechat_merchant_serial
            ):
                problems.append(
                    "PEILIAO_WECHAT_MCHID, a 32-byte PEILIAO_WECHAT_APIV3_KEY, "
                    "PEILIAO_WECHAT_PLATFORM_PUBLIC_KEY_FILE, "
                    "PEILIAO_WECHAT_MERCHANT_PRIVATE_KEY_FILE and PEILIAO_WECHAT_MERCHANT_SERIAL "
                    "are required for wechat"
                )
            if problems:
                raise SettingsError("refusing to start in prod: " + "; ".join(problems))


def _parse(cls: type[Settings], name: str, raw: str) -> object:
    default = next(f.default for f in fields(cls) if f.name == name)
    annotation = next(f.type for f in fields(cls) if f.name == name)
    env_name = _PREFIX + name.upper()
    text = raw.strip()
    try:
        if "bool" in str(annotation):
            if "None" in str(annotation) and text == "":
                return None
            lowered = text.lower()
            if lowered in ("1", "true", "yes", "on"):
                return True
            if lowered in ("0", "false", "no", "off"):
                return False
            raise ValueError(text)
        if isinstance(default, int) and not isinstance(default, bool):
            return int(text)
        if isinstance(default, float):
            return float(text)
    except ValueError:
        raise SettingsError(f"{env_name}={raw!r} is not a valid {annotation}") from None
    return text


def parse_port_range(text: str) -> tuple[int, int] | None:
    """``"40000-40999"`` → (40000, 40999); ``""`` → None (any port)."""
    if not text.strip():
        return None
    match = re.fullmatch(r"\s*(\d+)\s*-\s*(\d+)\s*", text)
    if match is None:
        raise ValueError(f"{text!r} is not a port range like 40000-40999")
    low, high = int(match[1]), int(match[2])
    if not (1024 <= low <= high <= 65535):
        raise ValueError(f"{text!r}: the range must lie within 1024-65535, low to high")
    return low, high
