"""Exchange bundles: export, import as a read-only peer, updates in place, refusals that write nothing."""

from __future__ import annotations

import copy
import io
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from innoplat.core.errors import ReadOnlyError, ValidationError
from innoplat.core.models import City, Idea
from innoplat.core.services import actors, cities, comparison, exchange, ideas, methods
from innoplat.core.services.exchange import export
from innoplat.core.services.ideas import Submitter
from innoplat.core.testing import with_demo_ideas

DOCS = Path(__file__).resolve().parents[2] / "docs"


@pytest.fixture
def kiruna_bundle(export_demo_kiruna):
    """Kiruna with 200 synthetic ideas, as a bundle this test may change."""
    return export_demo_kiruna(200, 3)


@pytest.fixture
def kiruna_with_data(platform):
    """This test's own Kiruna instance with synthetic ideas, and its bundle."""
    with_demo_ideas(platform, 200, seed=3)
    with platform.transaction() as session:
        return platform, exchange.export_city(session, platform.city_row(session))


def _import(instance, bundle, source="kiruna.json"):
    with instance.transaction() as session:
        return exchange.import_bundle(session, bundle, source=source)


def _export(instance, slug):
    with instance.transaction() as session:
        return exchange.export_city(session, cities.get_city(session, slug))


def _idea_count(instance):
    with instance.transaction() as session:
        return session.scalar(select(func.count()).select_from(Idea))


def test_export_import_export_is_identical(kiruna_bundle, lund):
    result = _import(lund, kiruna_bundle)
    assert result.action == "imported" and result.ideas == len(kiruna_bundle["ideas"]) > 0
    assert _export(lund, "kiruna") == kiruna_bundle


def test_a_bundle_holds_only_public_ideas_and_validates(kiruna_with_data):
    platform, kiruna_bundle = kiruna_with_data
    exchange.validate_bundle(kiruna_bundle)
    with platform.transaction() as session:
        public = session.scalar(
            select(func.count()).select_from(Idea).where(Idea.visibility == "public")
        )
        internal = session.scalar(
            select(func.count()).select_from(Idea).where(Idea.visibility == "internal")
        )
    assert internal > 0 and len(kiruna_bundle["ideas"]) == public
    assert json.loads(exchange.dumps(kiruna_bundle)) == kiruna_bundle


def test_a_bundle_is_the_same_text_however_it_is_written_and_cut(
    kiruna_with_data, tmp_path, monkeypatch
):
    """The file (written as UTF-8 bytes), any other text stream and the pieces of the web
    answer hold the same text, whatever the size of the pieces; progress counts every idea."""
    platform, bundle = kiruna_with_data
    when = datetime(2026, 6, 2)
    with platform.transaction() as session:
        city = platform.city_row(session)
        whole = "".join(exchange.chunks(session, city, exported_at=when))
        monkeypatch.setattr(export, "PIECE_BYTES", 2_000)
        counted: list[int] = []
        pieces = list(exchange.chunks(session, city, exported_at=when, progress=counted.append))
        text = io.StringIO()
        exchange.write_bundle(session, city, text, exported_at=when)
        with (tmp_path / "kiruna.json").open("w", encoding="utf-8") as out:
            exchange.write_bundle(session, city, out, exported_at=when)
    assert len(pieces) > 100  # 185 ideas of ~1.5 KB each alone
    assert "".join(pieces) == whole == text.getvalue()
    assert (tmp_path / "kiruna.json").read_text(encoding="utf-8") == whole
    assert json.loads(whole) == {**bundle, "exported_at": exchange.datetime_text(when)}
    assert sum(counted) == len(bundle["ideas"])


def test_an_imported_peer_is_read_only_and_compared(kiruna_bundle, lund):
    _import(lund, kiruna_bundle)
    with lund.transaction() as session:
        peer = cities.get_city(session, "kiruna")
        assert peer.is_peer and peer.peer_source == "kiruna.json"
        idea = session.scalar(select(Idea).where(Idea.city_id == peer.id).limit(1))
        with pytest.raises(ReadOnlyError):
            ideas.move_idea(session, idea, "bedomning")
        with pytest.raises(ReadOnlyError):
            methods.apply_method(session, idea, "living_lab")
        with pytest.raises(ReadOnlyError):
            ideas.submit_idea(session, peer, title="Ny idé")
        rows = comparison.compare_methods(session, cities=["kiruna"], metrics=["ideas_with_method"])
    assert rows and {r["city"] for r in rows} == {"kiruna"}


def test_the_same_bundle_twice_changes_nothing(kiruna_bundle, lund):
    _import(lund, kiruna_bundle)
    before = _idea_count(lund)
    assert _import(lund, kiruna_bundle).action == "unchanged"
    assert _idea_count(lund) == before
    assert _export(lund, "kiruna") == kiruna_bundle


def test_a_newer_bundle_updates_the_peer_in_place(kiruna_bundle, lund):
    first = _import(lund, kiruna_bundle).city.id
    newer = copy.deepcopy(kiruna_bundle)
    newer["exported_at"] = exchange.datetime_text(datetime.now(UTC).replace(tzinfo=None))
    dropped = newer["ideas"].pop()["reference"]
    for part in ("transitions", "method_applications", "participations"):
        newer[part] = [r for r in newer[part] if r["idea"] != dropped]
    newer["ideas"][0]["title"] = "Uppdaterad titel"
    result = _import(lund, newer)
    assert result.action == "updated" and result.city.id == first
    assert _export(lund, "kiruna") == newer
    assert _idea_count(lund) == len(newer["ideas"])


def test_an_older_bundle_is_refused(kiruna_bundle, lund):
    _import(lund, kiruna_bundle)
    older = copy.deepcopy(kiruna_bundle)
    older["exported_at"] = "2001-01-01T00:00:00.000000Z"
    with pytest.raises(ValidationError) as error:
        _import(lund, older)
    assert error.value.field == "$.exported_at"


def test_the_instance_own_city_cannot_be_imported_over(kiruna_with_data):
    platform, kiruna_bundle = kiruna_with_data
    before = _idea_count(platform)
    with pytest.raises(ValidationError) as error:
        _import(platform, kiruna_bundle)
    assert error.value.field == "$.city.slug" and "own city" in error.value.message
    assert _idea_count(platform) == before


def test_a_reference_prefix_clash_is_refused(kiruna_bundle, lund):
    clash = copy.deepcopy(kiruna_bundle)
    clash["city"]["slug"] = "kiruna-kopia"
    clash["city"]["reference_prefix"] = "LUN"  # Lund's own prefix
    for idea in clash["ideas"]:
        idea["reference"] = "LUN" + idea["reference"][3:]
    for part in ("transitions", "method_applications", "participations"):
        for row in clash[part]:
            row["idea"] = "LUN" + row["idea"][3:]
    with pytest.raises(ValidationError) as error:
        _import(lund, clash)
    assert error.value.field == "$.city.reference_prefix" and "lund" in error.value.message
    assert _idea_count(lund) == 0


def _break(bundle, path, value):
    broken = copy.deepcopy(bundle)
    target = broken
    for part in path[:-1]:
        target = target[part]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return broken


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        (["version"], 2, "$.version"),
        (["format"], "something-else", "$.format"),
        (["ideas"], KeyError, "$"),
        (["ideas", 0, "title"], 42, "$.ideas[0].title"),
        (["ideas", 0, "title"], "", "$.ideas[0].title"),
        (["ideas", 0, "phase"], "daydreaming", "$.ideas[0].phase"),
        (["ideas", 0, "stage"], "no-such-stage", "$.ideas[0].stage"),
        (["ideas", 0, "submitted_at"], "2025-13-45T00:00:00Z", "$.ideas[0].submitted_at"),
        (["ideas", 1, "reference"], None, "$.ideas[1].reference"),
        (["transitions", 0, "idea"], "KIR-1999-9999", "$.transitions[0].idea"),
        (["method_applications", 0, "method"], "crystal_ball", "$.method_applications[0].method"),
        (["participations", 0, "role"], "overlord", "$.participations[0].role"),
        (["city", "reference_prefix"], "kir", "$.city.reference_prefix"),
    ],
)
def test_a_broken_bundle_is_refused_naming_the_field_and_nothing_is_written(
    kiruna_bundle, lund, path, value, field
):
    broken = _break(kiruna_bundle, path, value)
    if path == ["ideas", 1, "reference"]:
        broken["ideas"][1]["reference"] = broken["ideas"][0]["reference"]  # a duplicate
        field = "$.ideas[1].reference"
    with pytest.raises(ValidationError) as error:
        _import(lund, broken)
    assert error.value.field == field, error.value
    if value is KeyError:
        assert "ideas" in error.value.message
    assert _idea_count(lund) == 0
    with lund.transaction() as session:
        assert session.scalar(select(City).where(City.slug == "kiruna")) is None


def test_text_that_is_not_json_is_refused():
    with pytest.raises(ValidationError) as error:
        exchange.loads("{not json", source="lund.json")
    assert error.value.field == "$" and "lund.json is not JSON" in error.value.message


def test_no_name_or_email_of_a_person_ever_appears_in_a_bundle(platform):
    """Submitters, members, actors and notes stay home; organisations and public ideas travel."""
    with platform.transaction() as session:
        city = platform.city_row(session)
        person = actors.add_person(
            session, city, name="Petronella Qvist", email="petronella@example.org", consent=True
        )
        actors.add_membership(
            session, person, actors.get_organisation(session, city, "kiruna-kommun"), "arbetsgrupp"
        )
        idea = ideas.submit_idea(
            session, city, title="Snösmältning med spillvärme", owner_organisation="kiruna-kommun",
            submitter=Submitter(name="Ingegerd Wallin", email="ingegerd.wallin@example.org", consent=True),
            actor="Bertil Skoglund",
        )  # fmt: skip
        ideas.move_idea(
            session, idea, "bedomning", note="Ringde Ingegerd Wallin", actor="bertil@example.org"
        )
        application = methods.apply_method(
            session,
            idea,
            "living_lab",
            outcome_note="Petronella Qvist ledde",
            actor="Bertil Skoglund",
        )
        methods.record_outcome(
            session, application, "succeeded", ended_on=date.today() + timedelta(days=1)
        )
        ideas.submit_idea(
            session, city, title="Intern idé", visibility="internal",
            submitter=Submitter(name="Gunvor Hedlund", email="gunvor@example.org", consent=True),
        )  # fmt: skip
    with platform.transaction() as session:
        bundle = exchange.export_city(session, platform.city_row(session))
    text = exchange.dumps(bundle).lower()
    assert "snösmältning med spillvärme" in text  # the public idea travels
    for personal in (
        "petronella", "qvist", "ingegerd", "wallin", "bertil", "skoglund", "gunvor", "hedlund",
        "@example.org", "intern idé",
    ):  # fmt: skip
        assert personal not in text


def test_docs_hold_the_schema_the_code_validates_with():
    assert (
        json.loads((DOCS / "exchange.schema.json").read_text(encoding="utf-8")) == exchange.SCHEMA
    )


def test_every_schema_field_is_documented():
    text = (DOCS / "exchange.md").read_text(encoding="utf-8")
    fields = set(exchange.SCHEMA["properties"])
    for definition in exchange.SCHEMA["$defs"].values():
        fields |= set(definition["properties"])
    missing = sorted(f for f in fields if f"`{f}`" not in text)
    assert not missing
