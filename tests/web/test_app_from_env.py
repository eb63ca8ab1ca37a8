"""`create_app_from_env`, what `uvicorn --factory ... --workers N` runs in each worker."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from paperfeed.web.app import create_app_from_env


@pytest.mark.parametrize("digest_hour", [None, "7"])
def test_each_worker_serves_and_runs_the_digest_scheduler_when_configured(
    tmp_path: Path,
    database_url: str | None,
    monkeypatch: pytest.MonkeyPatch,
    digest_hour: str | None,
) -> None:
    monkeypatch.setenv("PAPERFEED_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("PAPERFEED_SECRET_KEY", "test")
    monkeypatch.setenv("PAPERFEED_JOB_QUEUE", "0")  # in-process work (tests/jobs: the queue's)
    if database_url:
        monkeypatch.setenv("PAPERFEED_DATABASE_URL", database_url)
    if digest_hour:
        monkeypatch.setenv("PAPERFEED_DIGEST_HOUR", digest_hour)
    app = create_app_from_env()
    scheduler = app.state.digest_scheduler
    try:
        with TestClient(app) as client:
            assert client.get("/api/daily_papers").status_code == 200
        if digest_hour:
            assert scheduler.hour == 7 and scheduler._thread.is_alive()
        else:
            assert scheduler is None
    finally:
        if scheduler is not None:
            scheduler.stop()
