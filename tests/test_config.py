"""Settings from PAPERFEED_* variables: derived from the dataclass fields, documented in README."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest

from paperfeed.config import ENV_PREFIX, Settings, SmtpSettings, env_variables, load_settings
from paperfeed.errors import Invalid

README = Path(__file__).resolve().parents[1] / "README.md"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith(ENV_PREFIX):
            monkeypatch.delenv(name)


def test_every_field_has_a_variable() -> None:
    names = env_variables()
    expected = {f.name for f in dataclasses.fields(Settings) if f.name != "smtp"}
    expected |= {f"smtp.{f.name}" for f in dataclasses.fields(SmtpSettings)}
    assert set(names) == expected
    assert len(set(names.values())) == len(names)
    assert names["smtp.username"] == "PAPERFEED_SMTP_USER"


def test_every_variable_is_documented_in_readme() -> None:
    readme = README.read_text()
    missing = [name for name in env_variables().values() if f"`{name}`" not in readme]
    assert missing == []


def test_defaults_without_environment() -> None:
    assert load_settings() == Settings()


def test_zero_is_a_value_not_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAPERFEED_DIGEST_MAX_FAILURES", "0")
    monkeypatch.setenv("PAPERFEED_TRENDING_GRAVITY", "0")
    settings = load_settings()
    assert settings.digest_max_failures == 0
    assert settings.trending_gravity == 0.0
    assert isinstance(settings.trending_gravity, float)


def test_values_are_converted_by_declared_type(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAPERFEED_DATA_DIR", "/tmp/pf")
    monkeypatch.setenv("PAPERFEED_DIGEST_HOUR", "7")
    monkeypatch.setenv("PAPERFEED_ARXIV_DELAY", "0.5")
    monkeypatch.setenv("PAPERFEED_BASE_URL", "https://papers.example.org/")
    settings = load_settings()
    assert settings.data_dir == Path("/tmp/pf")
    assert settings.digest_hour == 7
    assert settings.arxiv_delay == 0.5
    assert settings.base_url == "https://papers.example.org"


def test_invalid_int_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAPERFEED_DIGEST_HOUR", "seven")
    with pytest.raises(Invalid, match=r"PAPERFEED_DIGEST_HOUR must be a whole number, got 'seven'"):
        load_settings()


def test_invalid_float_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAPERFEED_TRENDING_GRAVITY", "steep")
    with pytest.raises(Invalid, match="PAPERFEED_TRENDING_GRAVITY must be a number"):
        load_settings()


def test_empty_string_means_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAPERFEED_TRENDING_WINDOW_DAYS", "")
    monkeypatch.setenv("PAPERFEED_EMBEDDER", "")
    monkeypatch.setenv("PAPERFEED_SMTP_PORT", "")
    monkeypatch.setenv("PAPERFEED_SHARED_DIR", "")
    settings = load_settings()
    assert settings.trending_window_days == Settings().trending_window_days
    assert settings.embedder == Settings().embedder
    assert settings.smtp.port == SmtpSettings().port
    assert settings.shared_dir is None


def test_smtp_variables_load(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAPERFEED_SMTP_HOST", "mail.example.org")
    monkeypatch.setenv("PAPERFEED_SMTP_PORT", "465")
    monkeypatch.setenv("PAPERFEED_SMTP_SECURITY", "ssl")
    monkeypatch.setenv("PAPERFEED_SMTP_USER", "bot")
    monkeypatch.setenv("PAPERFEED_SMTP_PASSWORD", "hunter2")
    monkeypatch.setenv("PAPERFEED_SMTP_SENDER", "feed <feed@example.org>")
    assert load_settings().smtp == SmtpSettings(
        host="mail.example.org",
        port=465,
        security="ssl",
        username="bot",
        password="hunter2",
        sender="feed <feed@example.org>",
    )


def test_overrides_win_over_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAPERFEED_DATA_DIR", "/from/env")
    monkeypatch.setenv("PAPERFEED_DATABASE_URL", "sqlite:///env.db")
    settings = load_settings(data_dir=Path("/from/flag"), database_url=None)
    assert settings.data_dir == Path("/from/flag")
    assert settings.database_url == "sqlite:///env.db"  # None overrides nothing
