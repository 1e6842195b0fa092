"""Organisations' descriptions travel in bundles: exported, imported, passed on, merged by sync,
under the rules of the other free text; bundles of older releases without them still import."""

from __future__ import annotations

import io
import json

import pytest
from sqlalchemy import func, select

from innoplat.core.errors import ValidationError
from innoplat.core.models import City, Idea, Organisation
from innoplat.core.services import cities, exchange
from innoplat.core.testing import with_demo_ideas

PERSONAL = "Kontakta anna.svensson@example.org eller ring 070-123 45 67."


@pytest.fixture
def bundle(export_demo_kiruna):
    return export_demo_kiruna(30, 5)


def _url(platform) -> str:
    return platform.engine.url.render_as_string(hide_password=False)


def _descriptions(instance, slug: str) -> dict[str, dict[str, str]]:
    """The organisations' descriptions of a city as stored, by key."""
    with instance.transaction() as session:
        city_id = session.scalar(select(City.id).where(City.slug == slug))
        return dict(
            session.execute(
                select(Organisation.key, Organisation.description).where(
                    Organisation.city_id == city_id
                )
            )
            .tuples()
            .all()
        )


def _refused(instance, source) -> ValidationError:
    with pytest.raises(ValidationError) as error, instance.transaction() as session:
        exchange.import_bundle(session, source, source="test")
    with instance.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Idea)) == 0
        assert session.scalar(select(City).where(City.slug == "kiruna")) is None
    return error.value


def test_descriptions_are_exported_imported_and_passed_on(bundle, lund, innoplat, tmp_path):
    """Kiruna's organisations keep their descriptions on Lund's instance and in the bundle
    Lund passes on (``innoplat export --city kiruna``)."""
    assert bundle["minor_version"] == exchange.MINOR_VERSION == 1
    described = {o["key"]: o["description"] for o in bundle["organisations"] if o["description"]}
    assert described["kiruna-kommun"]["en"].startswith("Project owner of Innovationsplattform")
    with lund.transaction() as session:
        assert exchange.import_bundle(session, bundle, source="test").action == "imported"
    stored = _descriptions(lund, "kiruna")
    assert {k: v for k, v in stored.items() if v} == described

    passed_on = tmp_path / "kiruna.json"
    code, _, err = innoplat("export", "--city", "kiruna", "-o", str(passed_on), "--db", _url(lund))
    assert code == 0, err
    again = json.loads(passed_on.read_text(encoding="utf-8"))
    assert again == bundle  # descriptions included


def test_personal_data_in_a_description_is_redacted_on_export(platform):
    with platform.transaction() as session:
        city = platform.city_row(session)
        org = session.scalar(
            select(Organisation).where(
                Organisation.city_id == city.id, Organisation.key == "kiruna-kommun"
            )
        )
        org.description = {"sv": PERSONAL, "en": "No contact details here."}
    with platform.transaction() as session:
        city = platform.city_row(session)
        bundle = exchange.export_city(session, city)
        streamed = b"".join(exchange.byte_chunks(session, city)).decode()
    record = next(o for o in bundle["organisations"] if o["key"] == "kiruna-kommun")
    assert record["description"] == {
        "sv": "Kontakta [redacted] eller ring [redacted].",
        "en": "No contact details here.",
    }
    assert json.loads(streamed)["organisations"] == bundle["organisations"]
    for detail in ("example.org", "070-123"):
        assert detail not in streamed


def test_an_export_stops_at_a_description_its_siblings_would_refuse(platform, innoplat, tmp_path):
    """city.toml may give a NUL (TOML's ``\\u0000``): the export stops with the importer's
    one line instead of handing siblings a bundle they refuse; no file is left."""
    with platform.transaction() as session:
        city = platform.city_row(session)
        org = session.scalar(
            select(Organisation).where(
                Organisation.city_id == city.id, Organisation.key == "kiruna-kommun"
            )
        )
        org.description = {"sv": "Kommun\x00bolag"}
    with platform.transaction() as session, pytest.raises(ValidationError) as error:
        exchange.export_city(session, platform.city_row(session))
    index = error.value.field.removeprefix("$.organisations[").partition("]")[0]
    assert error.value.field == f"$.organisations[{index}].description.sv"
    assert "NUL" in error.value.message

    out = tmp_path / "kiruna.json"
    code, _, err = innoplat("export", "--city", "kiruna", "-o", str(out), "--db", _url(platform))
    assert code != 0 and not out.exists()
    assert f"$.organisations[{index}].description.sv" in err and "Traceback" not in err


def test_personal_data_in_a_description_is_redacted_on_import(bundle, lund, innoplat, tmp_path):
    """A sibling on an older release may not redact: the import does, says so, and the
    detail is neither stored nor passed on."""
    bundle["organisations"][1]["description"] = {"sv": PERSONAL}
    path = tmp_path / "kiruna.json"
    path.write_text(exchange.dumps(bundle), encoding="utf-8")
    code, out, err = innoplat("import", str(path), "--unsigned", "--db", _url(lund))
    assert code == 0 and "as a read-only peer" in out
    assert "redacted from 1 texts" in err
    key = bundle["organisations"][1]["key"]
    assert _descriptions(lund, "kiruna")[key] == {
        "sv": "Kontakta [redacted] eller ring [redacted]."
    }
    with lund.transaction() as session:
        again = exchange.dumps(exchange.export_city(session, cities.get_city(session, "kiruna")))
    assert "example.org" not in again and "070-123" not in again


@pytest.mark.parametrize(
    ("raw", "rule"),
    [('"Kommun\\u0000bolag"', "NUL"), ('"' + "x" * 100_001 + '"', "is too long")],
    ids=["nul", "too-long"],
)
def test_a_description_breaking_the_text_rules_is_refused_with_its_path(bundle, lund, raw, rule):
    bundle["organisations"][2]["description"] = {"sv": "ok", "en": "PLACEHOLDER"}
    text = exchange.dumps(bundle).encode().replace(b'"PLACEHOLDER"', raw.encode())
    error = _refused(lund, io.BytesIO(text))
    assert error.field == "$.organisations[2].description.en"
    assert rule in error.message


def test_a_description_that_is_not_translated_text_is_refused(bundle, lund):
    bundle["organisations"][0]["description"] = "Kiruna kommun"
    error = _refused(lund, bundle)
    assert error.field == "$.organisations[0].description" and "object" in error.message


def test_a_bundle_of_an_older_release_without_descriptions_imports(bundle, lund):
    """Minor version 0 had no descriptions: read as empty ones, the same bundle again is
    'unchanged', and it is passed on in this release's form."""
    del bundle["minor_version"]
    for organisation in bundle["organisations"]:
        del organisation["description"]
    with lund.transaction() as session:
        result = exchange.import_bundle(session, exchange.dumps(bundle).encode(), source="old")
    assert result.action == "imported" and result.ideas == len(bundle["ideas"])
    stored = _descriptions(lund, "kiruna")
    assert len(stored) == len(bundle["organisations"]) and all(d == {} for d in stored.values())
    with lund.transaction() as session:
        assert exchange.import_bundle(session, bundle, source="old").action == "unchanged"
        again = exchange.export_city(session, cities.get_city(session, "kiruna"))
    assert again["minor_version"] == exchange.MINOR_VERSION
    assert [o["description"] for o in again["organisations"]] == [{}] * len(bundle["organisations"])
    assert [{k: v for k, v in o.items() if k != "description"} for o in again["organisations"]] == (
        bundle["organisations"]
    )


def test_sync_merges_a_changed_description_and_a_repeat_is_unchanged(make_instance):
    lund = with_demo_ideas(make_instance("lund"), 20)
    hub = make_instance("kiruna")
    with lund.transaction() as session:
        full = b"".join(exchange.byte_chunks(session, lund.city_row(session)))
    with hub.transaction() as session:
        exchange.import_bundle(session, full, source="test")
    moment = exchange.loads(full)["exported_at"]
    since = exchange.parse_since(moment)

    key = exchange.loads(full)["organisations"][0]["key"]
    with lund.transaction() as session:
        city = lund.city_row(session)
        org = session.scalar(
            select(Organisation).where(Organisation.city_id == city.id, Organisation.key == key)
        )
        org.description = {"sv": "Ny beskrivning.", "en": "A new description."}
    with lund.transaction() as session:
        partial = b"".join(exchange.byte_chunks(session, lund.city_row(session), since=since))
    assert exchange.loads(partial)["ideas"] == []  # only the organisation changed
    with hub.transaction() as session:
        merged = exchange.merge_changes(session, partial, source="test")
    assert merged.action == "updated"
    assert _descriptions(hub, "lund")[key] == {"sv": "Ny beskrivning.", "en": "A new description."}

    with hub.transaction() as session:
        again = exchange.merge_changes(session, partial, source="test")
    assert again.action == "unchanged"
    assert _descriptions(hub, "lund")[key] == {"sv": "Ny beskrivning.", "en": "A new description."}
