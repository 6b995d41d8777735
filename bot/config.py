"""Typed settings: a TOML file with ``LAPOR_`` environment overrides (``__`` between section and
key, e.g. ``LAPOR_TELEGRAM__TOKEN``). Built once by the CLI and passed down; never imported as a
global.
"""

from __future__ import annotations

import os
import re
from datetime import date, time
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

DEFAULT_API_BASE = "https://api.telegram.org"
# A bot token is "<bot id>:<35 characters>" (BotFather); checking the shape catches a pasted
# placeholder or a stray quote before the first request does.
TOKEN_RE = re.compile(r"^\d{5,20}:[A-Za-z0-9_-]{30,80}$")


def _http_url(value: str, example: str) -> str:
    if not re.match(r"^https?://[^\s/]+", value):
        raise ValueError(f"must be an http(s) URL such as {example}")
    return value.rstrip("/")


class TelegramSettings(BaseModel):
    token: SecretStr
    api_base: str = DEFAULT_API_BASE
    # Webhook mode is what several processes need (one getUpdates consumer per token).
    mode: Literal["polling", "webhook"] = "polling"
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    webhook_host: str = "127.0.0.1"
    webhook_port: int = 8081
    # Seconds before a Bot API call is given up as a network error (long polls get their poll
    # timeout on top). A hung call holds its outbox row until then.
    request_timeout: float = Field(default=25.0, gt=0)

    @field_validator("token")
    @classmethod
    def _token_shape(cls, v: SecretStr) -> SecretStr:
        if not TOKEN_RE.match(v.get_secret_value().strip()):
            raise ValueError("does not look like a bot token from @BotFather (123456:ABC...)")
        return SecretStr(v.get_secret_value().strip())

    @model_validator(mode="after")
    def _webhook_needs_url(self) -> TelegramSettings:
        if self.mode == "webhook" and not self.webhook_url:
            raise ValueError("webhook_url is required when mode is webhook")
        return self

    @field_validator("api_base")
    @classmethod
    def _api_base(cls, v: str) -> str:
        return _http_url(v, "https://api.telegram.org")


class DatabaseSettings(BaseModel):
    url: str = "sqlite+aiosqlite:///lapor.db"

    @field_validator("url")
    @classmethod
    def _driver(cls, v: str) -> str:
        if not (v.startswith("sqlite+aiosqlite://") or v.startswith("postgresql+asyncpg://")):
            raise ValueError("must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
        return v

    @property
    def is_sqlite(self) -> bool:
        return self.url.startswith("sqlite")


class RedisSettings(BaseModel):
    # Empty: FSM state lives in the database and one process is assumed.
    url: str | None = None


class RolesSettings(BaseModel):
    admin_ids: list[int] = Field(default_factory=list)


class AppSettings(BaseModel):
    timezone: str = "Asia/Makassar"
    default_language: Literal["id", "en"] = "id"
    # Cuti bersama and local holidays that the `holidays` package does not know.
    extra_holidays: list[date] = Field(default_factory=list)

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {v!r}") from exc
        return v


class IntakeSettings(BaseModel):
    max_attachments: int = Field(default=5, ge=0, le=10)
    # Telegram's Bot API lets a bot download files up to 20 MB.
    max_attachment_mb: int = Field(default=20, ge=1, le=20)


class WorkflowSettings(BaseModel):
    auto_assign: bool = False


class DeliverySettings(BaseModel):
    global_rate: float = Field(default=25.0, gt=0, le=1000)
    per_chat_interval: float = Field(default=1.0, ge=0)
    # Retries after network errors and 5xx: the first waits about this long, each next one
    # twice as long; after max_attempts the row is recorded as failed.
    backoff_base_seconds: float = Field(default=10.0, gt=0)
    max_attempts: int = Field(default=8, ge=1)
    # How long a claimed row is held before another try (or process) may send it again: the
    # time a crash mid-send delays a message.
    lease_seconds: float = Field(default=60.0, gt=0)


class NotificationSettings(BaseModel):
    citizen_mode: Literal["immediate", "digest"] = "immediate"
    digest_times: list[time] = Field(default_factory=lambda: [time(9), time(16)])
    quiet_start: time = time(21)
    quiet_end: time = time(7)
    officer_reminder_time: time = time(8)
    escalation_time: time = time(8, 30)
    weekly_summary_weekday: int = Field(default=0, ge=0, le=6)
    checkin_after_days: int = Field(default=0, ge=0)
    quiet_hours_for_broadcasts: bool = False
    # Local times of the other daily jobs; quiet hours still hold back what reaches citizens.
    auto_close_time: time = time(7)
    checkin_time: time = time(10)
    weekly_summary_time: time = time(8)
    # A job run left unfinished this long (its process died) may be finished by another one.
    job_lease_minutes: int = Field(default=30, ge=1)


WEBHOOK_EVENTS = ("report.created", "report.assigned", "report.answered", "report.closed")


class WebhookTargetSettings(BaseModel):
    """One integrator (OpenSID, a district dashboard) told of report events by signed POSTs."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]{0,63}$")
    url: str
    # Shared with the receiver, which checks the X-Lapor-Signature header with it.
    secret: SecretStr
    events: list[Literal["report.created", "report.assigned", "report.answered", "report.closed"]] = Field(
        default_factory=lambda: list(WEBHOOK_EVENTS)
    )

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        # Kept as given: the receiver may expect its trailing slash.
        _http_url(v, "https://desa.example/lapor-webhook")
        return v

    @field_validator("secret")
    @classmethod
    def _secret(cls, v: SecretStr) -> SecretStr:
        if len(v.get_secret_value()) < 16:
            raise ValueError("must be at least 16 characters (a long random string)")
        return v


class WebhookSettings(BaseModel):
    targets: list[WebhookTargetSettings] = Field(default_factory=list)
    # Seconds a receiver has to answer; then the delivery is retried.
    timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    # Retries with exponential backoff (about base, 2x base, ... capped), then recorded as failed.
    max_attempts: int = Field(default=10, ge=1)
    backoff_base_seconds: float = Field(default=30.0, gt=0)
    backoff_cap_seconds: float = Field(default=3600.0, gt=0)

    @field_validator("targets")
    @classmethod
    def _unique(cls, v: list[WebhookTargetSettings]) -> list[WebhookTargetSettings]:
        names = [t.name for t in v]
        if len(names) != len(set(names)):
            raise ValueError("target names must be unique")
        return v


class WebSettings(BaseModel):
    """The public status page, the transparency page and the Open311 API."""

    # Serve them from ``lapor-bot run`` too: beside the webhook in webhook mode, on host:port
    # otherwise. ``lapor-bot web`` serves them on host:port whatever this says.
    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = Field(default=8082, ge=1, le=65535)
    # The address citizens reach the pages at (behind the reverse proxy), for the links in
    # receipts and in the API; empty: no links are given.
    public_base_url: str | None = None
    # Open311 discovery's contact line (an e-mail address or a web page).
    contact: str = ""

    @field_validator("public_base_url")
    @classmethod
    def _base(cls, v: str | None) -> str | None:
        return _http_url(v, "https://lapor.example.go.id") if v else None


class LaporSettings(BaseModel):
    """SP4N-LAPOR! itself: where a report's page is, by its LAPOR! tracking number."""

    report_url: str = "https://www.lapor.go.id/pengaduan/{number}"

    @field_validator("report_url")
    @classmethod
    def _template(cls, v: str) -> str:
        if "{number}" not in v:
            raise ValueError("must contain {number}, where the tracking number goes")
        return _http_url(v, "https://www.lapor.go.id/pengaduan/{number}")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="LAPOR_", env_nested_delimiter="__", extra="forbid", toml_file=None
    )

    telegram: TelegramSettings
    database: DatabaseSettings = DatabaseSettings()
    redis: RedisSettings = RedisSettings()
    roles: RolesSettings = RolesSettings()
    app: AppSettings = AppSettings()
    intake: IntakeSettings = IntakeSettings()
    workflow: WorkflowSettings = WorkflowSettings()
    delivery: DeliverySettings = DeliverySettings()
    notifications: NotificationSettings = NotificationSettings()
    web: WebSettings = WebSettings()
    lapor: LaporSettings = LaporSettings()
    webhooks: WebhookSettings = WebhookSettings()

    @model_validator(mode="after")
    def _lease_outlasts_a_request(self) -> Settings:
        # A row whose send is still in flight when its lease runs out is claimed and sent again:
        # a duplicate. The lease must outlast the slowest request.
        if self.delivery.lease_seconds <= self.telegram.request_timeout:
            raise ValueError(
                "delivery.lease_seconds must be longer than telegram.request_timeout"
            )
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The environment wins over the file, the file over the defaults.
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        toml_file = settings_cls.model_config.get("toml_file")
        if toml_file:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml_file))
        return tuple(sources)


class ConfigError(Exception):
    """A setting is missing or wrong; ``str()`` is one line that names the key."""


def resolve_config_path(cli_path: str | None) -> Path | None:
    if cli_path:
        return Path(cli_path)
    if env := os.environ.get("LAPOR_CONFIG"):
        return Path(env)
    default = Path("config.toml")
    return default if default.exists() else None


def load_settings(config_path: str | Path | None = None) -> Settings:
    """Read and validate the settings, or raise ConfigError naming the first bad key."""
    path = Path(config_path) if config_path else None
    if path is not None and not path.is_file():
        raise ConfigError(f"config file not found: {path}")

    class _FileSettings(Settings):
        model_config = SettingsConfigDict(toml_file=path)

    try:
        return _FileSettings()
    except ValidationError as exc:
        raise ConfigError(_describe(exc.errors()[0])) from None
    except (ValueError, OSError) as exc:  # malformed TOML and friends
        raise ConfigError(f"cannot read {path}: {exc}") from None


def _describe(err: dict) -> str:
    loc = [str(p) for p in err.get("loc", ()) if not str(p).isdigit()]
    if loc == ["telegram"]:  # the whole section is missing: name the key that matters
        loc = ["telegram", "token"]
    key = ".".join(loc) or "settings"
    msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
    if err.get("type") == "missing":
        msg = "is required"
    if len(loc) < 2:
        return f"{key}: {msg}"
    env = "LAPOR_" + "__".join(p.upper() for p in loc[:2])
    return f"{key} {msg} (set [{loc[0]}] {'.'.join(loc[1:])} in the config file, or {env})"
