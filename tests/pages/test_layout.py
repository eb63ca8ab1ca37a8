"""The pages as a person sees them in chromium, on a desktop screen and on a 390 px phone:
forms whose radio buttons sit beside their text, a navigation bar of one row on a phone (the
links behind a "Menu" that needs no script) and nothing wider than the phone's screen."""

from __future__ import annotations

import pytest

from tests.pages.conftest import DESKTOP, PHONE, Site, open_page
from tests.pages.test_accessibility import top_paper_path

pytestmark = pytest.mark.browser
SIZES = pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])

# For each radio button and checkbox: its box and the box of its label's text.
CHOICE_BOXES = """() => [
  ...document.querySelectorAll('main input[type=radio], main input[type=checkbox]')
].map(input => {
    const text = document.createRange();
    text.selectNodeContents(input.closest('label'));
    text.setStartAfter(input);
    const box = input.getBoundingClientRect(), words = text.getBoundingClientRect();
    return {name: input.name, top: box.top, bottom: box.bottom, textTop: words.top,
            textBottom: words.bottom, right: box.right, textLeft: words.left};
  })"""


def form_paths(site: Site) -> list[str]:
    return ["/subscribe", site.preferences_path]


@SIZES
def test_radio_buttons_and_checkboxes_share_a_line_with_their_text(
    browser, site: Site, viewport: dict[str, int]
) -> None:
    page = open_page(browser, site, viewport, user="alice")  # alice also sees the checkbox
    for path in form_paths(site):
        page.goto(path)
        boxes = page.evaluate(CHOICE_BOXES)
        assert {b["name"] for b in boxes} == {"frequency", "like_upvoted"} or path != "/subscribe"
        assert len(boxes) >= 2
        for box in boxes:
            middle = (box["top"] + box["bottom"]) / 2
            assert box["textTop"] <= middle <= box["textBottom"], (path, box)
            assert box["right"] <= box["textLeft"], (path, box)
    page.context.close()


@SIZES
def test_form_fields_are_styled_alike_and_hints_stay_in_their_line(
    browser, site: Site, viewport: dict[str, int]
) -> None:
    page = open_page(browser, site, viewport)
    for path in form_paths(site):
        page.goto(path)
        text_field = page.locator("main input[name=categories]")
        style = "(e) => [getComputedStyle(e).borderRadius, getComputedStyle(e).borderTopColor]"
        expected = text_field.evaluate(style)
        for field in (
            "input[name=max_papers]",
            "textarea[name=searches]",
            "textarea[name=authors]",
        ):
            assert page.locator(f"main {field}").evaluate(style) == expected, (path, field)
        width = text_field.bounding_box()["width"]
        assert page.locator("main textarea[name=searches]").bounding_box()["width"] == width
        # the examples in a label run on in its text instead of taking a line each
        label = page.locator("main label", has=page.locator("input[name=categories]")).first
        first_code = label.locator("code").first.bounding_box()
        label_top = label.bounding_box()["y"]
        assert first_code["y"] - label_top < first_code["height"] * 1.5, path
    page.context.close()


def test_phone_navigation_is_one_row_with_a_menu_that_needs_no_script(browser, site: Site) -> None:
    context = browser.new_context(base_url=site.url, viewport=PHONE, java_script_enabled=False)
    page = context.new_page()
    page.goto("/")
    header = page.locator("header.site-header").bounding_box()
    brand = page.locator(".brand").bounding_box()
    assert header["height"] < brand["height"] * 2.5  # one row, not three
    trending = page.locator(".nav-links a", has_text="Trending")
    log_in = page.locator(".account a", has_text="Log in")
    assert not trending.is_visible() and not log_in.is_visible()
    page.locator("label.nav-toggle-label").click()
    assert trending.is_visible() and log_in.is_visible()
    trending.click()
    page.wait_for_url("**/trending")
    for path in ("/", "/search?q=language+models", top_paper_path(site), "/subscribe"):
        page.goto(path)  # nothing wider than the phone; card titles keep a readable width
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], path
        titles = page.locator("article.card h3")
        for index in range(min(titles.count(), 5)):
            assert titles.nth(index).bounding_box()["width"] > PHONE["width"] * 0.6, path
    context.close()


def test_desktop_navigation_shows_every_link_and_no_menu_button(browser, site: Site) -> None:
    page = open_page(browser, site, DESKTOP)
    page.goto("/")
    assert not page.locator("label.nav-toggle-label").is_visible()
    for name in ("Daily", "Trending", "Submit", "Digest", "About"):
        assert page.locator(".nav-links a", has_text=name).is_visible()
    header = page.locator("header.site-header").bounding_box()
    assert header["height"] < 80
    page.context.close()
