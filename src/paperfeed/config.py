"""One Settings object, read from the environment (``PAPERFEED_*``) and overridden by CLI flags.

This is the only module that reads ``os.environ``.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, replace
from pathlib import Path

ENV_PREFIX = "PAPERFEED_"


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    host: str | None = None
    port: int = 587
    security: str = "starttls"  # "starttls", "ssl" or "none"
    username: str | None = None
    password: str | None = None
    sender: str = "paperfeed <papers@localhost>"


@dataclass(frozen=True, slots=True)
class Settings:
    data_dir: Path = Path("data")
    database_url: str | None = None  # default: sqlite:///<data_dir>/paperfeed.db
    base_url: str = "http://127.0.0.1:8000"  # public address, used in e-mails and feeds
    secret_key: str | None = None  # default: generated once into <data_dir>/secret.key
    embedder: str = "minilm"
    trending_gravity: float = 1.8
    trending_window_days: int = 7
    digest_hour: int | None = None  # hour (UTC) at which `serve` sends the daily digest itself
    digest_max_failures: int = 3  # permanent failures in a row before an address is dropped
    digest_retry_attempts: int = 3  # tries per message on temporary (4xx) SMTP failures
    digest_retry_delay: float = 5.0  # seconds before the first retry; doubles each time
    smtp: SmtpSettings = field(default_factory=SmtpSettings)
    arxiv_delay: float = 3.0  # seconds between arXiv requests, as arXiv asks
    hf_endpoint: str = "https://huggingface.co"
    shared_dir: Path | None = None  # a checkout's ../shared: real sample data for `bootstrap`

    @property
    def sqlite_path(self) -> Path:
        return self.data_dir / "paperfeed.db"

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.sqlite_path.resolve()}"

    @property
    def outbox_dir(self) -> Path:
        return self.data_dir / "outbox"

    def resolved_secret_key(self) -> str:
        """The configured key, else one generated on first use and kept in the data dir."""
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "secret.key"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(48))
        return path.read_text().strip()

    def with_overrides(self, **changes: object) -> Settings:
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


def _env(name: str) -> str | None:
    value = os.environ.get(ENV_PREFIX + name)
    return value if value not in (None, "") else None


def _int(name: str) -> int | None:
    value = _env(name)
    return int(value) if value is not None else None


def load_settings(**overrides: object) -> Settings:
    """Settings from ``PAPERFEED_*`` environment variables, then explicit overrides (CLI flags)."""
    defaults = Settings()
    smtp = SmtpSettings(
        host=_env("SMTP_HOST"),
        port=_int("SMTP_PORT") or 587,
        security=_env("SMTP_SECURITY") or "starttls",
        username=_env("SMTP_USER"),
        password=_env("SMTP_PASSWORD"),
        sender=_env("SMTP_SENDER") or defaults.smtp.sender,
    )
    settings = Settings(
        data_dir=Path(_env("DATA_DIR") or "data"),
        database_url=_env("DATABASE_URL"),
        base_url=(_env("BASE_URL") or defaults.base_url).rstrip("/"),
        secret_key=_env("SECRET_KEY"),
        embedder=_env("EMBEDDER") or defaults.embedder,
        trending_gravity=float(_env("TRENDING_GRAVITY") or defaults.trending_gravity),
        trending_window_days=_int("TRENDING_WINDOW_DAYS") or defaults.trending_window_days,
        digest_hour=_int("DIGEST_HOUR"),
        digest_max_failures=_int("DIGEST_MAX_FAILURES") or defaults.digest_max_failures,
        digest_retry_attempts=_int("DIGEST_RETRY_ATTEMPTS") or defaults.digest_retry_attempts,
        digest_retry_delay=float(_env("DIGEST_RETRY_DELAY") or defaults.digest_retry_delay),
        smtp=smtp,
        arxiv_delay=float(_env("ARXIV_DELAY") or defaults.arxiv_delay),
        hf_endpoint=_env("HF_ENDPOINT") or defaults.hf_endpoint,
        shared_dir=Path(shared) if (shared := _env("SHARED_DIR")) else None,
    )
    return settings.with_overrides(**overrides)
