"""One Settings object, read from the environment (``PAPERFEED_*``) and overridden by CLI flags.

This is the only module that reads ``os.environ``. Each field of `Settings` is read from
``PAPERFEED_<FIELD>`` and each field of `SmtpSettings` from ``PAPERFEED_SMTP_<FIELD>``, converted
by the field's declared type; ``metadata={"env": ...}`` names a variable that differs from that.
"""

from __future__ import annotations

import math
import os
import secrets
import types
from dataclasses import Field, dataclass, field, fields, replace
from pathlib import Path
from typing import Any, get_args, get_origin, get_type_hints

import platformdirs

from paperfeed import private_files
from paperfeed.errors import Invalid

ENV_PREFIX = "PAPERFEED_"
DEVICES = ("auto", "cpu", "cuda")  # where the embedding model runs
PRECISIONS = ("auto", "float32", "bfloat16", "float16")  # what it computes in


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    host: str | None = None  # SMTP server; unset: e-mails go to .eml files in <data_dir>/outbox
    port: int = 587  # SMTP server port
    security: str = "starttls"  # "starttls", "ssl" or "none"
    username: str | None = field(default=None, metadata={"env": "SMTP_USER"})  # SMTP login
    password: str | None = None  # SMTP password
    sender: str = "paperfeed <papers@localhost>"  # From: address of digest e-mails


@dataclass(frozen=True, slots=True)
class Settings:
    data_dir: Path = Path("data")  # database, search index, secret key and outbox live here
    database_url: str | None = None  # default: sqlite:///<data_dir>/paperfeed.db
    base_url: str = "http://127.0.0.1:8000"  # public address, used in e-mails and feeds
    trusted_proxies: str | None = None  # IPs/CIDRs (comma-separated) whose X-Forwarded-For counts
    max_body_bytes: int = 1_048_576  # largest request body accepted (413 beyond)
    page_cache_seconds: float = 60.0  # longest a cached page/API/feed answer is reused (0: off)
    page_cache_check_seconds: float = 1.0  # how often a worker looks for other processes' changes
    api_requests_per_minute: int = 600  # JSON API + MCP requests per client address (0: no limit)
    secret_key: str | None = None  # default: generated once into <data_dir>/secret.key
    session_idle_hours: float = 72.0  # a log-in session unused this long ends (30 days at most)
    embedder: str = "minilm"  # semantic search embedder: "minilm" (256 tokens) or "minilm-128"
    device: str = "auto"  # where the embedder runs: "auto" (CUDA if torch sees it), "cpu", "cuda"
    embed_precision: str = "auto"  # "auto" (GPU float16, CPU bfloat16 if native), "float32"...
    trending_gravity: float = 1.8  # trending exponent: how fast older papers sink
    trending_window_days: int = 7  # trending ranks papers of the last this many days
    digest_hour: int | None = None  # hour (UTC) at which `serve` sends the daily digest itself
    digest_max_failures: int = 3  # permanent failures in a row before an address is dropped
    digest_retry_attempts: int = 3  # tries per message on temporary (4xx) SMTP failures
    digest_retry_delay: float = 5.0  # seconds before the first retry; doubles each time
    confirmation_mails_per_day: int = 3  # confirmation / new-link e-mails per address in 24 h
    # PostgreSQL: background work (syncs, embedding, digests) runs as jobs of `paperfeed worker`
    # processes; unset means on with PostgreSQL, 0 keeps it in `serve` (the SQLite way).
    job_queue: bool | None = None
    digest_batch_size: int = 200  # subscribers per digest job (the job queue's unit of work)
    # Nested: its fields come from PAPERFEED_SMTP_*, not from one variable.
    smtp: SmtpSettings = field(default_factory=SmtpSettings, metadata={"env": None})
    arxiv_delay: float = 3.0  # seconds between arXiv requests, as arXiv asks
    arxiv_api_url: str = "http://export.arxiv.org/api/query"  # arXiv API (lookups, query sources)
    arxiv_lookup_deadline: float = 5.0  # seconds a submission's arXiv lookup may take in all
    submit_retry_delay: float = 30.0  # seconds before a submission waiting for arXiv is retried
    hf_endpoint: str = "https://huggingface.co"  # Hugging Face Hub address (daily papers API)
    # Followed sources (paperfeed.sync): where they are fetched from, and when `serve` syncs.
    arxiv_rss_url: str = "https://rss.arxiv.org/rss/"  # arXiv's daily listings, + category
    arxiv_oai_url: str = "https://oaipmh.arxiv.org/oai"  # arXiv OAI-PMH: the days a sync missed
    sync_first_days: int = 7  # days a followed source's first sync goes back
    sync_schedule: bool | None = None  # whether `serve` syncs by itself; default: when any source
    arxiv_sync_hour: int = 1  # hour (in arxiv_sync_timezone) of the daily arXiv sync
    arxiv_sync_timezone: str = "America/New_York"  # arXiv announces at 20:00 there
    hf_sync_minutes: int = 60  # minutes between two Hugging Face daily papers syncs
    hf_sync_hours: str = "6-22"  # UTC hours (first-last) during which Hugging Face is synced
    shared_dir: Path | None = None  # a checkout's ../shared: real sample data for `bootstrap`
    # PostgreSQL: where this node keeps its BM25 keyword index (a folder per database inside);
    # default: <user cache dir>/paperfeed/keywords. Processes on one node share it.
    keyword_index_dir: Path | None = None

    def __post_init__(self) -> None:
        for name, allowed in (("device", DEVICES), ("embed_precision", PRECISIONS)):
            value = getattr(self, name)
            if value not in allowed:
                variable = ENV_PREFIX + name.upper()
                raise Invalid(f"{variable} must be one of {', '.join(allowed)}, got {value!r}")

    @property
    def sqlite_path(self) -> Path:
        return self.data_dir / "paperfeed.db"

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.sqlite_path.resolve()}"

    @property
    def resolved_keyword_index_dir(self) -> Path:
        return self.keyword_index_dir or platformdirs.user_cache_path("paperfeed") / "keywords"

    @property
    def outbox_dir(self) -> Path:
        return self.data_dir / "outbox"

    def resolved_secret_key(self) -> str:
        """The configured key, else one generated on first use and kept in the data dir."""
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "secret.key"
        if not path.exists():
            private_files.make_dir(self.data_dir)
            fd = private_files.open_file(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL)
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(48))
        return path.read_text().strip()

    def with_overrides(self, **changes: object) -> Settings:
        kept: dict[str, Any] = {k: v for k, v in changes.items() if v is not None}
        return replace(self, **kept)


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(text)
    return value


def _bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ValueError(text)


# Declared type -> (parser, what the variable must hold, for error messages).
_PARSERS: dict[type, tuple[Any, str]] = {
    str: (str, "text"),
    int: (int, "a whole number"),
    float: (_finite, "a number"),
    Path: (Path, "a path"),
    bool: (_bool, "true or false (1/0, yes/no, on/off)"),
}


def _env_fields(cls: type[Any], prefix: str) -> list[tuple[str, Field[Any], type]]:
    """(variable, field, declared type without ``| None``) for each field of cls read from env."""
    hints = get_type_hints(cls)
    out: list[tuple[str, Field[Any], type]] = []
    for f in fields(cls):
        env = f.metadata.get("env", prefix + f.name.upper())
        if env is None:  # not read from one variable (e.g. nested settings)
            continue
        hint = hints[f.name]
        if get_origin(hint) is types.UnionType:
            (hint,) = [arg for arg in get_args(hint) if arg is not type(None)]
        if hint not in _PARSERS:
            raise TypeError(f"{cls.__name__}.{f.name}: no parser for {hint!r}; add one or env=None")
        out.append((ENV_PREFIX + env, f, hint))
    return out


def env_variables() -> dict[str, str]:
    """Every environment variable the loader reads, keyed by field (``smtp.host`` for nested)."""
    names = {f.name: var for var, f, _ in _env_fields(Settings, "")}
    names |= {f"smtp.{f.name}": var for var, f, _ in _env_fields(SmtpSettings, "SMTP_")}
    return names


def _from_env(cls: type[Any], prefix: str) -> dict[str, Any]:
    """Keyword arguments for cls from the variables that are set and non-empty."""
    values: dict[str, Any] = {}
    for var, f, hint in _env_fields(cls, prefix):
        text = os.environ.get(var, "")
        if not text.strip():
            continue
        parse, expects = _PARSERS[hint]
        try:
            values[f.name] = parse(text.strip() if hint is not str else text)
        except ValueError:
            raise Invalid(f"{var} must be {expects}, got {text!r}") from None
    return values


def base_url_configured() -> bool:
    """Whether ``PAPERFEED_BASE_URL`` is set (not empty)."""
    return bool(os.environ.get(ENV_PREFIX + "BASE_URL", "").strip())


def served_url(host: str, port: int) -> str:
    """The address of a server listening on host:port, as a browser on this machine reaches it
    (the wildcard hosts as 127.0.0.1 and [::1])."""
    host = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def server_settings(settings: Settings, host: str, port: int) -> Settings:
    """`settings` for ``paperfeed serve --host --port``: unless ``PAPERFEED_BASE_URL`` is set,
    links in e-mails, feeds and markdown name the address served."""
    if base_url_configured():
        return settings
    return settings.with_overrides(base_url=served_url(host, port))


def child_environment(settings: Settings) -> dict[str, str]:
    """The environment for a ``paperfeed`` child process working on the same store: this one's,
    with the data dir and database URL of `settings` (which CLI flags may have changed)."""
    environment = dict(os.environ)
    environment[ENV_PREFIX + "DATA_DIR"] = str(settings.data_dir)
    if settings.database_url:
        environment[ENV_PREFIX + "DATABASE_URL"] = settings.database_url
    return environment


def load_settings(**overrides: object) -> Settings:
    """Settings from ``PAPERFEED_*`` environment variables, then explicit overrides (CLI flags)."""
    values = _from_env(Settings, "")
    if "base_url" in values:
        values["base_url"] = values["base_url"].rstrip("/")
    settings = Settings(**values, smtp=SmtpSettings(**_from_env(SmtpSettings, "SMTP_")))
    return settings.with_overrides(**overrides)
