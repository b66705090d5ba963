"""A warehouse description becomes Allegro's HTML subset; image names become URLs. Checked against the
emulator's own validator of the subset, so the two sides cannot drift apart."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emulator.description_rules import html_problem
from engine.description import allegro_html
from engine.listing import image_url


@pytest.mark.parametrize(
    ("given_text", "expected"),
    [
        ('Kabel USB\n\n  Długość 2 m & "mocny"  ', '<p>Kabel USB</p><p>Długość 2 m &amp; "mocny"</p>'),
        ("1 < 2 and 3 > 2", "<p>1 &lt; 2 and 3 &gt; 2</p>"),
        ("<p>Opis <i>krótki</i></p>", "<p>Opis krótki</p>"),
        ("<div><strong>Nowy</strong> kabel<br>2 m</div>", "<p><b>Nowy</b> kabel</p><p>2 m</p>"),
        ("<script>alert(1)</script><style>p{}</style><p>ok</p><iframe>z</iframe>", "<p>ok</p>"),
        ("<h3>Cechy</h3><h1>Tytuł</h1>", "<h2>Cechy</h2><h1>Tytuł</h1>"),
        ("<h1><b>Head</b> x</h1>", "<h1>Head x</h1>"),
        ("<p>a<b> b </b>c</p>", "<p>a <b>b</b> c</p>"),
        ("<p><b>bold <b>nested</b> more</b></p>", "<p><b>bold nested more</b></p>"),
        ("<ul><li>a<ul><li>b</li></ul></li><li>c</li></ul>", "<ul><li>a</li><li>b</li><li>c</li></ul>"),
        ("<ol>loose<li>x</li></ol>", "<ol><li>loose</li><li>x</li></ol>"),
        ("<li>x</li><li>y</li>after", "<ul><li>x</li><li>y</li></ul><p>after</p>"),
        ("<table><tr><td>Waga</td><td>2 kg</td></tr></table>", "<p>Waga 2 kg</p>"),
        ("<p>&lt;tag&gt; &amp;&nbsp;&#128512;</p>", "<p>&lt;tag&gt; &amp; 😀</p>"),
        ('<p style="color:red" class="x">styled</p>', "<p>styled</p>"),
        ('<img src="x.jpg"><p></p><b> </b>', ""),
        ("<p>unclosed <b>bold", "<p>unclosed <b>bold</b></p>"),
        ('<p>film</p><embed src="x.swf"><p>after a void element</p>', "<p>film</p><p>after a void element</p>"),
        ("<html><head><title>Sklep<body><p>Opis</p></body></html>", "<p>Opis</p>"),
    ],
)
def test_descriptions_become_the_subset(given_text: str, expected: str) -> None:
    converted = allegro_html(given_text)
    assert converted == expected
    assert html_problem(converted) is None


TAGS = ["p", "div", "b", "strong", "i", "span", "h1", "h2", "h4", "ul", "ol", "li", "br", "table", "tr", "td"]
TAGS += ["script", "style", "iframe", "img", "embed", "a", "html", "body", "head", "blockquote"]
PIECES = st.one_of(
    st.sampled_from(TAGS).map(lambda t: f"<{t}>"),
    st.sampled_from(TAGS).map(lambda t: f"</{t}>"),
    st.sampled_from(TAGS).map(lambda t: f'<{t} class="c" style="x:y">'),
    st.sampled_from(["<br/>", "<hr />", "&amp;", "&lt;", "&nbsp;", "&#x27;", "<", ">", "&", "\n", "  ", '"']),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12),
)


@settings(max_examples=400, deadline=None)
@given(st.lists(PIECES, max_size=30).map("".join))
def test_any_input_becomes_valid_subset_and_converting_again_changes_nothing(text: str) -> None:
    converted = allegro_html(text)
    assert html_problem(converted) is None, (text, converted)
    assert allegro_html(converted) == converted, (text, converted)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet="abcżółć123 .,;!?-", min_size=1, max_size=10), min_size=1, max_size=8))
def test_the_words_of_plain_text_survive(lines: list[str]) -> None:
    text = "\n".join(lines)
    converted = allegro_html(text)
    assert allegro_html(converted) == converted
    for word in text.split():
        assert word in converted


@pytest.mark.parametrize(
    ("name", "base", "expected"),
    [
        ("https://img.example.pl/a.jpg", None, "https://img.example.pl/a.jpg"),
        ("https://img.example.pl/a.jpg", "https://shop.pl/foto", "https://img.example.pl/a.jpg"),
        ("zdjecie1.jpg", None, None),
        ("zdjecie1.jpg", "https://shop.pl/foto/", "https://shop.pl/foto/zdjecie1.jpg"),
        ("/user/big/12.jpg?670f", "https://shop.pl", "https://shop.pl/user/big/12.jpg?670f"),
        ("zdjęcie 1.jpg", "https://shop.pl/foto", "https://shop.pl/foto/zdj%C4%99cie%201.jpg"),
        ("ftp://files/1.jpg", "https://shop.pl", None),
        ("//cdn.example.pl/1.jpg", "https://shop.pl", None),
    ],
)
def test_image_names_become_urls(name: str, base: str | None, expected: str | None) -> None:
    assert image_url(name, base) == expected
