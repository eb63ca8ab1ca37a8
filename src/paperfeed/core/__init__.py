"""The core: `PaperFeed`, the one object the CLI, the web app, the job workers and the tests
drive, wiring the store and the domains together (feed.py); the community's part of it
(community.py); copying a deployment between stores (copying.py)."""

from paperfeed.core.community import Community
from paperfeed.core.copying import copy_database, copy_progress
from paperfeed.core.feed import PaperFeed

__all__ = ["Community", "PaperFeed", "copy_database", "copy_progress"]
