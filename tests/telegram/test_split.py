from hedging.telegram.notifier import MESSAGE_LIMIT, split_message
from hedging.telegram.simulator import parse_html


def assert_parts_valid(text: str, parts: list[str]) -> None:
    assert len(parts) > 1
    for part in parts:
        assert len(part) < 4096
        parse_html(part)  # raises if a tag or an entity was cut
    assert "".join(parse_html(p) for p in parts) == parse_html(text)


def test_short_text_is_one_part():
    assert split_message("<b>hi</b>") == ["<b>hi</b>"]


def test_10000_chars_split_on_lines_each_part_parses():
    line = "<b>NIFTY</b> CE 25400 &amp; PE 24200 — &lt;P&amp;1&gt; paid ₹1,830.50\n"
    text = line * (10_000 // len(line) + 1)
    assert len(text) > 10_000
    parts = split_message(text)
    assert_parts_valid(text, parts)
    assert all(part.endswith("\n") for part in parts[:-1])  # cut on line boundaries


def test_tag_spanning_lines_is_closed_and_reopened():
    text = "<blockquote><i>" + "a line of text\n" * 600 + "</i></blockquote>"
    parts = split_message(text)
    assert_parts_valid(text, parts)
    assert parts[1].startswith("<blockquote><i>")
    assert parts[0].endswith("</i></blockquote>")


def test_one_long_line_splits_between_words_never_inside_an_entity():
    text = "<b>" + "word &amp; " * 2000 + "</b>"
    parts = split_message(text)
    assert_parts_valid(text, parts)
    assert all(len(p) <= MESSAGE_LIMIT for p in parts)


def test_a_word_longer_than_a_message_is_cut():
    text = "x" * 9000
    parts = split_message(text)
    assert_parts_valid(text, parts)
