"""One check per kind of value (innoplat.core.validation): what each accepts and refuses."""

from __future__ import annotations

import pytest

from innoplat.core import validation
from innoplat.core.errors import ValidationError
from innoplat.core.models import Account, AuditEvent, Idea, Organisation


@pytest.mark.parametrize(
    "address",
    [
        "anna@example.org\r\nBcc: everyone@example.org",
        "anna@example.org\nBcc: everyone@example.org",
        "anna @example.org",
        "anna@",
        "@example.org",
        "anna",
        "anna@example.invalid",
        "a" * 250 + "@example.org",
        "anna\x00@example.org",
    ],
)
def test_addresses_that_could_break_a_message_are_refused(address):
    """A line break can never reach an e-mail header: the address is refused, naming the field."""
    with pytest.raises(ValidationError) as refused:
        validation.email(address, "email")
    assert refused.value.field == "email"


def test_an_address_is_stored_without_surrounding_space_and_with_its_domain_lower_case():
    assert validation.email("  Anna.Pekkari@Example.ORG \n") == "Anna.Pekkari@example.org"
    assert validation.email("", "email") is None
    with pytest.raises(ValidationError):
        validation.email("", "email", required=True)


def test_text_lengths_come_from_the_model_columns():
    assert validation.column_length(Idea.title) == 200
    assert validation.column_length(AuditEvent.actor) == 200
    assert validation.column_length(Idea.description) is None
    validation.text("x" * 200, "title", column=Idea.title)
    with pytest.raises(ValidationError, match="201 characters long; at most 200"):
        validation.text("x" * 201, "title", column=Idea.title)
    assert validation.column_length(Organisation.website) == 300
    assert validation.column_length(Account.email) == 254


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("Snö\x00röjning", "NUL"),
        ("Snö\ud800röjning", "surrogate"),
        ("Snö\x1bröjning", "control character"),
    ],
)
def test_text_no_database_can_store_is_refused(value, problem):
    with pytest.raises(ValidationError, match=problem) as refused:
        validation.text(value, "title")
    assert refused.value.field == "title"


def test_line_breaks_are_allowed_only_in_multi_line_text():
    assert (
        validation.text("one\r\ntwo\tthree", "description", multiline=True) == "one\r\ntwo\tthree"
    )
    with pytest.raises(ValidationError):
        validation.text("one\ntwo", "title", multiline=False)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("3", 3), (" 12 ", 12), (7, 7), ("", None), (None, None)],
)
def test_whole_numbers(raw, expected):
    assert validation.integer(raw, "page", minimum=1) == expected


@pytest.mark.parametrize(
    "raw", ["²", "٣", "1.5", "1e3", "abc", True, 2.0, "9" * 30, "99999999999999999999", "-1", "0"]
)
def test_anything_but_an_ascii_whole_number_in_range_is_refused(raw):
    """Superscripts and other digits Python's int() or isdigit() accept are not page numbers."""
    with pytest.raises(ValidationError) as refused:
        validation.integer(raw, "page", minimum=1, maximum=validation.PAGE_MAX)
    assert refused.value.field == "page"


def test_page_numbers_default_to_one_and_stay_bounded():
    assert validation.page(None) == 1
    assert validation.page("4") == 4
    with pytest.raises(ValidationError, match="at most"):
        validation.page(str(2**64))


@pytest.mark.parametrize(
    "address",
    [
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        " javascript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox",
        "//evil.example",
        "https://",
        "http://exa mple.org",
        "ftp://example.org",
        "https://example.org/\nx",
    ],
)
def test_only_http_and_https_addresses_are_web_addresses(address):
    assert not validation.is_web_address(address)
    with pytest.raises(ValidationError):
        validation.url(address, "website")


def test_web_addresses_are_kept_as_given():
    assert validation.url(" https://www.ltu.se/forskning ", "website") == (
        "https://www.ltu.se/forskning"
    )
    assert validation.is_web_address("http://kiruna.se")


def test_a_value_listed_twice_is_refused():
    assert validation.distinct(["a", "b"], "focus_areas") == ["a", "b"]
    with pytest.raises(ValidationError, match="listed twice") as refused:
        validation.distinct(["a", "b", "a"], "focus_areas")
    assert refused.value.field == "focus_areas"


def test_json_nesting_is_bounded_without_recursion():
    deep: list = []
    node = deep
    for _ in range(100_000):
        node.append([])
        node = node[0]
    with pytest.raises(ValidationError, match="levels deep"):
        validation.json_depth(deep)
    assert validation.json_depth({"a": [[1]]}) == {"a": [[1]]}


def test_json_text_names_the_key_holding_bad_text():
    with pytest.raises(ValidationError) as refused:
        validation.json_text({"title": "ok", "summary": "bad\ud800"})
    assert refused.value.field == "summary"
