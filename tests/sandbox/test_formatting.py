"""Telegram's HTML parse mode: what it accepts, what entities it yields, what it refuses."""

import pytest

from sandbox.errors import ApiError
from sandbox.formatting import parse_html, render


def test_offsets_count_utf16_code_units() -> None:
    rendered = parse_html("👍 <b>ok</b>")
    assert rendered.text == "👍 ok"
    assert rendered.entities == [{"type": "bold", "offset": 3, "length": 2}]


def test_pre_with_code_language_is_one_pre_entity() -> None:
    rendered = parse_html('<pre><code class="language-python">x = 1</code></pre>')
    assert rendered.entities == [{"type": "pre", "offset": 0, "length": 5, "language": "python"}]


def test_spoilers_quotes_and_character_references() -> None:
    rendered = parse_html(
        '<span class="tg-spoiler">a</span><tg-spoiler>b</tg-spoiler>'
        "<blockquote expandable>&#x41;&lt;&quot;</blockquote>"
    )
    assert rendered.text == 'abA<"'
    assert [e["type"] for e in rendered.entities] == [
        "spoiler",
        "spoiler",
        "expandable_blockquote",
    ]


@pytest.mark.parametrize(
    ("source", "detail"),
    [
        ('<span class="other">x</span>', 'Unsupported start tag "span"'),
        ("<b>x", 'Can\'t find end tag corresponding to start tag "b"'),
        ("x</i>", "Unexpected end tag at byte offset 1"),
        ("<code><b>x</b></code>", "Entities can't be nested in pre or code"),
        ("<blockquote><blockquote>x</blockquote></blockquote>", "can't be nested"),
        ("é <br>", 'Unsupported start tag "br" at byte offset 3'),
    ],
)
def test_refusals_name_the_problem(source: str, detail: str) -> None:
    with pytest.raises(ApiError) as refused:
        parse_html(source)
    assert refused.value.code == 400
    assert refused.value.description.startswith("Bad Request: can't parse entities: ")
    assert detail in refused.value.description


def test_markdown_and_plain_text_pass_through() -> None:
    assert render("*bold* <x>", "MarkdownV2").text == "*bold* <x>"
    assert render("<b>x</b>", None).entities == []
