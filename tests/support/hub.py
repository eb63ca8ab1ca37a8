"""The recorded Hugging Face days of the shared data."""

from __future__ import annotations

import ast
import json
from typing import Any

from tests.support.paths import DATA

HF_RAW = DATA / "hf_daily_papers" / "raw"
HF_DAYS = sorted(path.stem for path in HF_RAW.glob("*.json"))


def raw_day(day: str) -> list[dict[str, Any]]:
    """One recorded ``/api/daily_papers?date=`` answer as Hugging Face served it (the items
    of ``2024-12-11`` are Python reprs: read as the Python literals they are)."""
    items = json.loads((HF_RAW / f"{day}.json").read_text())
    return [ast.literal_eval(item) if isinstance(item, str) else item for item in items]
