"""Typed JSON answers cost: `/api/daily_papers` served with its pydantic response model (the
dicts of web/serialize.py validated once and written by pydantic-core, as the app does) side by
side with the same route answering ``JSONResponse(dicts)`` unvalidated (the app before the
typed API), in one run, alternating A B A B, 50 clients, against the web_load.py store; and,
since a shared machine makes load figures noisy, the CPU time of that step alone (best of 20)
for a 100-item answer: validate + pydantic-core JSON vs json.dumps of the dicts.

    python bench/api_typed.py [--clients 50] [--seconds 8]

Writes bench/results/api_typed.json.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import logging
import os
import subprocess
import sys
import time
import timeit
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from common import RESULTS, write_json
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from pydantic import TypeAdapter
from web_load import free_port, prepare_store, run_load

from paperfeed.config import Settings
from paperfeed.core import PaperFeed
from paperfeed.listings import DailyPapersRequest
from paperfeed.web import api, serialize
from paperfeed.web.app import create_app_from_env
from paperfeed.web.schemas import DailyPaperJson

log = logging.getLogger("bench.api_typed")
BENCH = Path(__file__).resolve().parent
VARIANTS = {
    "typed (response model)": "paperfeed.web.app:create_app_from_env",
    "untyped (JSONResponse)": "api_typed:untyped_app_from_env",
}


def untyped_app_from_env() -> FastAPI:
    """The app with /api/daily_papers answering as before the typed API: JSONResponse(dicts)."""
    app = create_app_from_env()
    endpoint = api.daily_papers

    @functools.wraps(endpoint)
    def untyped(*args: Any, **kwargs: Any) -> JSONResponse:
        return JSONResponse(endpoint(*args, **kwargs))

    untyped_router = api.APIRouter(route_class=api.ErrorMappingRoute)
    untyped_router.add_api_route("/api/daily_papers", untyped, response_model=None)
    app.router.routes.insert(0, untyped_router.routes[0])  # matched before the typed route
    return app


def serve(factory: str, data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "PAPERFEED_DATA_DIR": str(data_dir),
        "PAPERFEED_SECRET_KEY": "bench",
        "PAPERFEED_API_REQUESTS_PER_MINUTE": "0",
        "PYTHONPATH": os.pathsep.join([str(BENCH), os.environ.get("PYTHONPATH", "")]),
    }
    command = [sys.executable, "-m", "uvicorn", "--factory", factory, "--port", str(port),
               "--no-access-log", "--log-level", "warning"]  # fmt: skip
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/about", timeout=2).status_code == 200:
                return server
        except httpx.TransportError:
            time.sleep(0.2)
    server.kill()
    raise RuntimeError(f"{factory} did not start")


def measure(factory: str, data_dir: Path, paths: list[str], clients: int, seconds: float) -> dict:
    port = free_port()
    server = serve(factory, data_dir, port)
    try:
        first = httpx.get(f"http://127.0.0.1:{port}{paths[0]}").json()
        result = asyncio.run(run_load(f"http://127.0.0.1:{port}", paths, clients, seconds))
        result["items_per_answer"] = len(first)
        return result
    finally:
        server.terminate()
        server.wait(timeout=30)


def best(runs: list[dict], key: Callable[[dict], float]) -> dict:
    return max(runs, key=key)


def serialization_ms(data_dir: Path) -> dict[str, float]:
    """Milliseconds to turn one 100-item answer into JSON bytes, each way (best of 20)."""
    settings = Settings(data_dir=data_dir, secret_key="bench")
    with PaperFeed(settings) as feed:
        items = feed.daily_papers(DailyPapersRequest(limit=100))
        dicts = [serialize.feed_item_json(item) for item in items]
    adapter = TypeAdapter(list[DailyPaperJson])

    def typed() -> bytes:
        return adapter.dump_json(adapter.validate_python(dicts), exclude_none=True, by_alias=True)

    def untyped() -> bytes:
        return JSONResponse(dicts).body

    assert json.loads(typed()) == json.loads(untyped())  # the same answer either way
    return {
        "items": len(dicts),
        "typed_ms": round(min(timeit.repeat(typed, number=10, repeat=20)) * 100, 3),
        "untyped_ms": round(min(timeit.repeat(untyped, number=10, repeat=20)) * 100, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--data-dir", type=Path, default=RESULTS / "cache" / "api_typed_store")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    latest = prepare_store(args.data_dir)
    paths = [f"/api/daily_papers?date={latest}", "/api/daily_papers", "/api/daily_papers?limit=100"]
    runs: dict[str, list[dict]] = {name: [] for name in VARIANTS}
    for _ in range(2):
        for name, factory in VARIANTS.items():
            runs[name].append(measure(factory, args.data_dir, paths, args.clients, args.seconds))
            log.info("%s: %s", name, runs[name][-1])
    write_json(
        RESULTS / "api_typed.json",
        {
            "setup": {
                "server": "uvicorn, 1 process, SQLite (the web_load.py store)",
                "clients": args.clients,
                "seconds_per_run": args.seconds,
                "paths": paths,
                "cpus": os.cpu_count(),
                "load_average_at_end": [round(x, 1) for x in os.getloadavg()],
            },
            "runs_alternating": runs,
            "serialization_of_one_answer": serialization_ms(args.data_dir),
            "best_requests_per_second": {
                name: best(r, lambda x: x["requests_per_second"])["requests_per_second"]
                for name, r in runs.items()
            },
        },
    )


if __name__ == "__main__":
    main()
