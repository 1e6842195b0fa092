"""Incremental sync: ``/api/v1/exchange?since=`` serves what changed, sync merges it into the copy."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from urllib.parse import quote

import pytest
from flask import request
from sqlalchemy import delete, func, literal, select

from innoplat.core import models
from innoplat.core.errors import ValidationError
from innoplat.core.models import (
    City,
    Idea,
    IdeaFact,
    IdeaFocusArea,
    IdeaMethodFact,
    IdeaSdg,
    Method,
    MethodApplication,
    MethodApplicationOrganisation,
    Organisation,
    OrganisationKind,
    Participation,
    Peer,
    Stage,
    StageTransition,
    Visibility,
)
from innoplat.core.services import actors, exchange, ideas, methods, peers, signing
from innoplat.core.testing import with_demo_ideas
from innoplat.core.web import create_app
from tests.exchange.test_federation import ALLOW, _public, _submit, _url


def _public_ideas(platform) -> list[Idea]:
    with platform.transaction() as session:
        city = platform.city_row(session)
        return list(
            session.scalars(
                select(Idea)
                .where(Idea.city_id == city.id, Idea.visibility == Visibility.public)
                .order_by(Idea.reference)
            )
        )


def _change(platform) -> dict[str, str]:
    """One idea gains a partner, one a method, one is made internal, one is new: their references."""
    first, second, third = (i.reference for i in _public_ideas(platform)[:3])
    with platform.transaction() as session:
        city = platform.city_row(session)
        partnered = ideas.get_idea(session, first, city=city)
        taken = {p.organisation_id for p in partnered.participations}
        partner = session.scalar(
            select(Organisation.key)
            .where(Organisation.city_id == city.id, Organisation.id.not_in(taken))
            .order_by(Organisation.key)
            .limit(1)
        )
        actors.add_participation(session, partnered, partner, "partner")
        method = session.scalar(select(Method.key).where(Method.city_id.is_(None)).limit(1))
        methods.apply_method(
            session, ideas.get_idea(session, second, city=city), method, outcome="planned"
        )
        hidden = ideas.get_idea(session, third, city=city)
        ideas.update_idea(session, hidden, expected_version=hidden.version, visibility="internal")
    before = {i.reference for i in _public_ideas(platform)}
    _submit(platform)
    (new,) = {i.reference for i in _public_ideas(platform)} - before
    return {"partnered": first, "method": second, "hidden": third, "new": new}


def _comparable(bundle: dict) -> dict:
    """A bundle's content in an order-free form (the copy is stored in its own order)."""
    out = {}
    for section in exchange.SECTIONS:
        if section == "methods":
            continue  # the copy keeps the methods its ideas use; compared through the ideas
        out[section] = sorted(json.dumps(r, sort_keys=True) for r in bundle[section])
    out["city"] = bundle["city"]
    return out


# ----------------------------------------------------------------- the publisher


def test_since_serves_only_the_changed_ideas_and_every_public_reference(make_instance):
    """A partial bundle: the changed ideas with their records, the lists, all public references."""
    lund = with_demo_ideas(make_instance("lund"), 40)
    client = create_app(platform=lund, config={"TESTING": True}).test_client()
    assert client.get("/.well-known/innoplat-key").get_json()["changes_since"] is True
    full = client.get("/api/v1/exchange")
    assert full.headers["Innoplat-Changes"] == "since"
    whole = json.loads(full.get_data())
    moment = whole["exported_at"]
    before = {i.reference: (i.updated_at, i.version) for i in _public_ideas(lund)}

    changed = _change(lund)
    after = {i.reference: (i.updated_at, i.version) for i in _public_ideas(lund)}
    for name in ("partnered", "method"):  # touched, but a colleague's open edit is not stale
        reference = changed[name]
        assert after[reference][0] > before[reference][0]
        assert after[reference][1] == before[reference][1]

    answer = client.get("/api/v1/exchange?since=" + quote(moment))
    assert answer.status_code == 200 and answer.headers["Innoplat-Changes"] == "since"
    assert answer.headers["Content-Disposition"] == 'inline; filename="lund-changes.json"'
    with lund.transaction() as session:
        key = signing.public_key(session, lund.city_row(session))
    signing.verify(
        key,
        answer.headers["Innoplat-Signature"],
        signing.digest_of([answer.get_data()]),
        source="test",
    )
    partial = json.loads(answer.get_data())
    assert partial["format"] == "innoplat-exchange-changes"
    assert partial["since"] == moment
    expected = {changed["partnered"], changed["method"], changed["new"]}
    assert {i["reference"] for i in partial["ideas"]} == expected
    for section in ("transitions", "method_applications", "participations"):
        assert {r["idea"] for r in partial[section]} <= expected
    assert partial["stages"] == whole["stages"]
    assert partial["organisations"] == whole["organisations"]
    public = set(partial["public_references"])
    assert changed["hidden"] not in public and changed["new"] in public
    assert public == set(after)

    etag = answer.headers["ETag"]
    again = client.get("/api/v1/exchange?since=" + quote(moment), headers={"If-None-Match": etag})
    assert again.status_code == 304

    bad = client.get("/api/v1/exchange?since=yesterday")
    assert bad.status_code == 400
    assert bad.get_json()["error"]["field"] == "since"


def test_a_partial_bundle_is_not_imported_as_if_it_were_whole(make_instance, innoplat, tmp_path):
    """`innoplat import` of a partial bundle says what it is and imports nothing."""
    lund = with_demo_ideas(make_instance("lund"), 10)
    hub = make_instance("kiruna")
    client = create_app(platform=lund, config={"TESTING": True}).test_client()
    since = (datetime.now() - timedelta(days=1)).isoformat() + "Z"
    path = tmp_path / "lund-changes.json"
    path.write_bytes(client.get("/api/v1/exchange?since=" + quote(since)).get_data())
    code, _, err = innoplat("import", str(path), "--unsigned", "--db", _url(hub))
    assert code == 1
    assert err.strip() == (
        "Error: $.format: this is a partial bundle (only the changes since a moment): innoplat "
        "sync and innoplat pull merge it into a peer's copy; import a full bundle instead"
    )
    with hub.transaction() as session:
        assert session.scalar(select(City).where(City.slug == "lund")) is None


# ----------------------------------------------------------------- the receiver


def test_sync_fetches_only_the_changes_and_the_copy_stays_exact(
    make_instance, serve_platform, innoplat
):
    lund = with_demo_ideas(make_instance("lund"), 60)
    hub = make_instance("kiruna")
    app = create_app(platform=lund, config={"TESTING": True})
    asked: list[str] = []

    @app.before_request
    def note():
        if request.path == "/api/v1/exchange":
            asked.append(request.args.get("since", ""))

    url = serve_platform(lund, app)
    assert innoplat("peers", "add", url, "--db", _url(hub), *ALLOW)[0] == 0
    code, out, err = innoplat("sync", "--db", _url(hub))
    assert code == 0 and out.strip() == f"lund: imported, {_public(lund)} public ideas", err
    assert asked == [""]  # nothing here yet: the whole bundle

    with hub.transaction() as session:
        moment = session.scalar(select(City.peer_exported_at).where(City.slug == "lund"))
    since = exchange.since_text(moment - timedelta(minutes=10))  # the copy's moment, less overlap
    changed = _change(lund)
    code, out, err = innoplat("sync", "--db", _url(hub))
    assert code == 0, err
    assert out.strip() == (
        f"lund: updated, {_public(lund)} public ideas: 1 new, 2 updated, 1 withdrawn "
        f"(changes since {since})"
    )
    assert asked[-1] == since
    with hub.transaction() as session:
        copy = session.scalar(select(City).where(City.slug == "lund"))
        hidden = session.scalar(select(Idea).where(Idea.reference == changed["hidden"]))
        assert hidden is None  # withdrawn from the copy
        mine = _comparable(exchange.export_city(session, copy))
    with lund.transaction() as session:
        theirs = _comparable(exchange.export_city(session, lund.city_row(session)))
    assert mine == theirs

    code, out, _ = innoplat("sync", "--db", _url(hub))
    assert out.strip() == "lund: unchanged"


def test_a_peer_without_partial_bundles_is_pulled_whole(make_instance, serve_platform, innoplat):
    """An older sibling: it never offers changes, or refuses ``since`` with 400."""
    lund = with_demo_ideas(make_instance("lund"), 30)
    hub = make_instance("kiruna")
    app = create_app(platform=lund, config={"TESTING": True})
    asked: list[str] = []

    @app.before_request
    def refuse_since():
        if request.path == "/api/v1/exchange":
            asked.append(request.args.get("since", ""))
            if "since" in request.args:
                return {"error": {"message": "since: is not a parameter here"}}, 400
        return None

    @app.after_request
    def offer_nothing(response):
        response.headers.pop("Innoplat-Changes", None)
        return response

    url = serve_platform(lund, app)
    assert innoplat("peers", "add", url, "--db", _url(hub), *ALLOW)[0] == 0
    assert innoplat("sync", "--db", _url(hub))[0] == 0
    with hub.transaction() as session:
        assert session.scalar(select(Peer.changes_since)) is False  # learnt from the answer

    _submit(lund)
    code, out, err = innoplat("sync", "--db", _url(hub))
    assert code == 0, err
    assert (
        out.strip() == f"lund: updated, {_public(lund)} public ideas: 1 new, 0 updated, 0 withdrawn"
    )
    assert asked == ["", ""]

    with hub.transaction() as session:  # as if its well-known document claimed changes
        session.scalar(select(Peer)).changes_since = True
    _submit(lund)
    code, out, err = innoplat("sync", "--db", _url(hub))
    assert code == 0, err
    assert (
        out.strip() == f"lund: updated, {_public(lund)} public ideas: 1 new, 0 updated, 0 withdrawn"
    )
    assert asked[2] != "" and asked[3] == ""  # refused, then the whole bundle


def test_changes_that_do_not_fit_the_copy_are_mended_by_a_full_pull(
    make_instance, serve_platform, innoplat
):
    """A copy that lost a public idea the changes do not bring: the whole bundle restores it."""
    lund = with_demo_ideas(make_instance("lund"), 30)
    hub = make_instance("kiruna")
    url = serve_platform(lund)
    assert innoplat("peers", "add", url, "--db", _url(hub), *ALLOW)[0] == 0
    assert innoplat("sync", "--db", _url(hub))[0] == 0
    lost = _public_ideas(lund)[0].reference
    with hub.transaction() as session:
        idea_id = session.scalar(select(Idea.id).where(Idea.reference == lost))
        applications = select(MethodApplication.id).where(MethodApplication.idea_id == idea_id)
        session.execute(
            delete(MethodApplicationOrganisation).where(
                MethodApplicationOrganisation.method_application_id.in_(applications)
            )
        )
        for model in (MethodApplication, StageTransition, Participation, IdeaSdg, IdeaFocusArea):
            session.execute(delete(model).where(model.idea_id == idea_id))
        session.execute(delete(Idea).where(Idea.id == idea_id))
    _submit(lund)
    code, out, err = innoplat("sync", "--db", _url(hub))
    assert code == 0, err
    assert (
        out.strip() == f"lund: updated, {_public(lund)} public ideas: 2 new, 0 updated, 0 withdrawn"
    )
    with hub.transaction() as session:
        assert session.scalar(select(func.count(Idea.id)).where(Idea.reference == lost)) == 1


def test_changes_are_refused_whole_when_they_disagree_with_themselves(make_instance):
    """A changed idea missing from ``public_references``: one line, the copy untouched."""
    lund = with_demo_ideas(make_instance("lund"), 20)
    hub = make_instance("kiruna")
    client = create_app(platform=lund, config={"TESTING": True}).test_client()
    full = client.get("/api/v1/exchange").get_data()
    with hub.transaction() as session:
        exchange.import_bundle(session, full, source="test")
    moment = json.loads(full)["exported_at"]
    _submit(lund)
    partial = json.loads(client.get("/api/v1/exchange?since=" + quote(moment)).get_data())
    new = partial["ideas"][0]["reference"]
    partial["public_references"].remove(new)
    with pytest.raises(ValidationError) as refused, hub.transaction() as session:
        exchange.merge_changes(session, exchange.dumps(partial).encode(), source="test")
    assert str(refused.value) == f"$.ideas[0].reference: {new!r} is not among $.public_references"
    with hub.transaction() as session:
        assert session.scalar(select(func.count(Idea.id)).where(Idea.reference == new)) == 0

    with pytest.raises(ValidationError) as own, lund.transaction() as session:
        exchange.merge_changes(session, exchange.dumps(partial).encode(), source="test")
    assert str(own.value) == (
        "$.city.slug: 'lund' is this instance's own city: its data is edited here, not imported"
    )


def _copy_ids(platform, slug: str = "lund") -> dict[str, int]:
    with platform.transaction() as session:
        city_id = session.scalar(select(City.id).where(City.slug == slug))
        return dict(
            session.execute(select(Idea.reference, Idea.id).where(Idea.city_id == city_id))
            .tuples()
            .all()
        )


def _facts_of(platform, slug: str = "lund") -> list[tuple]:
    """The copy's per-idea facts by reference (ids differ from one instance to another)."""
    columns = [c for c in IdeaFact.__table__.c if c.key not in ("idea_id", "city_id")]
    method_columns = [c for c in IdeaMethodFact.__table__.c if c.key not in ("idea_id", "city_id")]
    with platform.transaction() as session:
        city_id = session.scalar(select(City.id).where(City.slug == slug))
        rows = [
            tuple(row)
            for table, picked in ((IdeaFact, columns), (IdeaMethodFact, method_columns))
            for row in session.execute(
                select(literal(table.__tablename__), Idea.reference, *picked)
                .join(Idea, Idea.id == table.idea_id)
                .where(Idea.city_id == city_id)
            )
        ]
    return sorted(rows, key=repr)


def test_changes_are_written_in_place_and_the_copy_equals_a_whole_import(make_instance):
    """Only the changed and withdrawn ideas are rewritten; the lists change where they stand;
    the result, facts included, is what importing the whole bundle gives."""
    lund = with_demo_ideas(make_instance("lund"), 40)
    hub, whole_import = make_instance("kiruna"), make_instance("kiruna")
    client = create_app(platform=lund, config={"TESTING": True}).test_client()
    full = client.get("/api/v1/exchange").get_data()
    with hub.transaction() as session:
        exchange.import_bundle(session, full, source="test")
    before = _copy_ids(hub)

    changed = _change(lund)
    with lund.transaction() as session:  # the lists change too: facts of unchanged ideas follow
        city = lund.city_row(session)
        partner = session.scalar(
            select(Organisation)
            .join(Participation, Participation.organisation_id == Organisation.id)
            .where(Organisation.city_id == city.id)
            .order_by(Organisation.key)
            .limit(1)
        )
        partner.kind = next(k for k in OrganisationKind if k != partner.kind)
        session.add(
            Organisation(city_id=city.id, key="nytt_bolag", name="Nytt bolag", kind=partner.kind)
        )
        stage = session.scalar(select(Stage).where(Stage.city_id == city.id).limit(1))
        stage.name = {**stage.name, "en": "Renamed"}
    partial = client.get("/api/v1/exchange?since=" + quote(json.loads(full)["exported_at"]))
    with hub.transaction() as session:
        merged = exchange.merge_changes(session, partial.get_data(), source="test")
    assert merged.action == "updated"

    after = _copy_ids(hub)
    rewritten = {changed["partnered"], changed["method"], changed["new"]}
    assert changed["hidden"] not in after and rewritten <= set(after)
    untouched = set(before) - rewritten - {changed["hidden"]}
    assert untouched and {r: after[r] for r in untouched} == {r: before[r] for r in untouched}

    with whole_import.transaction() as session:
        exchange.import_bundle(session, client.get("/api/v1/exchange").get_data(), source="test")
    with hub.transaction() as session, whole_import.transaction() as other:
        copy = session.scalar(select(City).where(City.slug == "lund"))
        whole = other.scalar(select(City).where(City.slug == "lund"))
        assert _comparable(exchange.export_city(session, copy)) == _comparable(
            exchange.export_city(other, whole)
        )
    assert _facts_of(hub) == _facts_of(whole_import)

    with hub.transaction() as session:  # the same changes again change nothing
        again = exchange.merge_changes(session, partial.get_data(), source="test")
    assert again.action == "unchanged" and _copy_ids(hub) == after


def test_every_write_to_what_hangs_on_an_idea_moves_its_updated_moment(platform):
    """Participations and method applications added, changed or removed count as changes to
    the idea (a partial bundle carries it); its edit version stays; a submission dated in
    the past keeps its own moment."""
    with platform.transaction() as session:
        city = platform.city_row(session)
        actors.add_organisation(
            session, city, key="partner-org", name="Partner", kind="civil_society"
        )
        idea = ideas.submit_idea(
            session, city, title="Snow maps", submitted_at=datetime(2025, 1, 2, 3, 4, 5)
        )
        reference = idea.reference
    with platform.transaction() as session:
        idea = ideas.get_idea(session, reference)
        assert idea.updated_at == idea.submitted_at == datetime(2025, 1, 2, 3, 4, 5)
        method = session.scalar(select(Method.key).where(Method.city_id.is_(None)).limit(1))

    def add_partner(session, idea):
        actors.add_participation(session, idea, "partner-org", "partner")

    def remove_partner(session, idea):
        actors.remove_participation(session, idea.participations[0])

    def apply(session, idea):
        methods.apply_method(session, idea, method, outcome="planned")

    def outcome(session, idea):
        methods.record_outcome(session, idea.method_applications[0], "ongoing")

    for write in (add_partner, apply, outcome, remove_partner):
        with platform.transaction() as session:
            idea = ideas.get_idea(session, reference)
            before = (idea.updated_at, idea.version)
        with platform.transaction() as session:
            write(session, ideas.get_idea(session, reference))
        with platform.transaction() as session:
            idea = ideas.get_idea(session, reference)
            assert idea.updated_at > before[0], write.__name__
            assert idea.version == before[1], write.__name__


def test_a_change_carries_the_moment_its_transaction_commits(platform, monkeypatch):
    """A sibling asks for what changed since its copy's moment less ``peers.OVERLAP``. A
    change written early in a transaction that stays open longer than that (a long command;
    on PostgreSQL another writer's later change may be published meanwhile) must still be in
    the next partial bundle: the idea carries the moment the transaction commits."""
    with platform.transaction() as session:
        city = platform.city_row(session)
        actors.add_organisation(
            session, city, key="partner-org", name="Partner", kind="civil_society"
        )
        reference = ideas.submit_idea(
            session, city, title="Snow maps", submitted_at=datetime(2025, 1, 2, 3, 4, 5)
        ).reference
    clock = [datetime(2026, 3, 1, 12, 0)]
    monkeypatch.setattr(models, "utcnow", lambda: clock[0])
    with platform.transaction() as session:
        actors.add_participation(
            session, ideas.get_idea(session, reference), "partner-org", "partner"
        )
        session.flush()  # written at 12:00
        clock[0] = datetime(2026, 3, 1, 12, 30)  # the transaction stays open half an hour
    committed = clock[0]

    with platform.transaction() as session:
        assert ideas.get_idea(session, reference).updated_at == committed
        city = platform.city_row(session)
        since = committed - peers.OVERLAP  # a copy made at the commit, pulled again
        partial = json.loads("".join(exchange.chunks(session, city, since=since)))
    assert [idea["reference"] for idea in partial["ideas"]] == [reference]
