"""Allegro's checks of an offer's description and image URLs, as integrators have reported them.

A TEXT item's `content` must be the HTML subset (allegro/allegro-api #3410, #5872, #11145, #11446, #7401):
top level `h1`, `h2`, `p`, `ul`, `ol`; `li` only inside lists; `b` only inside `p` and `li`, with text only;
no attributes; no text outside a tag; every tag closed. A violation is a 422 `VALIDATION_ERROR` "Invalid HTML
subset" whose `details` name the tag. An image that is not an absolute URL fails to deserialize (#11169).
The description check is a switch (`strict_descriptions`): the reported messages are real, the exact rule
set (attributes, `b` in headings) is inferred from them.
"""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

from emulator.http import error
from emulator.records import Json

TOP = ("h1", "h2", "p", "ul", "ol")
CHILDREN: dict[str, tuple[str, ...]] = {"h1": (), "h2": (), "p": ("b",), "ul": ("li",), "ol": ("li",), "li": ("b",)}
TEXT_INSIDE = frozenset({"h1", "h2", "p", "li", "b"})


class _Subset(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.problem: str | None = None

    def _fail(self, message: str) -> None:
        self.problem = self.problem or message

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        parent = self.open[-1] if self.open else None
        if parent is None:
            allowed: tuple[str, ...] = TOP
        elif parent == "b":
            self._fail('Tag "b" is a simple type, so it must have no children')
            allowed = ()
        else:
            allowed = CHILDREN[parent]
        if tag not in allowed and parent != "b":
            self._fail(f'Invalid tag: "{tag}", allowed tags: {{{", ".join(allowed)}}}')
        if attrs:
            self._fail(f'Tag "{tag}" must have no attributes')
        self.open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        self._fail(f'Missing ending tag for "{tag}"')
        self.open.pop()

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open[-1] != tag:
            self._fail(f'Missing one of starting tag for "{tag}"')
            return
        self.open.pop()

    def handle_data(self, data: str) -> None:
        if data.strip() and (not self.open or self.open[-1] not in TEXT_INSIDE):
            self._fail("Text must be inside one of the tags {h1, h2, p, li, b}")


def html_problem(content: str) -> str | None:
    """What breaks Allegro's HTML subset in `content`, or None."""
    checker = _Subset()
    checker.feed(content)
    checker.close()
    if checker.problem is None and checker.open:
        checker.problem = f'Missing ending tag for "{checker.open[-1]}"'
    return checker.problem


def check_description(description: Any, errors: list[Json]) -> None:
    """422 errors for every TEXT item that is not Allegro's HTML subset."""
    sections = description.get("sections") if isinstance(description, dict) else None
    for s_index, section in enumerate(sections if isinstance(sections, list) else []):
        items = section.get("items") if isinstance(section, dict) else None
        for i_index, item in enumerate(items if isinstance(items, list) else []):
            if not isinstance(item, dict) or item.get("type") != "TEXT":
                continue
            content = item.get("content")
            problem = "content must be a string" if not isinstance(content, str) else html_problem(content)
            if problem is not None:
                errors.append(
                    error(
                        "VALIDATION_ERROR",
                        "Invalid HTML subset",
                        details=problem,
                        path=f"description.sections[{s_index}].items[{i_index}].content",
                    )
                )


def check_image_urls(images: list[str], errors: list[Json]) -> None:
    """422 for an image that is not an absolute http(s) URL (Allegro cannot read it as a java.net.URL)."""
    for index, url in enumerate(images):
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            errors.append(
                error(
                    "VALIDATION_ERROR",
                    "Request contains invalid data. Contact the application author.",
                    details=f'Cannot deserialize value of type `java.net.URL` from String "{url}"',
                    path=f"images[{index}]",
                )
            )
