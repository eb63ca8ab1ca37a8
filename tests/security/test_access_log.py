"""Token values (e-mail links' signed tokens, CSRF tokens) never reach the access log."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from paperfeed.web.access_log import ACCESS_LOGGER, RedactTokens, redact
from paperfeed.web.app import create_app_from_env

SIGNED = "eyJpZCI6MX0.ZxY1aB.c2lnbmF0dXJl-_x"


def uvicorn_record(path: str) -> logging.LogRecord:
    """An access-log record as uvicorn's httptools/h11 protocols make it."""
    return logging.LogRecord(
        ACCESS_LOGGER,
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:50000", "GET", path, "1.1", 200),
        None,
    )


@pytest.mark.parametrize(
    ("path", "shown"),
    [
        (f"/preferences?token={SIGNED}", "/preferences?token=[redacted]"),
        (
            f"/unsubscribe?x=1&token={SIGNED}&List-Unsubscribe=One-Click",
            "/unsubscribe?x=1&token=[redacted]&List-Unsubscribe=One-Click",
        ),
        (f"/subscribe/confirm?TOKEN={SIGNED}", "/subscribe/confirm?TOKEN=[redacted]"),
        (f"/logout?csrf_token={SIGNED}", "/logout?csrf_token=[redacted]"),
        (f"/x?manage_token={SIGNED}&q=tokens", "/x?manage_token=[redacted]&q=tokens"),
        ("/search?q=token+bucket", "/search?q=token+bucket"),
    ],
)
def test_the_filter_redacts_token_values_in_access_records(path: str, shown: str) -> None:
    record = uvicorn_record(path)
    assert RedactTokens().filter(record) is True
    assert record.getMessage() == f'127.0.0.1:50000 - "GET {shown} HTTP/1.1" 200'
    assert SIGNED not in record.getMessage()


def test_redact_leaves_other_text_alone() -> None:
    assert redact("GET /papers/2401.00001 HTTP/1.1") == "GET /papers/2401.00001 HTTP/1.1"


def test_the_uvicorn_factory_installs_the_filter(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    logger = logging.getLogger(ACCESS_LOGGER)
    monkeypatch.setattr(logger, "filters", [])
    monkeypatch.setenv("PAPERFEED_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("PAPERFEED_SECRET_KEY", "test")
    monkeypatch.delenv("PAPERFEED_DATABASE_URL", raising=False)
    monkeypatch.delenv("PAPERFEED_DIGEST_HOUR", raising=False)
    app = create_app_from_env()
    app.state.feed.close()
    assert [type(f) for f in logger.filters] == [RedactTokens]
    create_app_from_env().state.feed.close()  # a second app adds no second filter
    assert len(logger.filters) == 1
