"""Where things are: the repository, the shared directory beside it, and the shared data."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("PAPERFEED_SHARED_DIR", REPO.parent / "shared"))
DATA = SHARED / "data"
