"""Prompt templates: parsing `{{name}}` placeholders and rendering the prompt
that generates one output (docs/dataflow.md, "A call fills a template")."""

from __future__ import annotations

import pytest

from dataflow.template import Slot, Template


def test_parsing_splits_text_and_placeholders_in_order() -> None:
    template = Template.parse("Summarize:\n{{chunk}}\nSummary: {{summary}}")
    assert template.pieces == ("Summarize:\n", Slot("chunk"), "\nSummary: ", Slot("summary"))


def test_placeholders_may_have_spaces_inside_the_braces() -> None:
    template = Template.parse("a {{ x }} b {{y   }} c {{\tz}}")
    assert template.pieces == ("a ", Slot("x"), " b ", Slot("y"), " c ", Slot("z"))


def test_a_template_without_placeholders_is_one_text_piece() -> None:
    assert Template.parse("just text").pieces == ("just text",)
    assert Template.parse("just text").names == []


def test_adjacent_placeholders_have_no_empty_text_between_them() -> None:
    assert Template.parse("{{a}}{{b}}").pieces == (Slot("a"), Slot("b"))


def test_braces_around_something_that_is_not_a_name_stay_text() -> None:
    template = Template.parse("{{1x}} {{a-b}} {x}")
    assert template.pieces == ("{{1x}} {{a-b}} {x}",)


def test_names_are_listed_once_in_order_of_first_appearance() -> None:
    template = Template.parse("{{b}} {{a}} {{b}} {{c}} {{a}}")
    assert template.names == ["b", "a", "c"]


def test_a_repeated_placeholder_is_a_slot_at_each_place() -> None:
    template = Template.parse("{{q}}? {{q}}!")
    assert template.pieces == (Slot("q"), "? ", Slot("q"), "!")


def test_render_until_fills_inputs_and_stops_before_the_output() -> None:
    template = Template.parse("Text: {{chunk}}\nSummary: {{summary}}")
    assert template.render_until("summary", {"chunk": "cats"}) == "Text: cats\nSummary: "


def test_render_until_fills_earlier_outputs() -> None:
    template = Template.parse("Q: {{q}}\nA: {{answer}}\nWhy: {{why}}")
    prompt = template.render_until("why", {"q": "2+2", "answer": "4"})
    assert prompt == "Q: 2+2\nA: 4\nWhy: "


def test_render_until_drops_the_text_after_the_output() -> None:
    template = Template.parse("Say hi: {{greeting}} (be polite) {{x}} trailing")
    assert template.render_until("greeting", {"x": "unused"}) == "Say hi: "


def test_render_until_fills_every_occurrence_of_a_repeated_input() -> None:
    template = Template.parse("{{q}} / {{q}} => {{out}}")
    assert template.render_until("out", {"q": "hey"}) == "hey / hey => "


def test_render_until_an_output_at_the_start_is_the_empty_prompt() -> None:
    assert Template.parse("{{out}} after").render_until("out", {}) == ""


def test_render_until_an_unknown_output_raises_key_error() -> None:
    template = Template.parse("a {{x}} b")
    with pytest.raises(KeyError):
        template.render_until("nope", {"x": "1"})


def test_render_until_a_missing_input_value_raises_key_error() -> None:
    template = Template.parse("{{x}} then {{out}}")
    with pytest.raises(KeyError, match="x"):
        template.render_until("out", {})
