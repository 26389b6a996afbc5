"""Hub settings: msgspec Structs loaded from an optional ``hub.toml`` and ``HUB_*`` environment variables.

Precedence (lowest to highest): defaults, the TOML file (``HUB_CONFIG`` or ``./hub.toml``), environment.
Everything is validated strictly: an unknown key or a bad value raises :class:`SettingsError` naming the key
and what was expected, and the CLI turns that into a clear message and exit code 2 before anything starts.
"""

from __future__ import annotations

import os
import re
import secrets
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

import msgspec

SECTION_SLUG = r"^[a-z][a-z0-9-]{1,39}$"
PLUGIN_ID = r"^[a-z][a-z0-9_]{1,39}$"

# The sections a municipal utility's customer service operation starts with; the first migration creates them.
DEFAULT_SECTIONS: dict[str, str] = {
    "call-center": "Call Center",
    "customer-service-center": "Customer Service Center",
    "e-team": "E-Team",
    "solar": "Solar Team",
    "customer-relations": "Customer Relations Office",
    "security": "Security",
    "lead": "Leads",
}


class SettingsError(ValueError):
    """A configuration key is unknown or its value is not what the hub expects."""

    def __init__(self, key: str, expected: str) -> None:
        super().__init__(f"configuration error in {key}: {expected}")
        self.key = key
        self.expected = expected


class SectionConfig(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A section declared in config; ``plugins`` is the initial enablement, applied once per pair."""

    title: str
    plugins: list[Annotated[str, msgspec.Meta(pattern=PLUGIN_ID)]] = []


class Settings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Everything the hub reads at start-up. Field names are the lower-case ``HUB_*`` names."""

    database_url: str = "sqlite+aiosqlite:///var/hub.db"
    bus_url: str = "memory://"
    smtp_url: str | None = None
    ccb_url: str = "local"
    secret_key: str = ""
    # The audit chain's key material (core.audit): HUB_AUDIT_KEY, else derived from HUB_SECRET_KEY; kept
    # outside the database so write access to the database cannot re-chain the audit log.
    audit_key: str = ""
    # Signed audit checkpoints; empty = ``audit-checkpoints.jsonl`` beside a SQLite database, else var/.
    audit_checkpoint_file: str = ""
    audit_checkpoint_every: Annotated[int, msgspec.Meta(ge=1)] = 100
    audit_checkpoint_interval_s: Annotated[float, msgspec.Meta(ge=1)] = 300.0
    host: str = "127.0.0.1"
    port: Annotated[int, msgspec.Meta(ge=1, le=65535)] = 8000
    timezone: str = "America/Los_Angeles"
    disabled_plugins: list[str] = []
    no_plugins: bool = False
    plugin_timeout_s: Annotated[float, msgspec.Meta(gt=0, le=300)] = 10.0
    check_timeout_s: Annotated[float, msgspec.Meta(gt=0, le=300)] = 5.0
    outbox_backlog_limit: Annotated[int, msgspec.Meta(ge=1)] = 1000
    log_level: str = "INFO"
    # Reverse proxies (addresses or networks) whose X-Forwarded-Proto is believed (core.http_headers):
    # a request they forward as https gets HSTS and Secure cookies. Empty: no peer is believed.
    trusted_proxies: list[str] = []
    sections: dict[Annotated[str, msgspec.Meta(pattern=SECTION_SLUG)], SectionConfig] = {}
    # Raw per-plugin tables; each plugin's strict config Struct validates its own table at start-up,
    # so a bad plugin config marks that plugin config_invalid instead of stopping the hub.
    plugins: dict[str, dict[str, Any]] = {}


# Environment variables that are not settings fields but belong to the hub's tooling.
_RESERVED_ENV = {"HUB_CONFIG", "HUB_TEST_DATABASE_URL", "HUB_TEST_KEEP", "HUB_BENCH_QUICK", "HUB_TOKEN"}
_LIST_FIELDS = {"disabled_plugins", "trusted_proxies"}
_ENV_FIELDS = {f.upper() for f in Settings.__struct_fields__ if f not in {"sections", "plugins"}}


def _env_overrides(env: Mapping[str, str]) -> dict[str, Any]:
    raw: dict[str, Any] = {}
    for name, value in env.items():
        if not name.startswith("HUB_") or name in _RESERVED_ENV:
            continue
        field = name[4:]
        if field not in _ENV_FIELDS:
            known = ", ".join(sorted(f"HUB_{f}" for f in _ENV_FIELDS))
            raise SettingsError(name, f"unknown setting (known: {known})")
        key = field.lower()
        if key in _LIST_FIELDS:
            raw[key] = [part.strip() for part in value.split(",") if part.strip()]
        elif key == "no_plugins":
            if value.lower() not in {"1", "0", "true", "false", "yes", "no"}:
                raise SettingsError(name, "expected a boolean (1/0/true/false)")
            raw[key] = value.lower() in {"1", "true", "yes"}
        elif key in {"port"}:
            if not re.fullmatch(r"\d{1,5}", value):
                raise SettingsError(name, "expected a port number 1-65535")
            raw[key] = int(value)
        elif key in {"plugin_timeout_s", "check_timeout_s", "audit_checkpoint_interval_s"}:
            try:
                raw[key] = float(value)
            except ValueError:
                raise SettingsError(name, "expected a number of seconds") from None
        elif key in {"outbox_backlog_limit", "audit_checkpoint_every"}:
            if not value.isdigit():
                raise SettingsError(name, "expected a positive integer")
            raw[key] = int(value)
        else:
            raw[key] = value
    return raw


def _validate_urls(s: Settings) -> None:
    # Connector URLs are checked by the connector the scheme selects (core.connectors), which also says
    # when none is installed; only the shape of the URL is checked here.
    from core.connectors import find_connector, load_connector

    db = urlsplit(s.database_url)
    if db.scheme not in {"sqlite+aiosqlite", "postgresql+asyncpg"}:
        raise SettingsError(
            "HUB_DATABASE_URL", "expected sqlite+aiosqlite:///path or postgresql+asyncpg://user@host/db"
        )
    bus = urlsplit(s.bus_url)
    if bus.scheme != "memory":
        if not bus.scheme or not bus.hostname:
            raise SettingsError("HUB_BUS_URL", "expected memory:// or nats://host:port")
        find_connector("bus", s.bus_url, setting="HUB_BUS_URL")
    if s.smtp_url is not None:
        smtp = urlsplit(s.smtp_url)
        if not smtp.scheme or not smtp.hostname:
            raise SettingsError(
                "HUB_SMTP_URL", "expected smtp://[user:pass@]host:port[?starttls=1] or smtps://"
            )
        load_connector("mail", s.smtp_url, setting="HUB_SMTP_URL")  # parses it; SettingsError when bad
    if s.ccb_url != "local":
        ccb = urlsplit(s.ccb_url)
        if not ccb.scheme or not ccb.hostname:
            raise SettingsError("HUB_CCB_URL", "expected 'local' or http://host:port")
        find_connector("ccb", s.ccb_url, setting="HUB_CCB_URL")
    try:
        from zoneinfo import ZoneInfo

        ZoneInfo(s.timezone)
    except Exception:
        raise SettingsError(
            "HUB_TIMEZONE", "expected an IANA time zone such as America/Los_Angeles"
        ) from None
    if s.log_level.upper() not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
        raise SettingsError("HUB_LOG_LEVEL", "expected DEBUG, INFO, WARNING or ERROR")
    from core.http_headers import parse_networks

    try:
        parse_networks(s.trusted_proxies)
    except ValueError as exc:
        raise SettingsError(
            "HUB_TRUSTED_PROXIES", f"expected IP addresses or networks such as 10.0.0.0/8 ({exc})"
        ) from None


def _path_of(err: msgspec.ValidationError) -> tuple[str, str]:
    """Split msgspec's ``message - at `$.path` `` into (key, message) for SettingsError."""
    text = str(err)
    match = re.search(r" - at `key` in `\$\.?(.*)`$", text)
    if match:
        return f"{match.group(1)} (a key of it)", text[: match.start()]
    match = re.search(r" - at `\$\.?(.*)`$", text)
    if match:
        return match.group(1) or "(root)", text[: match.start()]
    return "(root)", text


def load_settings(env: Mapping[str, str] | None = None, config_path: str | Path | None = None) -> Settings:
    """Build the hub's settings; raises SettingsError naming the first bad key."""
    env = os.environ if env is None else env
    raw: dict[str, Any] = {}
    path = Path(config_path or env.get("HUB_CONFIG") or "hub.toml")
    if config_path is not None or env.get("HUB_CONFIG"):
        if not path.is_file():
            raise SettingsError("HUB_CONFIG", f"no such file: {path}")
    if path.is_file():
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise SettingsError(str(path), f"not valid TOML ({exc})") from None
    raw.update(_env_overrides(env))
    try:
        settings = msgspec.convert(raw, Settings)
    except msgspec.ValidationError as exc:
        key, message = _path_of(exc)
        raise SettingsError(key, message) from None
    _validate_urls(settings)
    if not settings.secret_key:
        # A random key per process still keeps sessions and CSRF safe; tokens are hashed without it. The
        # audit key must outlive the process, so core.audit does not derive it from a generated secret.
        generated = secrets.token_urlsafe(32)
        _GENERATED_SECRETS.add(generated)
        settings = msgspec.structs.replace(settings, secret_key=generated)
    return settings


# The per-process secrets load_settings made up: the audit key (core.audit) must not be derived from them.
_GENERATED_SECRETS: set[str] = set()


def secret_key_generated(settings: Settings) -> bool:
    """True when no HUB_SECRET_KEY was configured (the hub runs on a random per-process secret)."""
    return not settings.secret_key or settings.secret_key in _GENERATED_SECRETS
