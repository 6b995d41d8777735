"""Typed settings: a TOML file with ``LAPOR_`` environment overrides (``__`` between section and
key, e.g. ``LAPOR_TELEGRAM__TOKEN``). Built once by the CLI and passed down; never imported as a
global.
"""

from __future__ import annotations

import difflib
import json
import os
import re
from datetime import date, time
from pathlib import Path
from typing import Any, Literal, get_origin
from urllib.parse import parse_qsl, urlsplit, urlunsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
    TomlConfigSettingsSource,
)

DEFAULT_API_BASE = "https://api.telegram.org"
ENV_PREFIX = "LAPOR_"
# A bot token is "<bot id>:<35 characters>" (BotFather); checking the shape catches a pasted
# placeholder or a stray quote before the first request does.
TOKEN_RE = re.compile(r"^\d{5,20}:[A-Za-z0-9_-]{30,80}$")
# config.example.toml's token has a token's shape; copied unchanged it must not count as one.
EXAMPLE_TOKEN = "123456789:replace-with-the-token-from-BotFather"
# Telegram's rules for a bot's username (5-32 characters, ends in "bot") and for the secret
# of setWebhook (https://core.telegram.org/bots/api#setwebhook).
BOT_USERNAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{1,28}bot$", re.IGNORECASE)
WEBHOOK_SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
SECRET_HINT = "python3 -c 'import secrets; print(secrets.token_urlsafe(32))' makes one"


def _http_url(value: str, example: str) -> str:
    if not re.match(r"^https?://[^\s/]+", value):
        raise ValueError(f"must be an http(s) URL such as {example}")
    return value.rstrip("/")


class Section(BaseModel):
    # A misspelt key is refused, not ignored: `[roles] admins = [1]` used to start a bot without
    # a single coordinator.
    model_config = ConfigDict(extra="forbid")


class TelegramSettings(Section):
    # Required by the commands that talk to Telegram (load_settings(need_token=True)); the
    # others (migrate, export, agencies import) run without one.
    token: SecretStr | None = None
    # The bot's @username, for invite links printed by `lapor-bot officers invite`; when unset,
    # the one the running bot last saw in getMe (kept in the database).
    username: str | None = None
    # repr=False on every URL setting: a URL may carry a password (see Settings.redacted).
    api_base: str = Field(default=DEFAULT_API_BASE, repr=False)
    # Webhook mode is what several processes need (one getUpdates consumer per token).
    mode: Literal["polling", "webhook"] = "polling"
    webhook_url: str | None = Field(default=None, repr=False)
    # Telegram sends it back with every update; requests without it are refused. Required in
    # webhook mode: every process behind the token must check the same value, so it is
    # configured, never generated per process.
    webhook_secret: SecretStr | None = None
    webhook_host: str = "127.0.0.1"
    webhook_port: int = 8081
    # Seconds before a Bot API call is given up as a network error (long polls get their poll
    # timeout on top). A hung call holds its outbox row until then.
    request_timeout: float = Field(default=25.0, gt=0)
    # Updates handled at once in polling mode; more wait, unread, at Telegram (back-pressure
    # instead of thousands of tasks queueing on the database). An update holds one database
    # connection at most: database.pool_size follows this unless set.
    max_concurrent_updates: int = Field(default=20, ge=1, le=1000)

    @property
    def bot_id(self) -> int | None:
        """The bot's Telegram id: a token starts with it."""
        return int(self.token.get_secret_value().partition(":")[0]) if self.token else None

    @field_validator("token")
    @classmethod
    def _token_shape(cls, v: SecretStr | None) -> SecretStr | None:
        if v is None:
            return None
        token = v.get_secret_value().strip()
        if token == EXAMPLE_TOKEN:
            raise ValueError("is still the example's placeholder: put your bot's token from "
                             "@BotFather here")
        if not TOKEN_RE.match(token):
            raise ValueError("does not look like a bot token from @BotFather (123456:ABC...)")
        return SecretStr(token)

    @field_validator("username")
    @classmethod
    def _username(cls, v: str | None) -> str | None:
        if v is None:
            return None
        name = v.strip().removeprefix("@")
        if not BOT_USERNAME_RE.match(name):
            raise ValueError("must be the bot's username from @BotFather (5-32 letters, digits "
                             "or _, ending in bot)")
        return name

    @field_validator("webhook_secret")
    @classmethod
    def _secret_shape(cls, v: SecretStr | None) -> SecretStr | None:
        if v is not None and not WEBHOOK_SECRET_RE.match(v.get_secret_value()):
            raise ValueError(f"must be 1-256 letters, digits, _ or - (Telegram's rule); {SECRET_HINT}")
        return v

    @model_validator(mode="after")
    def _webhook_needs_url_and_secret(self) -> TelegramSettings:
        if self.mode != "webhook":
            return self
        if not self.webhook_url:
            raise ValueError("telegram.webhook_url is required when mode is webhook")
        if self.webhook_secret is None:
            # Without it anyone who finds the URL can post updates "from" an admin.
            raise ValueError("telegram.webhook_secret is required when mode is webhook, so that "
                             f"only Telegram's requests are accepted ({SECRET_HINT})")
        return self

    @field_validator("api_base")
    @classmethod
    def _api_base(cls, v: str) -> str:
        return _http_url(v, "https://api.telegram.org")


# Connections beside the updates': the journal storing a getUpdates answer, its keeper, the
# outbox's delivery worker, a scheduled job, the web server. Without them a fully loaded bot
# opened and closed overflow connections all the time (issue 15: 20 updates at once, 10 kept).
POOL_RESERVE = 5


class DatabaseSettings(Section):
    url: str = Field(default="sqlite+aiosqlite:///lapor.db", repr=False)
    # Connections kept open (None: telegram.max_concurrent_updates + POOL_RESERVE), extra ones
    # opened under load, and seconds an update waits for one before it fails (storage/db.py).
    pool_size: int | None = Field(default=None, ge=1, le=500)
    max_overflow: int = Field(default=5, ge=0, le=500)
    pool_timeout: float = Field(default=30.0, gt=0)
    # PostgreSQL: megabytes a second the admin's CSV export of a year may read from the disk
    # (it reads the whole reports table first at this pace; storage/readahead.py); 0: no cap.
    export_read_mb_s: float = Field(default=100.0, ge=0)

    @field_validator("url")
    @classmethod
    def _driver(cls, v: str) -> str:
        if not (v.startswith("sqlite+aiosqlite://") or v.startswith("postgresql+asyncpg://")):
            raise ValueError("must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
        return v

    @property
    def is_sqlite(self) -> bool:
        return self.url.startswith("sqlite")

    def pool_for(self, max_concurrent_updates: int) -> int:
        """Connections to keep: one per update handled at once, and the background work's."""
        return self.pool_size or max_concurrent_updates + POOL_RESERVE


class RedisSettings(Section):
    # Empty: FSM state lives in the database and one process is assumed.
    url: str | None = Field(default=None, repr=False)
    # Connections to Redis per process; past it a request waits for a free one (never fails).
    max_connections: int = Field(default=50, ge=2, le=10_000)


class RolesSettings(Section):
    admin_ids: list[int] = Field(default_factory=list)


class AppSettings(Section):
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


class IntakeSettings(Section):
    max_attachments: int = Field(default=5, ge=0, le=10)
    # Telegram's Bot API lets a bot download files up to 20 MB.
    max_attachment_mb: int = Field(default=20, ge=1, le=20)
    # A complaint an admin files for a walk-in (/lapor_untuk): how long its claim code works.
    # (The walk-in's name and phone go with the personal fields of closed reports: [privacy].)
    walk_in_claim_days: int = Field(default=30, ge=1, le=365)


class LimitsSettings(Section):
    """Limits against abuse: a citizen flooding the bot must not flood the admins or officers.
    Over a limit the citizen is told so; nothing is dropped silently."""

    # Reports one citizen may file in 24 hours (each one notifies every admin).
    reports_per_day: int = Field(default=5, ge=1)
    # Messages a reporter may add to one report in an hour (each one goes to every officer).
    relays_per_report_per_hour: int = Field(default=10, ge=1)


class WorkflowSettings(Section):
    auto_assign: bool = False


class DeliverySettings(Section):
    global_rate: float = Field(default=25.0, gt=0, le=1000)
    per_chat_interval: float = Field(default=1.0, ge=0)
    # Retries after network errors and 5xx: the first waits about this long, each next one
    # twice as long; after max_attempts the row is recorded as failed.
    backoff_base_seconds: float = Field(default=10.0, gt=0)
    max_attempts: int = Field(default=8, ge=1)
    # How long a claimed row is held before another try (or process) may send it again: the
    # time a crash mid-send delays a message.
    lease_seconds: float = Field(default=60.0, gt=0)


class NotificationSettings(Section):
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


class WebhookTargetSettings(Section):
    """One integrator (OpenSID, a district dashboard) told of report events by signed POSTs."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]{0,63}$")
    url: str = Field(repr=False)
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


class WebhookSettings(Section):
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


class WebSettings(Section):
    """The public status page, the transparency page and the Open311 API."""

    # Serve them from ``lapor-bot run`` too: beside the webhook in webhook mode, on host:port
    # otherwise. ``lapor-bot web`` serves them on host:port whatever this says.
    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = Field(default=8082, ge=1, le=65535)
    # The address citizens reach the pages at (behind the reverse proxy), for the links in
    # receipts and in the API; empty: no links are given.
    public_base_url: str | None = Field(default=None, repr=False)
    # Open311 discovery's contact line (an e-mail address or a web page).
    contact: str = ""

    @field_validator("public_base_url")
    @classmethod
    def _base(cls, v: str | None) -> str | None:
        return _http_url(v, "https://lapor.example.go.id") if v else None


class OpsSettings(Section):
    """Running it as a service: health checks, metrics and the log format."""

    # /healthz, /readyz and /metrics. In webhook mode they are served beside the webhook (its
    # host and port); in polling mode on this port, if set (0: not served).
    port: int = Field(default=0, ge=0, le=65535)
    host: str = "127.0.0.1"
    # "json": one JSON object per line (update id, hashed chat id, tracking id), for a log
    # collector; "text": lines for a person reading the journal.
    log_format: Literal["text", "json"] = "text"


class LaporSettings(Section):
    """SP4N-LAPOR! itself: where a report's page is, by its LAPOR! tracking number."""

    report_url: str = "https://www.lapor.go.id/pengaduan/{number}"

    @field_validator("report_url")
    @classmethod
    def _template(cls, v: str) -> str:
        if "{number}" not in v:
            raise ValueError("must contain {number}, where the tracking number goes")
        return _http_url(v, "https://www.lapor.go.id/pengaduan/{number}")


class PrivacySettings(Section):
    """What the personal-data notice and /privasi tell a citizen (UU 27/2022, UU PDP)."""

    # The personal-data controller (pengendali data pribadi): the body that runs this bot.
    controller: str = Field(default="Dinas Komunikasi dan Informatika (Diskominfo)", min_length=1,
                            max_length=200)
    # Where a citizen may also ask about their data outside the bot: an address, e-mail or phone.
    contact: str = Field(default="", max_length=200)
    # Retention (days), applied by a daily job at retention_time (local): the text of messages
    # the bot sent; reporters' messages relayed to officers, once the report is closed; the
    # personal fields of closed reports; forms left unfinished.
    sent_message_days: int = Field(default=90, ge=1)
    relayed_text_days: int = Field(default=365, ge=1)
    closed_report_days: int = Field(default=730, ge=1)
    form_state_days: int = Field(default=30, ge=1)
    retention_time: time = time(3)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_nested_delimiter="__", extra="forbid", toml_file=None
    )

    telegram: TelegramSettings = TelegramSettings()
    database: DatabaseSettings = DatabaseSettings()
    redis: RedisSettings = RedisSettings()
    roles: RolesSettings = RolesSettings()
    app: AppSettings = AppSettings()
    intake: IntakeSettings = IntakeSettings()
    limits: LimitsSettings = LimitsSettings()
    workflow: WorkflowSettings = WorkflowSettings()
    delivery: DeliverySettings = DeliverySettings()
    notifications: NotificationSettings = NotificationSettings()
    web: WebSettings = WebSettings()
    ops: OpsSettings = OpsSettings()
    lapor: LaporSettings = LaporSettings()
    privacy: PrivacySettings = PrivacySettings()
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

    def redacted(self) -> dict[str, dict[str, Any]]:
        """Every setting as it may be shown: secrets masked, passwords in URLs replaced."""
        return _redact(self.model_dump(mode="json"))

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


def load_settings(config_path: str | Path | None = None, *, need_token: bool = True) -> Settings:
    """Read and validate the settings, or raise ConfigError naming the first bad key.

    ``need_token=False`` is for commands that never talk to Telegram: a missing, placeholder or
    malformed token is then no reason to refuse, and ``telegram.token`` is None when it is bad.
    """
    path = Path(config_path) if config_path else None
    if path is not None and not path.is_file():
        raise ConfigError(f"config file not found: {path}")

    class _FileSettings(Settings):
        model_config = SettingsConfigDict(toml_file=path)

    try:
        try:
            settings = _FileSettings()
        except ValidationError as exc:
            errors = [e for e in exc.errors() if need_token or not _is_token(e)]
            if errors:
                raise ConfigError(_describe(errors[0], path)) from None
            settings = _FileSettings(telegram={"token": None})
    except SettingsError as exc:  # a LAPOR_* variable that is not valid JSON
        raise ConfigError(_describe_env_parse_error(exc)) from None
    except (ValueError, OSError) as exc:  # malformed TOML and friends
        raise ConfigError(f"cannot read {path}: {exc}") from None
    if need_token and settings.telegram.token is None:
        raise ConfigError(_describe({"loc": ("telegram", "token"), "type": "missing"}, path))
    return settings


def _is_token(err: dict) -> bool:
    return tuple(err.get("loc", ())) == ("telegram", "token")


def _env_name(loc: list[str]) -> str:
    return ENV_PREFIX + "__".join(p.upper() for p in loc)


def _env_is_set(name: str) -> bool:
    # pydantic-settings reads the environment case-insensitively.
    return any(key.upper() == name for key in os.environ)


def _describe(err: dict, path: Path | None) -> str:
    """One line: the key, what is wrong, and where the value came from."""
    loc = [str(p) for p in err.get("loc", ()) if not str(p).isdigit()]
    key = ".".join(loc)
    msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
    file = str(path) if path else "config.toml"
    if not loc:  # a rule across sections; its message names the keys
        return msg
    if len(loc) == 1:
        if err.get("type") == "extra_forbidden":
            return f"[{key}]: unknown section (in {file}){_suggest(key, Settings.model_fields)}"
        return msg if msg.startswith(f"{key}.") else f"{key}: {msg}"
    section, name = loc[0], loc[1]
    env = _env_name(loc[:2])
    if err.get("type") == "missing":
        return f"{key} is required: set [{section}] {name} in {file}, or {env}"
    where = f"from {env}" if _env_is_set(env) else f"in {file}"
    if err.get("type") == "extra_forbidden":
        model = Settings.model_fields.get(section)
        known = model.annotation.model_fields if model and model.annotation else {}
        return f"{key}: unknown key ({where}){_suggest(name, known)}"
    return f"{key} {msg} ({where})"


def _suggest(name: str, known) -> str:
    names = list(known)
    close = difflib.get_close_matches(name, names, n=1)
    hint = f"did you mean {close[0]}? " if close else ""
    return f"; {hint}known: {', '.join(names)}"


def _describe_env_parse_error(exc: SettingsError) -> str:
    # pydantic-settings says only 'error parsing value for field "roles" from source
    # "EnvSettingsSource"'; name the variable of a list setting that is not JSON.
    for key, value in os.environ.items():
        section, _, name = key.upper().removeprefix(ENV_PREFIX).lower().partition("__")
        if not key.upper().startswith(ENV_PREFIX) or not _is_list_setting(section, name):
            continue
        try:
            json.loads(value)
        except ValueError:
            return f"{key.upper()} is not a JSON list (write it like [111, 222] or [\"09:00\"])"
    return f"cannot read the LAPOR_* environment: {exc}"


def _is_list_setting(section: str, name: str) -> bool:
    field = Settings.model_fields.get(section)
    model = field.annotation if field else None
    inner = model.model_fields.get(name) if isinstance(model, type) and issubclass(model, BaseModel) else None
    return inner is not None and get_origin(inner.annotation) is list


# -- showing settings without their secrets ------------------------------------------------
_SECRET_QUERY_KEY = re.compile(r"pass|secret|token|key", re.IGNORECASE)
MASK = "***"


def redact_url(url: str) -> str:
    """``url`` with a password (user info or query parameter) replaced by ***."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return url
    netloc, query = parts.netloc, parts.query
    params = parse_qsl(query, keep_blank_values=True)
    if password is None and not any(_SECRET_QUERY_KEY.search(k) for k, _v in params):
        return url  # urlunsplit would also turn sqlite:///x into sqlite:/x
    if password is not None:
        userinfo, _, host = netloc.rpartition("@")
        netloc = f"{userinfo.partition(':')[0]}:{MASK}@{host}"
    if any(_SECRET_QUERY_KEY.search(k) for k, _v in params):
        query = "&".join(f"{k}={MASK if _SECRET_QUERY_KEY.search(k) else v}" for k, v in params)
    return urlunsplit(parts._replace(netloc=netloc, query=query))


def _redact(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact(v) for v in value]
    if isinstance(value, str) and "://" in value:
        return redact_url(value)
    return value
