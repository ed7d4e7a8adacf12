"""Every picture in the docs is a screenshot some browser test takes, and every committed picture is
shown somewhere in the docs.

The docs (docs/*.md) show screenshots as `img/<name>.png`; the tests in tests/e2e take them with
`screenshot(page, "<name>")`, and `TITO_UPDATE_DOCS_IMAGES=1` makes them write into docs/img. A
picture no test takes could not be regenerated and would silently drift from the product; a
committed picture no page shows is dead weight. These checks read files only: no browser needed.
"""

from __future__ import annotations

import re

from lab_helpers import REPO

DOCS = REPO / "docs"
E2E = REPO / "tests" / "e2e"
IMAGE_REFERENCE = re.compile(r"\bimg/([\w-]+)\.png\b")
SCREENSHOT_CALL = re.compile(r"\bscreenshot\(\s*page\s*,\s*\"([\w-]+)\"")


def referenced_in_docs() -> set[str]:
    return {name for page in DOCS.glob("*.md") for name in IMAGE_REFERENCE.findall(page.read_text(encoding="utf-8"))}


def taken_by_tests() -> set[str]:
    return {name for test in E2E.glob("*.py") for name in SCREENSHOT_CALL.findall(test.read_text(encoding="utf-8"))}


def committed() -> set[str]:
    return {image.stem for image in (DOCS / "img").glob("*.png")}


def test_the_docs_show_pictures() -> None:
    assert referenced_in_docs(), "no docs page shows an img/<name>.png: did the pattern or the docs move?"


def test_every_picture_in_the_docs_is_taken_by_a_browser_test() -> None:
    assert referenced_in_docs() - taken_by_tests() == set()


def test_every_picture_in_the_docs_is_committed() -> None:
    assert referenced_in_docs() - committed() == set(), "run the e2e tests with TITO_UPDATE_DOCS_IMAGES=1"


def test_every_committed_picture_is_shown_in_the_docs() -> None:
    assert committed() - referenced_in_docs() == set()
