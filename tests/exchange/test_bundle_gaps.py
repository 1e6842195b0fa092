"""Hostile and careless bundles: each gap closed with one clear line and nothing written.

Also the version policy (a newer minor version is read, a newer major version refused), the
personal data redacted on the way out and in, and the services refusing locally what the
importer refuses from a sibling.
"""

from __future__ import annotations

import copy
import io
import json
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from innoplat.core.errors import ValidationError
from innoplat.core.models import City, Idea, utcnow
from innoplat.core.services import cities, exchange, ideas, methods


@pytest.fixture
def bundle(export_demo_kiruna):
    return export_demo_kiruna(60, 5)


def _refused(instance, source) -> ValidationError:
    with pytest.raises(ValidationError) as error, instance.transaction() as session:
        exchange.import_bundle(session, source, source="test")
    with instance.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Idea)) == 0
        assert session.scalar(select(City).where(City.slug == "kiruna")) is None
    return error.value


def _text(bundle) -> bytes:
    return exchange.dumps(bundle).encode()


# --------------------------------------------------------------------------- nesting and sizes


def test_json_nested_100000_deep_is_one_clear_line_not_a_recursion_error(lund):
    deep = b"[" * 100_000 + b"]" * 100_000
    with pytest.raises(ValidationError) as error:
        exchange.loads(deep, source="deep.json")
    assert "a bundle is a JSON object" in error.value.message
    nested = b'{"format":"innoplat-exchange","x":' + deep + b"}"
    error = _refused(lund, io.BytesIO(nested))
    assert error.field == "$.x" and "nested too deep" in error.message


def test_deep_nesting_inside_a_record_is_refused_with_its_list(bundle, lund):
    text = _text(bundle)
    deep = b'"description":' + b"[" * 100_000 + b"]" * 100_000
    text = text.replace(b'"description":"', deep + b',"was":"', 1)
    error = _refused(lund, io.BytesIO(text))
    assert error.field == "$.ideas" and "nested too deep" in error.message


def test_an_overlong_text_is_refused(bundle, lund):
    bundle["ideas"][0]["description"] = "x" * 100_001
    error = _refused(lund, bundle)
    assert error.field == "$.ideas[0].description" and "is too long" in error.message


# --------------------------------------------------------------------------- text rules


@pytest.mark.parametrize(
    ("raw", "where"),
    [
        ('"Sn\\u00f6\\u0000r\\u00f6jning"', "$.ideas[0].title"),
        ('"Sn\\ud800r\\u00f6jning"', "$.ideas[0].title"),
    ],
    ids=["nul", "lone-surrogate"],
)
def test_text_both_databases_cannot_store_alike_is_refused(bundle, lund, raw, where):
    """A NUL was accepted on SQLite and crashed PostgreSQL; a lone surrogate turned into '?'."""
    bundle["ideas"][0]["title"] = "PLACEHOLDER"
    text = _text(bundle).replace(b'"PLACEHOLDER"', raw.encode())
    error = _refused(lund, io.BytesIO(text))
    assert error.field == where
    assert ("NUL" in error.message) if "u0000" in raw else ("surrogate" in error.message)


def test_a_surrogate_pair_is_an_ordinary_character(bundle, lund):
    bundle["ideas"][0]["title"] = "PLACEHOLDER"
    text = _text(bundle).replace(b'"PLACEHOLDER"', b'"Sn\\u00f6 \\ud83d\\ude00"')
    with lund.transaction() as session:
        exchange.import_bundle(session, io.BytesIO(text), source="test")
    with lund.transaction() as session:
        assert session.scalar(select(Idea.title).where(Idea.title.like("Snö %"))) == "Snö 😀"


def test_the_services_refuse_the_same_text(platform):
    with platform.transaction() as session, pytest.raises(ValidationError) as error:
        ideas.submit_idea(session, platform.city_row(session), title="Snö\x00röjning")
    assert error.value.field == "title" and "NUL" in error.value.message


# --------------------------------------------------------------------------- personal data


PERSONAL = (
    "Kontakta anna.svensson@example.org eller ring 070-123 45 67 (+46 70 123 45 67). "
    "Personnummer 19121212-1212."
)


def test_personal_data_is_redacted_on_export(platform):
    with platform.transaction() as session:
        idea = ideas.submit_idea(
            session,
            platform.city_row(session),
            title="Mejla mig: idé@example.org",
            description=PERSONAL,
        )
        reference = idea.reference
    with platform.transaction() as session:
        bundle = exchange.export_city(session, platform.city_row(session))
    record = next(i for i in bundle["ideas"] if i["reference"] == reference)
    assert record["title"] == "Mejla mig: [redacted]"
    assert record["description"] == (
        "Kontakta [redacted] eller ring [redacted] ([redacted]). Personnummer [redacted]."
    )
    text = exchange.dumps(bundle)
    for detail in ("example.org", "070-123", "123 45 67", "19121212"):
        assert detail not in text


def test_personal_data_is_redacted_on_import_and_not_passed_on(bundle, lund):
    bundle["ideas"][0]["description"] = PERSONAL
    bundle["ideas"][1]["summary"] = "Ring 0980-123 45"
    with lund.transaction() as session:
        result = exchange.import_bundle(session, bundle, source="test")
    assert result.redacted == 2
    with lund.transaction() as session:
        again = exchange.export_city(session, cities.get_city(session, "kiruna"))
    assert "example.org" not in exchange.dumps(again)
    assert again["ideas"][1]["summary"] == "Ring [redacted]"


def test_numbers_that_are_not_personal_data_stay(platform):
    text = "Budget 1 200 000 kr, KIR-2026-0042, 2026-01-15, postnummer 981 31, order 1234567890."
    assert exchange.redact(text) == text


# --------------------------------------------------------------------------- links


def test_a_new_shared_method_with_a_javascript_link_is_refused(bundle, lund):
    method = {**bundle["methods"][0], "key": "zz_evil", "shared_key": "zz_evil", "local": False}
    method["reference"] = "javascript:alert(document.cookie)"
    bundle["methods"].append(method)
    error = _refused(lund, bundle)
    assert error.field == f"$.methods[{len(bundle['methods']) - 1}].reference"


def test_a_website_must_be_a_web_address(bundle, lund):
    bundle["city"]["website"] = "data:text/html,<script>alert(1)</script>"
    assert _refused(lund, bundle).field == "$.city.website"


# --------------------------------------------------------------------------- the clock


def test_a_bundle_from_the_future_is_refused(bundle, lund):
    """A bundle dated 2099 was accepted and then locked out every genuine update."""
    bundle["exported_at"] = "2099-01-01T00:00:00.000000Z"
    error = _refused(lund, bundle)
    assert error.field == "$.exported_at" and "lies in the future" in error.message
    assert "tolerance 1 hour" in error.message


def test_a_bundle_within_the_tolerance_is_accepted(bundle, lund):
    bundle["exported_at"] = exchange.datetime_text(utcnow() + timedelta(minutes=30))
    with lund.transaction() as session:
        assert exchange.import_bundle(session, bundle).action == "imported"


def test_a_transition_before_the_submission_is_refused(bundle, lund):
    """It gave negative days in compare."""
    first = bundle["transitions"][0]
    idea = next(i for i in bundle["ideas"] if i["reference"] == first["idea"])
    first["at"] = "2001-01-01T00:00:00.000000Z"
    assert idea["submitted_at"] > first["at"]
    error = _refused(lund, bundle)
    assert error.field == "$.transitions[0].at" and "before the idea was submitted" in error.message


def test_a_record_after_the_export_is_refused(bundle, lund):
    bundle["ideas"][0]["updated_at"] = "2026-06-01T00:00:00.000000Z"
    bundle["exported_at"] = "2026-02-01T00:00:00.000000Z"
    error = _refused(lund, bundle)
    assert (
        error.field == "$.ideas[0].updated_at" and "after the bundle was exported" in error.message
    )


def test_the_services_refuse_the_same_times(platform):
    with platform.transaction() as session:
        city = platform.city_row(session)
        with pytest.raises(ValidationError) as error:
            ideas.submit_idea(
                session, city, title="Från framtiden", submitted_at=datetime(2099, 1, 1)
            )
        assert error.value.field == "submitted_at"
        idea = ideas.submit_idea(
            session, city, title="Snöröjning", submitted_at=datetime(2025, 3, 1)
        )
        with pytest.raises(ValidationError) as error:
            ideas.move_idea(session, idea, "bedomning", at=datetime(2025, 2, 1))
        assert error.value.field == "at" and "submission" in error.value.message
        with pytest.raises(ValidationError) as error:
            ideas.move_idea(session, idea, "bedomning", at=datetime(2099, 2, 1))
        assert error.value.field == "at" and "future" in error.value.message
        ideas.move_idea(session, idea, "bedomning", at=datetime(2025, 4, 1))
        with pytest.raises(ValidationError) as error:
            ideas.move_idea(session, idea, "utveckling", at=datetime(2025, 3, 15))
        assert "last move" in error.value.message


def test_the_services_refuse_a_duplicate_method_application(platform):
    with platform.transaction() as session:
        idea = ideas.submit_idea(session, platform.city_row(session), title="Snöröjning")
        day = date(2025, 5, 1)
        methods.apply_method(session, idea, "living_lab", started_on=day)
        with pytest.raises(ValidationError) as error:
            methods.apply_method(session, idea, "living_lab", started_on=day)
        assert error.value.field == "method" and "already has" in error.value.message
        methods.apply_method(session, idea, "living_lab", started_on=date(2025, 9, 1))


# --------------------------------------------------------------------------- one pass, versions


def test_lists_out_of_order_are_refused_with_the_order(bundle, lund):
    reordered = {k: bundle[k] for k in ("format", "version", "exported_at", "city", "ideas")}
    reordered.update({k: v for k, v in bundle.items() if k not in reordered})
    error = _refused(lund, reordered)
    assert error.field == "$" and "'stages'" in error.message


def test_a_refusal_at_the_last_record_of_a_streamed_file_leaves_nothing(bundle, lund, tmp_path):
    bundle["participations"][-1]["role"] = "overlord"
    path = tmp_path / "kiruna.json"
    path.write_bytes(_text(bundle))
    with path.open("rb") as stream:
        error = _refused(lund, stream)
    assert error.field == f"$.participations[{len(bundle['participations']) - 1}].role"


def test_a_newer_minor_version_is_read_and_its_new_fields_ignored(bundle, lund):
    del bundle["minor_version"]
    bundle = {"format": bundle.pop("format"), "version": 1, "minor_version": 3, **bundle}
    bundle["signature_hint"] = {"added": "in 1.3"}
    bundle["ideas"][0]["impact_score"] = 7
    bundle["city"]["mascot"] = "ren"
    text = _text(bundle)
    # A new field's value may come after the lists too; it is skipped like any unknown field.
    text = text[:-1] + b',"trailer":{"x":[1,2,3]}}'
    with lund.transaction() as session:
        result = exchange.import_bundle(session, io.BytesIO(text), source="test")
    assert result.action == "imported" and result.ideas == len(bundle["ideas"])
    with lund.transaction() as session:
        again = exchange.export_city(session, cities.get_city(session, "kiruna"))
    assert "impact_score" not in again["ideas"][0] and "mascot" not in again["city"]
    assert again["minor_version"] == exchange.MINOR_VERSION and again["version"] == 1


def test_a_newer_major_version_is_refused_with_a_clear_message(bundle, lund):
    bundle["version"] = 2
    bundle["ideas"][0]["title"] = {"sv": "Ny form i version 2"}
    error = _refused(lund, bundle)
    assert error.field == "$.version"
    assert error.message == (
        "this bundle is in version 2 of the exchange format; this innoplat reads version 1 "
        "(any minor version): upgrade innoplat to import it"
    )


def test_a_version_that_is_not_a_major_version_number_is_refused(bundle, lund):
    bundle["version"] = "1.1"
    assert "integer" in _refused(lund, bundle).message


def test_an_export_is_one_record_per_line_and_reads_back(platform):
    with platform.transaction() as session:
        text = "".join(exchange.chunks(session, platform.city_row(session)))
    lines = text.splitlines()
    assert len(lines) > 5 and json.loads(text)["format"] == "innoplat-exchange"
    assert exchange.loads(text) == json.loads(text)


class _ShortReads(io.RawIOBase):
    """A stream that hands over at most ``size`` bytes a read, as a network response may."""

    def __init__(self, data: bytes, size: int) -> None:
        self.data, self.size, self.at = data, size, 0

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        piece = self.data[self.at : self.at + min(self.size, n if n >= 0 else self.size)]
        self.at += len(piece)
        return piece


@pytest.mark.parametrize("size", [97, 1000, 4093])
def test_a_bundle_reads_the_same_wherever_its_blocks_are_cut(bundle, size):
    """Regression: a block ending inside ``true`` or ``null`` was refused as not JSON."""
    text = json.dumps(bundle, ensure_ascii=False).encode()
    assert exchange.loads(_ShortReads(text, size)) == bundle


def test_a_block_cut_inside_a_literal_or_a_number_reads_on(bundle):
    """Regression: a number cut by the block's end was read as its first digits."""
    bundle["city"]["population"] = 23167
    text = json.dumps(bundle, ensure_ascii=False).encode()
    population = b'"population": 23167'
    for cut in (
        text.index(b"true") + 2,
        text.index(b"null") + 2,
        text.index(population) + len(population) - 2,
    ):
        assert exchange.loads(_ShortReads(text, cut)) == bundle


def _lines(bundle) -> bytes:
    """The bundle one record per line, as an export writes it."""
    out = ["{"]
    fields = [k for k in bundle if not isinstance(bundle[k], list)]
    lists = [k for k in bundle if isinstance(bundle[k], list)]
    parts = [json.dumps(k) + ":" + json.dumps(bundle[k], ensure_ascii=False) for k in fields]
    for k in lists:
        records = ",\n".join(json.dumps(r, ensure_ascii=False) for r in bundle[k])
        parts.append(json.dumps(k) + ":[\n" + records + "]")
    out.append(",\n".join(parts))
    out.append("}\n")
    return "".join(out).encode()


@pytest.mark.parametrize("size", [97, 1000, 4093, 1 << 20])
@pytest.mark.parametrize("newline", ["\n", "\r\n", "\n  "], ids=["lf", "crlf", "indented"])
def test_a_bundle_one_record_per_line_reads_the_same_wherever_its_blocks_are_cut(
    bundle, size, newline
):
    """Records on lines of their own are read by the fast path; any other layout, and a line
    cut by a block's end, by the careful one, to the same values."""
    text = _lines(bundle).replace(b"\n", newline.encode())
    assert exchange.loads(_ShortReads(text, size)) == bundle


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b'"Sn\\ud800r\\u00f6jning"', "surrogate"),
        (b'"Sn\\u0000r\\u00f6jning"', "NUL"),
    ],
    ids=["lone-surrogate", "nul"],
)
def test_a_record_on_its_own_line_that_orjson_refuses_is_judged_as_before(
    bundle, lund, raw, message
):
    """orjson refuses a lone surrogate that the standard decoder reads: the record is then
    read by the standard decoder and refused by the text rule, naming the field."""
    bundle["ideas"][1]["title"] = "PLACEHOLDER"
    text = _lines(bundle).replace(b'"PLACEHOLDER"', raw)
    error = _refused(lund, io.BytesIO(text))
    assert error.field == "$.ideas[1].title" and message in error.message


def test_a_line_with_two_records_or_a_number_beyond_64_bits_reads_as_json_says(bundle):
    bundle["ideas"][0]["sdgs"] = [2**70]  # refused by the schema later, read as it is here
    text = _lines(bundle).replace(b"},\n{", b"}, {", 3)
    assert exchange.loads(_ShortReads(text, 1 << 20)) == bundle


@pytest.mark.parametrize("size", [4093, 1 << 20])
def test_records_that_span_lines_ending_in_commas_read_as_json_says(bundle, size):
    """Many whole lines are decoded at once: a record broken after a comma inside it, so that
    every line still ends in one, is read whole (not as two records)."""
    text = _lines(bundle).replace(b', "title": ', b',\n"title": ')
    assert text.count(b',\n"title": ') == len(bundle["ideas"]) > 1
    assert exchange.loads(_ShortReads(text, size)) == bundle


def test_a_comma_before_the_end_of_a_list_is_still_not_json(bundle, lund):
    text = _lines(bundle).replace(b"}],\n", b"},\n],\n", 1)
    error = _refused(lund, io.BytesIO(text))
    assert error.field == "$" and "not JSON" in error.message


@pytest.mark.parametrize("size", [4093, 1 << 20])
def test_a_list_longer_than_one_decoding_reads_whole(bundle, size):
    """Lines are decoded 256 KiB at a time: a list of several such stretches reads in order."""
    idea = bundle["ideas"][0]
    bundle["ideas"] = [
        {**idea, "reference": f"KIR-2026-{n:05d}", "summary": "Snö " * 40} for n in range(3_000)
    ]
    text = _lines(bundle)
    assert len(text) > 4 * 256 * 1024
    assert exchange.loads(_ShortReads(text, size)) == bundle


# --------------------------------------------------------------------------- the search index


def test_imported_ideas_are_searchable_after_the_bulk_load_and_after_an_update(bundle, lund):
    """On SQLite the search index is built once after the load, not by the per-row trigger."""
    from innoplat.core.services.ideas import IdeaFilter

    bundle["ideas"][0]["title"] = "Snöskoterled till Jukkasjärvi"

    def hits(word):
        with lund.transaction() as session:
            peer = cities.get_city(session, "kiruna")
            return [
                i.reference for i in ideas.list_ideas(session, peer, IdeaFilter(text=word), limit=5)
            ]

    with lund.transaction() as session:
        exchange.import_bundle(session, bundle, source="test")
    assert hits("Jukkasjärvi") == [bundle["ideas"][0]["reference"]]
    newer = copy.deepcopy(bundle)
    newer["exported_at"] = exchange.datetime_text(utcnow())
    newer["ideas"][0]["title"] = "Hundspann till Abisko"
    with lund.transaction() as session:
        assert exchange.import_bundle(session, newer, source="test").action == "updated"
    assert hits("Jukkasjärvi") == []
    assert hits("Abisko") == [bundle["ideas"][0]["reference"]]
    with lund.transaction() as session:  # the trigger is back: an idea made here is indexed
        ideas.submit_idea(session, lund.city_row(session), title="Isbana vid Abisko")
    with lund.transaction() as session:
        own = [
            i.title
            for i in ideas.list_ideas(session, lund.city_row(session), IdeaFilter(text="Isbana"))
        ]
    assert own == ["Isbana vid Abisko"]
