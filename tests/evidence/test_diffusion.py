"""Practices that travel: adopting a peer city's idea here, the links both ways, the diffusion view."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from innoplat.core.config import load_city
from innoplat.core.errors import NotFound, ReadOnlyError, ValidationError
from innoplat.core.platform import Platform
from innoplat.core.services import diffusion, exchange, ideas

SOURCE_SUBMITTED = datetime(2025, 1, 10)


def _path_to_implemented(stages) -> list[str]:
    """Stage keys from the first stage to the first implemented one, along allowed moves."""
    by_key = {s.key: s for s in stages}
    paths = {stages[0].key: []}
    queue = [stages[0].key]
    while queue:
        key = queue.pop(0)
        for nxt in by_key[key].to:
            if nxt not in paths:
                paths[nxt] = [*paths[key], nxt]
                if by_key[nxt].phase == "implemented":
                    return paths[nxt]
                queue.append(nxt)
    raise AssertionError("no path to implementation")


@pytest.fixture
def lund_peer(tmp_path, platform):
    """Lund's own instance implements a snow-clearing idea; Kiruna imports Lund's bundle."""
    lund = Platform.open(load_city("lund"), f"sqlite:///{tmp_path / 'lund.sqlite3'}")
    try:
        lund.init()
        with lund.transaction() as session:
            city = lund.city_row(session)
            idea = ideas.submit_idea(
                session, city, title="Cykelbana med spillvärme", summary="Isfria cykelbanor.",
                submitted_at=SOURCE_SUBMITTED,
            )  # fmt: skip
            hidden = ideas.submit_idea(
                session, city, title="Intern idé", visibility="internal",
                submitted_at=SOURCE_SUBMITTED,
            )  # fmt: skip
            reference, hidden_reference = idea.reference, hidden.reference
            for stage in _path_to_implemented(lund.city.config.stages):
                ideas.move_idea(session, idea, stage, at=datetime(2025, 6, 1))
            bundle = exchange.export_city(session, city)
    finally:
        lund.dispose()
    with platform.transaction() as session:
        exchange.import_bundle(session, json.loads(json.dumps(bundle)), source="lund.json")
    return reference, hidden_reference


def test_adopting_a_peer_idea_links_both_ways(platform, lund_peer):
    reference, _ = lund_peer
    with platform.transaction() as session:
        kiruna = platform.city_row(session)
        adopted = diffusion.adopt_idea(
            session, kiruna, reference, actor="Samordnare", submitted_at=datetime(2025, 9, 1)
        )
        assert adopted.city_id == kiruna.id and adopted.reference.startswith("KIR-2025-")
        assert adopted.reused_from_reference == reference
        assert adopted.title == "Cykelbana med spillvärme"
        source = ideas.get_idea(session, reference)
        assert diffusion.adoptions_of(session, source) == [adopted]
        bundle = exchange.export_city(session, kiruna)
    (exported,) = [i for i in bundle["ideas"] if i["reference"] == adopted.reference]
    assert exported["reused_from"] == reference  # the link travels with Kiruna's bundle


def test_the_diffusion_view_says_who_adopted_what_when_and_how_far_it_got(platform, lund_peer):
    reference, _ = lund_peer
    with platform.transaction() as session:
        kiruna = platform.city_row(session)
        adopted = diffusion.adopt_idea(
            session, kiruna, reference, submitted_at=datetime(2025, 9, 1)
        )
        ideas.move_idea(session, adopted, "bedomning", at=datetime(2025, 9, 5))
    with platform.transaction() as session:
        (found,) = diffusion.adoptions(session)
        assert (found.source_city.slug, found.adopting_city.slug) == ("lund", "kiruna")
        assert found.source.reference == reference
        assert found.days_to_adoption == pytest.approx(
            (datetime(2025, 9, 1) - SOURCE_SUBMITTED).days
        )
        assert found.source_implemented_at == datetime(2025, 6, 1)
        assert found.adopted_implemented_at is None and found.adopted.phase == "screening"
        figures = {f.city.slug: f for f in diffusion.diffusion_figures(session)}
    assert figures["lund"].adopted_elsewhere == 1 and figures["lund"].adopted_here == 0
    assert figures["lund"].median_days_to_adoption == pytest.approx(234)
    assert figures["kiruna"].adopted_here == 1 and figures["kiruna"].adopted_elsewhere == 0


def test_what_cannot_be_adopted_is_refused_naming_the_field(platform, lund_peer):
    reference, hidden = lund_peer
    with platform.transaction() as session:
        kiruna = platform.city_row(session)
        own = ideas.submit_idea(session, kiruna, title="Egen idé")
        with pytest.raises(ValidationError) as error:
            diffusion.adopt_idea(session, kiruna, own.reference)
        assert error.value.field == "reference"
        with pytest.raises(NotFound):
            diffusion.adopt_idea(session, kiruna, "LUN-1999-0001")
        peer = ideas.get_idea(session, reference).city
        with pytest.raises(ReadOnlyError):  # a peer's data stays read-only
            diffusion.adopt_idea(session, peer, own.reference)


def test_the_command_line_adopts_and_lists(platform, lund_peer, database_url, capsys):
    from innoplat.core.cli import main

    reference, _ = lund_peer
    main(["adopt", reference, "--actor", "Samordnare", "--db", database_url])
    out = capsys.readouterr().out
    assert f"(adopted from {reference})" in out
    main(["diffusion", "--format", "json", "--db", database_url])
    (row,) = json.loads(capsys.readouterr().out)
    assert row["source"] == reference and row["adopting_city"] == "kiruna"
    assert row["source_phase"] == "implemented" and row["adopted_phase"] == "submitted"
