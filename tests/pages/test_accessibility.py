"""axe-core (vendored by the axe-playwright-python package) in Debian's chromium: no serious or
critical violation on any page, on a desktop screen and on a phone, for visitors, a reader and an
administrator; and screenshots of the main pages at both sizes in test-output/ to look at."""

from __future__ import annotations

import pytest

from paperfeed import links
from tests.pages.conftest import DESKTOP, PHONE, SCREENSHOTS, Site, open_page

axe = pytest.importorskip("axe_playwright_python.base")

BLOCKING = ("serious", "critical")
# (name, path, logged-in user); "{paper}" and "{preferences}" are filled in from the site.
PAGES = [
    ("daily", "/", None),
    ("trending", "/trending", None),
    ("weekly", "/?week=2026-W31", None),
    ("monthly", "/?month=2026-07", None),
    ("search", "/search?q=language+models", None),
    ("search-empty", "/search?q=zzzqqq+nothingmatches", None),
    ("paper", "{paper}", None),
    ("about", "/about", None),
    ("subscribe", "/subscribe", None),
    ("preferences", "{preferences}", None),
    ("login", "/login", None),
    ("signup", "/signup", None),
    ("submit", "/submit", None),
    ("not-found", "/papers/9999.99999", None),
    ("daily-reader", "/", "alice"),
    ("account", "/account", "alice"),
    ("submit-reader", "/submit", "alice"),
    ("subscribe-reader", "/subscribe", "alice"),
    ("paper-admin", "{paper}", "root"),
    ("daily-admin", "/", "root"),
]
SCREENSHOT_PAGES = ("daily", "search", "paper", "subscribe")


def top_paper_path(site: Site) -> str:
    return links.paper_path(site.feed.trending(limit=1).items[0].item.paper.id)


def axe_violations(page) -> list[dict]:
    page.add_script_tag(path=str(axe.AXE_FILE_PATH))
    results = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return results["violations"]


def describe(violations: list[dict]) -> str:
    return "\n".join(
        f"{v['impact']}: {v['id']} ({v['help']}) at "
        + "; ".join(" ".join(node["target"]) for node in v["nodes"][:4])
        for v in violations
    )


@pytest.mark.browser
@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
@pytest.mark.parametrize(("name", "path", "user"), PAGES, ids=[p[0] for p in PAGES])
def test_no_serious_accessibility_violations(
    browser, site: Site, viewport: dict[str, int], name: str, path: str, user: str | None
) -> None:
    page = open_page(browser, site, viewport, user)
    path = path.format(paper=top_paper_path(site), preferences=site.preferences_path)
    response = page.goto(path)
    assert response is not None and response.status == (404 if name == "not-found" else 200)
    violations = axe_violations(page)
    blocking = [v for v in violations if v["impact"] in BLOCKING]
    assert not blocking, describe(blocking)
    headings = [v for v in violations if v["id"] == "heading-order"]
    assert not headings, describe(headings)
    if name in SCREENSHOT_PAGES:
        SCREENSHOTS.mkdir(exist_ok=True)
        target = SCREENSHOTS / f"page-{name}-{viewport['width']}.png"
        page.screenshot(path=str(target), full_page=name == "subscribe")
    page.context.close()
