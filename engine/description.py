"""A warehouse description (plain text or any HTML) as the HTML subset Allegro accepts in a TEXT item (pure).

Allegro validates a description's TEXT items strictly and answers 422 to anything else (allegro/allegro-api
#3410: `Invalid tag "strong", expected one of {b}`, `Tag "b" is a simple type, so it must have no children`;
#5872: `Invalid "html" tag, allowed: {h1, h2, p, ul, ol}`). The subset: blocks `h1`, `h2`, `p`, `ul`, `ol`;
`li` inside lists; `b` with plain text inside `p` and `li`; no attributes.

Old shop applications store descriptions written for their own web pages: `div`s, `br`s, `strong`, tables,
inline styles, sometimes scripts. `allegro_html` keeps the text and the structure that the subset can say:

- `h1` stays, `h2`-`h6` become `h2`; `strong` becomes `b`; `b` inside `b` is flattened;
- `div`, `br`, tables, `blockquote` and other blocks end the paragraph; table cells are joined by spaces;
- nested lists are flattened into their outer list; text in a list outside any `li` becomes an item;
- other inline tags (`i`, `span`, `a`, `font`, ...) keep their text and lose the tag; `img` is dropped
  (the offer's gallery comes from the images column);
- `script`, `style`, `iframe`, `head` and other non-text elements are dropped with their content;
- whitespace is collapsed as a browser would, empty blocks are dropped, text is escaped.

Plain text (no tags) becomes one paragraph per non-empty line.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from functools import lru_cache
from html.parser import HTMLParser

_TAG = re.compile(r"</?[A-Za-z][^<>]*>")
_SPACE = re.compile(r"\s+")
_PIECE = re.compile(r"\S+|\s+")
_DROPPED = frozenset(
    {"script", "style", "iframe", "object", "noscript", "head", "title", "template", "svg", "canvas"}
    | {"select", "textarea", "button", "video", "audio", "map"}
)
_VOID = frozenset(
    {"br", "hr", "img", "input", "meta", "link", "wbr", "col", "area", "source", "param", "base", "embed"}
)
_BREAKS = frozenset(
    {"div", "section", "article", "header", "footer", "main", "aside", "nav", "blockquote", "pre", "address"}
    | {"figure", "figcaption", "center", "table", "thead", "tbody", "tfoot", "tr", "caption", "dl", "dt", "dd"}
    | {"br", "hr", "form", "fieldset", "details", "summary", "body", "html"}
)
_CELLS = frozenset({"td", "th"})
_BOLD = frozenset({"b", "strong"})
_HEADINGS = {"h1": "h1", "h2": "h2", "h3": "h2", "h4": "h2", "h5": "h2", "h6": "h2"}


def looks_like_html(text: str) -> bool:
    return _TAG.search(text) is not None


@lru_cache(maxsize=256)
def allegro_html(text: str) -> str:
    """`text` as Allegro's description subset; empty when nothing readable is left. Cached: planning asks for
    a product's description twice in a row (its listing problems, then its content hash)."""
    if not looks_like_html(text):
        paragraphs = (_SPACE.sub(" ", line).strip() for line in text.splitlines())
        return "".join(f"<p>{_escape(p)}</p>" for p in paragraphs if p)
    parser = _Converter()
    parser.feed(text)
    parser.close()
    return parser.result()


def _escape(text: str) -> str:
    return html.escape(text, quote=False)


@dataclass(slots=True)
class _Block:
    """One block being collected: `p`, `h1`, `h2`, or a list (`ul`/`ol`) whose items are run lists."""

    tag: str
    runs: list[tuple[bool, str]] = field(default_factory=list)
    items: list[list[tuple[bool, str]]] = field(default_factory=list)

    def html(self) -> str:
        if self.tag in ("ul", "ol"):
            items = [body for item in self.items if (body := _runs_html(item, bold_allowed=True))]
            return f"<{self.tag}>{''.join(f'<li>{i}</li>' for i in items)}</{self.tag}>" if items else ""
        body = _runs_html(self.runs, bold_allowed=self.tag == "p")
        return f"<{self.tag}>{body}</{self.tag}>" if body else ""


def _runs_html(runs: list[tuple[bool, str]], *, bold_allowed: bool) -> str:
    """Text runs as escaped HTML, whitespace collapsed and trimmed; spaces at a bold edge stay outside `b`."""
    words: list[tuple[bool, str]] = []
    spaced: list[bool] = []
    gap = False
    for bold, text in runs:
        for piece in _PIECE.findall(text):
            if piece.isspace():
                gap = True
                continue
            spaced.append(gap and bool(words))
            words.append((bold and bold_allowed, piece))
            gap = False
    out: list[str] = []
    open_bold = False
    for (bold, word), space in zip(words, spaced, strict=True):
        if bold != open_bold and open_bold:
            out.append("</b>")
        if space:
            out.append(" ")
        if bold != open_bold and bold:
            out.append("<b>")
        open_bold = bold
        out.append(_escape(word))
    if open_bold:
        out.append("</b>")
    return "".join(out)


class _Converter(HTMLParser):
    """Streams start tags, end tags and text into a list of blocks of Allegro's subset."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self._blocks: list[_Block] = []
        self._current: _Block | None = None
        self._list: _Block | None = None
        self._list_depth = 0
        self._in_item = False
        self._orphan = False
        self._bold = 0
        self._dropped = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "body":
            self._dropped = 0  # a body ends an unclosed head, as in a browser
        if tag in _DROPPED:
            self._dropped += 1
        elif self._dropped or (tag in _VOID and tag not in _BREAKS):
            return
        elif tag in _BOLD:
            self._bold += 1
        elif tag in ("ul", "ol"):
            self._open_list(tag)
        elif tag == "li":
            self._start_item()
        elif tag in _HEADINGS and (self._list is None or (self._orphan and not self._in_item)):
            self._close_list()
            self._end_block()
            self._current = _Block(_HEADINGS[tag])
        elif tag == "p" or tag in _BREAKS or tag in _HEADINGS:
            self._break()
        elif tag in _CELLS:
            self._text(" ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BREAKS and not self._dropped:
            self._break()

    def handle_endtag(self, tag: str) -> None:
        if tag in _DROPPED:
            self._dropped = max(0, self._dropped - 1)
        elif self._dropped:
            return
        elif tag in _BOLD:
            self._bold = max(0, self._bold - 1)
        elif tag in ("ul", "ol"):
            self._close_list()
        elif tag == "li":
            self._in_item = False
        elif tag in _HEADINGS or tag == "p" or tag in _BREAKS:
            self._break()
        elif tag in _CELLS:
            self._text(" ")

    def handle_data(self, data: str) -> None:
        if not self._dropped:
            self._text(data)

    def _text(self, data: str) -> None:
        if self._orphan and not self._in_item and data.strip():
            self._close_list()
        if self._list is not None:
            if not self._in_item:
                if not data.strip():
                    return
                self._start_item()
            self._list.items[-1].append((self._bold > 0, data))
            return
        if self._current is None:
            if not data.strip():
                return
            self._current = _Block("p")
        self._current.runs.append((self._bold > 0, data))

    def _break(self) -> None:
        """A block boundary: outside a list the paragraph ends; inside an item it is a space."""
        if self._list is not None:
            if self._in_item:
                self._list.items[-1].append((False, " "))
            return
        self._end_block()

    def _end_block(self) -> None:
        if self._current is not None:
            self._blocks.append(self._current)
            self._current = None

    def _open_list(self, tag: str) -> None:
        if self._orphan:
            self._close_list()
        self._list_depth += 1
        if self._list is None:
            self._end_block()
            self._list = _Block(tag)
        self._in_item = False

    def _close_list(self) -> None:
        """Ends one level of list; the list block is complete when the outermost level ends."""
        self._list_depth = 0 if self._orphan else max(0, self._list_depth - 1)
        self._in_item = False
        if self._list_depth == 0 and self._list is not None:
            self._blocks.append(self._list)
            self._list = None
            self._orphan = False

    def _start_item(self) -> None:
        if self._list is None:
            self._end_block()
            self._list = _Block("ul")
            self._list_depth = 1
            self._orphan = True
        self._list.items.append([])
        self._in_item = True

    def result(self) -> str:
        self._end_block()
        if self._list is not None:
            self._blocks.append(self._list)
            self._list = None
        return "".join(block.html() for block in self._blocks)
