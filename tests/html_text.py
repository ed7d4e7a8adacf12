"""What a page shows, parsed with the standard library's HTML parser (not by matching markup).

    tables(html)  -> {table id: [[cell text, ...], ...]}   the rows of each table with an id
    links(html)   -> {table id: [[href or None per cell], ...]}
    text_by_id(html) -> {element id: its text}              e.g. a paragraph's sentence

Text is what a browser shows: entities decoded, runs of whitespace made one space, stripped.
"""

from __future__ import annotations

from html.parser import HTMLParser

VOID = {"br", "img", "meta", "link", "input", "hr", "col", "source", "wbr"}


def _clean(parts: list[str]) -> str:
    return " ".join("".join(parts).split())


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: dict[str, list[list[str]]] = {}
        self.links: dict[str, list[list[str | None]]] = {}
        self.ids: dict[str, list[str]] = {}
        self.open_ids: list[tuple[str, int]] = []  # (id, depth at which it opened)
        self.depth = 0
        self.table: str | None = None
        self.cell: list[str] | None = None
        self.href: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "br" and self.cell is not None:
            self.cell.append(" ")
        if tag in VOID:
            return
        self.depth += 1
        if attrs.get("id"):
            self.open_ids.append((attrs["id"], self.depth))
            self.ids[attrs["id"]] = []
        if tag == "table" and attrs.get("id"):
            self.table = attrs["id"]
            self.tables[self.table], self.links[self.table] = [], []
        elif tag == "tr" and self.table:
            self.tables[self.table].append([])
            self.links[self.table].append([])
        elif tag in ("td", "th") and self.table:
            self.cell, self.href = [], None
        elif tag == "a" and self.cell is not None:
            self.href = attrs.get("href")

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if tag in ("td", "th") and self.table and self.cell is not None:
            self.tables[self.table][-1].append(_clean(self.cell))
            self.links[self.table][-1].append(self.href)
            self.cell = None
        elif tag == "table":
            self.table = None
        while self.open_ids and self.open_ids[-1][1] >= self.depth:
            self.open_ids.pop()
        self.depth -= 1

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)
        for name, _ in self.open_ids:
            self.ids[name].append(data)


def _parse(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    page.close()
    return page


def tables(html: str) -> dict[str, list[list[str]]]:
    return _parse(html).tables


def links(html: str) -> dict[str, list[list[str | None]]]:
    return _parse(html).links


def text_by_id(html: str) -> dict[str, str]:
    return {name: _clean(parts) for name, parts in _parse(html).ids.items()}
