"""Two cities in one database: nothing of one city is readable or writable from the other.

Kiruna and Lund share a database, each with every built-in plugin enabled. Every route of a
city's app — found in ``app.url_map``, so a new page, API route or plugin endpoint is covered
without touching this file — is visited as an anonymous visitor, a citizen who submitted an
idea, a member, a coordinator and the other city's admin: once with the city's own values in
the URL, and once with each value replaced by the other city's (its internal idea, its
comment, method application, participation, membership, tokens, organisation and local
method). The other city's private text (canaries) never appears in a response, a request
carrying its ids is refused (403/404, or a sign-in redirect), and no row of the other city —
nor any row pointing at one — is written.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from innoplat.core.config import CityDefinition, LocalMethodConfig, load_city
from innoplat.core.models import Base, Method, utcnow
from innoplat.core.services import accounts, actors, comparison, ideas, methods
from innoplat.core.services.ideas import Submitter
from innoplat.core.testing import city_with_plugins
from innoplat.core.web import create_app
from innoplat.plugins.comments import discussion
from innoplat.plugins.evaluation import scoring
from innoplat.plugins.evaluation.matrix import matrix
from innoplat.plugins.notifications import outbox
from innoplat.plugins.voting import supports

PLUGINS = ["catalogue", "voting", "comments", "evaluation", "notifications", "similar_ideas", "opendata"]  # fmt: skip
SECRET = "one secret for both cities, as in a shared deployment"
PASSWORD = "correct horse battery staple"
ROLES = ("anonymous", "citizen", "member", "coordinator", "admin", "other_admin")
#: Before today: the evidence counts ideas submitted before the start of the day.
SUBMITTED = utcnow() - timedelta(days=30)
#: URL variables naming what every city shares (a catalogue method), per blueprint: the
#: other city's value there (its local method's key) is visited, but need not be refused.
SHARED = {"evidence": ("method",)}
#: Routes made for another city's public ideas (they still refuse its internal ones).
ACROSS_CITIES = {"diffusion.adopt"}
#: What a request carrying the other city's ids may get: refused, not found, or "sign in".
REFUSED = {302, 400, 401, 403, 404}


@dataclass
class CityData:
    """One city's app and the values (ids, keys, tokens) that name its things."""

    slug: str
    canary: str
    app: Any = None
    values: dict[str, Any] = field(default_factory=dict)
    accounts: dict[str, str] = field(default_factory=dict)
    secrets: list[str] = field(default_factory=list)


def _definition(slug: str, canary: str, folders: Path) -> CityDefinition:
    """The bundled city with every plugin, a local method named by a canary, and a static file."""
    folder = folders / slug
    shutil.copytree(load_city(slug).folder, folder)
    (folder / "static").mkdir(exist_ok=True)
    (folder / "static" / "logo.txt").write_text(f"{slug} logo\n")
    definition = city_with_plugins(
        load_city(folder),
        PLUGINS,
        settings={"notifications": {"sender": f"platform@{slug}.example"}},
    )
    local = LocalMethodConfig(
        key=f"{slug}-verkstad",
        maps_to="co_creation_workshop",
        name={"sv": f"{canary} verkstad", "en": f"{canary} workshop"},
    )
    config = definition.config.model_copy(update={"methods": [*definition.config.methods, local]})
    return CityDefinition(config=config, folder=folder)


def _populate(platform: Any, data: CityData) -> None:
    """Ideas, people, comments, supports, followers and scores, each private text a canary."""
    c, slug = data.canary, data.slug
    with platform.transaction() as session:
        city = platform.city_row(session)
        staff = {
            role: accounts.create_account(
                session,
                city,
                email=f"{role}@{slug}.example",
                name=f"{c} {role}",
                password=PASSWORD,
                role=role,
            )
            for role in ("member", "coordinator", "admin")
        }
        orgs = {o.key: o for o in actors.list_organisations(session, city)}
        org = orgs["rise"]  # both cities have an organisation with this key
        own_org = next(o for o in orgs.values() if o.key not in ("rise", "vinnova"))
        public = ideas.submit_idea(
            session,
            city,
            title="Snösmältning med spillvärme från serverhallen",
            summary="Värme som annars går förlorad smälter snö på trottoarerna.",
            submitter=Submitter(name=f"{c} Inlämnare", email=f"submitter@{slug}.example", consent=True),
            submitted_at=SUBMITTED,
        )  # fmt: skip
        internal = ideas.submit_idea(
            session,
            city,
            title=f"Snösmältning med spillvärme {c} intern",
            summary=f"{c} intern sammanfattning",
            description=f"{c} intern beskrivning",
            visibility="internal",
            submitted_at=SUBMITTED,
        )
        for idea in (public, internal):
            methods.apply_method(session, idea, "living_lab", outcome_note=f"{c} utfall")
            actors.add_participation(session, idea, own_org.key, "owner")
            actors.add_participation(session, idea, org.key, "partner")
        second = ideas.allowed_stages(session, public)[0]
        ideas.move_idea(session, public, second.key, note=f"{c} anteckning om en person")
        application = public.method_applications[0]
        participation = next(p for p in public.participations if p.organisation_id == org.id)
        person = actors.add_person(
            session, city, name=f"{c} Person", email=f"person@{slug}.example", consent=True
        )
        membership = actors.add_membership(session, person, org, f"{c} roll")
        comment = discussion.post_comment(
            session, public, f"{c} kommentar", author_name=f"{c} Kommentator"
        )
        hidden = discussion.post_comment(session, public, f"{c} dold kommentar")
        discussion.report_comment(session, hidden, f"{c} anmälan")
        discussion.hide_comment(session, hidden, actor="test", reason=f"{c} skäl")
        supports.support(session, public, f"supporter@{slug}.example")
        follower = outbox.follow(session, public, f"follower@{slug}.example", locale="sv")
        criteria = matrix(platform.city.config.plugins.settings("evaluation"))
        scoring.record_scores(
            session, public, staff["member"].id, {k.key: 4 for k in criteria.criteria}, criteria
        )
        local = session.scalar(
            select(Method).where(Method.city_id == city.id, Method.key.like(f"%{slug}-verkstad"))
        )
        assert local is not None
        focus = city.focus_areas[0]
        session.flush()
        # Flask-Login's user id: the account id with its session generation.
        data.accounts = {
            role: f"{account.id}.{account.session_generation}" for role, account in staff.items()
        }
        data.values = {
            "reference": public.reference,
            "internal_reference": internal.reference,
            "idea_version": public.version,
            "organisation": org.key,
            "own_organisation": own_org.key,
            "method": local.key,
            "comment_id": comment.id,
            "hidden_comment_id": hidden.id,
            "application_id": application.id,
            "participation_id": participation.id,
            "membership_id": membership.id,
            "person_id": person.id,
            "follower_token": follower.token,
            "voting_token": supports.confirmation_token(
                SECRET, public.reference, f"voter@{slug}.example"
            ),
            "focus_area": focus.key,
            "criteria": [criterion.key for criterion in criteria.criteria],
            "stage": second.key,
            "filename": "logo.txt",
        }
        data.secrets = [c, internal.reference, f"@{slug}.example"]


@pytest.fixture
def two_cities(make_platform, tmp_path):
    """Kiruna and Lund in one database, each with its own app, data and canaries."""
    cities = {}
    for slug in ("kiruna", "lund"):
        data = CityData(slug=slug, canary=f"{slug.upper()}HEMLIG")
        platform = make_platform(city=_definition(slug, data.canary, tmp_path))
        _populate(platform, data)
        data.app = create_app(
            platform=platform,
            config={
                "TESTING": True,
                "SECRET_KEY": SECRET,
                "WTF_CSRF_ENABLED": False,
                "RATELIMIT_ENABLED": False,
                "INNOPLAT_FIGURES_CACHE_SECONDS": 0,
            },
        )
        cities[slug] = data
    return cities


# --------------------------------------------------------------------------- the visitors


def _client(home: CityData, other: CityData, role: str) -> Any:
    """A test client of ``home``'s app, acting as ``role``."""
    client = home.app.test_client()
    if role == "citizen":
        submitted = client.post(
            "/ideas/new",
            data={"title": "Cykelställ med tak vid stationen", "consent": "y", "initiator_kind": "citizen"},
        )  # fmt: skip
        assert submitted.status_code in (200, 303), submitted.status_code
    elif role in ("member", "coordinator", "admin"):
        _sign_in(client, home, role)
    elif role == "other_admin":
        _sign_in(client, other, "admin")  # the other city's admin, holding a session here
    return client


def _sign_in(client: Any, city: CityData, role: str) -> None:
    with client.session_transaction() as browser:
        browser["_user_id"] = city.accounts[role]
        browser["_fresh"] = True


# --------------------------------------------------------------------------- the routes


def _value(rule: Any, name: str, city: CityData) -> Any:
    """The value of a URL variable naming one of ``city``'s things on this route."""
    v = city.values
    path, endpoint = rule.rule, rule.endpoint
    if name == "key":
        return v["method"] if "/methods/" in path else v["own_organisation"]
    if name == "filename" and endpoint == "static":
        return "innoplat.css"
    if name == "method" and name in SHARED.get(endpoint.split(".")[0], ()):
        return "living_lab"
    if name == "token":
        return v["voting_token"] if endpoint.startswith("voting.") else v["follower_token"]
    if name in v:
        return v[name]
    pytest.fail(
        f"{rule.rule} ({endpoint}) has a URL variable {name!r} this suite does not know: "
        "add its own-city and other-city values in _populate"
    )


def _foreign_value(rule: Any, name: str, home: CityData, other: CityData) -> Any:
    if name == "reference":
        return other.values["internal_reference"]
    if name == "method" and name in SHARED.get(rule.endpoint.split(".")[0], ()):
        return other.values["method"]  # the other city's local method, mapped to a shared key
    if name == "key" and "/methods/" not in rule.rule:
        return other.values["own_organisation"]  # an organisation only the other city has
    if name == "filename":
        return f"../../{other.slug}/city.toml"
    return _value(rule, name, other)


def _variants(rule: Any, home: CityData, other: CityData) -> list[tuple[str, str]]:
    """(URL, which value is foreign or "") for a route: all own values, then each foreign."""
    names = sorted(rule.arguments)
    query = {"city": home.slug} if rule.endpoint == "evidence.incidence" else {}
    own = {**query, **{n: _value(rule, n, home) for n in names}}
    with home.app.test_request_context():
        from flask import url_for

        found = [(url_for(rule.endpoint, **own), "")]
        for name in names:
            values = {**own, name: _foreign_value(rule, name, home, other)}
            shared = name in SHARED.get(rule.endpoint.split(".")[0], ())
            found.append((url_for(rule.endpoint, **values), "" if shared else name))
        if rule.arguments == {"reference"}:
            # The other city's public idea too: it is public, but not this city's.
            # (Adopting another city's public idea is what diffusion.adopt is for.)
            refuse = "" if rule.endpoint in ACROSS_CITIES else "reference"
            found.append((url_for(rule.endpoint, reference=other.values["reference"]), refuse))
    return found


def _form(city: CityData, *, own: CityData) -> dict[str, Any]:
    """Form fields for every form on the platform, naming ``city``'s things where they can."""
    v = city.values
    return {
        "title": "Isoleringstest",
        "summary": "Ett test",
        "description": "Ett test",
        "body": "Ett test",
        "author_name": "Testare",
        "reason": "Ett test",
        "note": "Ett test",
        "email": f"visitor@{own.slug}.example",
        "consent": "y",
        "initiator_kind": "citizen",
        "visibility": "public",
        "version": str(own.values["idea_version"]),
        "to": v["stage"],
        "method": v["method"],
        "outcome": "succeeded",
        "outcome_note": "Ett test",
        "facilitator": v["organisation"],
        "organisation": v["own_organisation"],
        "role": "partner",
        "key": "isoleringstest-ab",
        "name": "Isoleringstest AB",
        "kind": "business",
        "parent": v["own_organisation"],
        "person": str(v["person_id"]),
        "focus_areas": v["focus_area"],
        **{f"criterion_{key}": "3" for key in own.values["criteria"]},
    }


def _json(city: CityData) -> dict[str, Any]:
    v = city.values
    return {
        "title": "Isoleringstest",
        "focus_areas": [v["focus_area"]],
        "owner_organisation": v["own_organisation"],
        "methods": [v["method"]],
    }


# --------------------------------------------------------------------------- what is written


def _other_city_rows(session: Session, city_id: int) -> dict[str, list[tuple[str, ...]]]:
    """Every row of the other city, and every row pointing at one, table by table.

    Ownership follows the foreign keys from the city row outwards (ideas, organisations,
    comments, scores, supports…), so a row written anywhere that points at the other city's
    things shows up here, whichever plugin's table it is in.
    """
    owned: dict[str, set[Any]] = {"city": {city_id}}
    found: dict[str, list[tuple[str, ...]]] = {}
    for table in Base.metadata.sorted_tables:
        if table.name in KEPT_FIGURES:
            continue
        conditions = [
            fk.parent.in_(owned[fk.column.table.name])
            for fk in table.foreign_keys
            if owned.get(fk.column.table.name)
        ]
        if table.name == "city":
            conditions.append(table.c.id == city_id)
        if not conditions:
            continue
        rows = session.execute(select(table).where(or_(*conditions))).all()
        found[table.name] = sorted(tuple(str(value) for value in row) for row in rows)
        key = list(table.primary_key.columns)
        if len(key) == 1:
            index = list(table.columns).index(key[0])
            owned[table.name] = {row[index] for row in rows}
    return found


#: Counts a comparison keeps for every city it compares (``facts.per_city``): any city's
#: /compare page reads every city's public facts by design, and keeping the counts it computed
#: changes nothing the other city owns or shows.
KEPT_FIGURES = {"stored_figures"}


def _fingerprint(city: CityData) -> dict[str, list[tuple[str, ...]]]:
    platform = city.app.extensions["innoplat"]
    with platform.transaction() as session:
        return _other_city_rows(session, platform.city_row(session).id)


# --------------------------------------------------------------------------- the suite


def _assert_refused(client: Any, response: Any, where: str) -> None:
    """Refused: 4xx, a sign-in redirect, or a redirect to a page that is itself refused."""
    location = response.headers.get("Location", "")
    if response.status_code in (301, 302, 303, 307, 308) and "/login" not in location:
        followed = client.get(location)
        assert followed.status_code in REFUSED - {302}, (
            f"{where}: leads to {location} ({followed.status_code})"
        )
        return
    assert response.status_code in REFUSED, f"{where}: {response.status_code}, not refused"


def _visit(home: CityData, other: CityData) -> None:
    rules = [
        r
        for r in home.app.url_map.iter_rules()
        if r.endpoint not in ("auth.logout",)  # signing out would end the role's visit
    ]
    assert len(rules) > 40, "the url_map should hold every page, API route and plugin endpoint"
    before = _fingerprint(other)
    reached: dict[str, set[str]] = {}
    statuses: dict[str, dict[tuple[str, str], int]] = {}
    clients = {role: _client(home, other, role) for role in ROLES}
    # Every role reads every page first, then sends every form: a form sent with the city's
    # own values may change what a page shows (unfollowing ends the follower's page).
    for http in ("GET", "POST"):
        for role, client in clients.items():
            found = _walk(client, role, http, rules, home, other, reached)
            statuses.setdefault(role, {}).update(found)
            assert _fingerprint(other) == before, f"{role} {http}s wrote the other city's rows"
    # Every page answered someone with its own values: the visit reached it, not an error.
    never = sorted(
        r.endpoint for r in rules if "GET" in (r.methods or ()) and r.endpoint not in reached
    )
    assert never == [], f"no role reached {never}: give these routes values that work"
    # The other city's admin is a stranger here: what an anonymous visitor gets, no more.
    assert statuses["other_admin"] == statuses["anonymous"]


def _walk(
    client: Any,
    role: str,
    http: str,
    rules: list[Any],
    home: CityData,
    other: CityData,
    reached: dict[str, set[str]],
) -> dict[tuple[str, str], int]:
    """Send ``http`` requests to every rule as ``role``; the GET statuses, by (URL, foreign)."""
    statuses: dict[tuple[str, str], int] = {}
    for rule in sorted(rules, key=lambda r: r.rule):
        if http not in (rule.methods or ()):
            continue
        for url, foreign in _variants(rule, home, other):
            forms = [(_form(home, own=home), "")] if foreign else []
            forms.append((_form(other, own=home), "form"))
            for form, form_foreign in forms if http == "POST" else [({}, "")]:
                if http == "GET":
                    response = client.get(url)
                elif url.startswith("/api/"):
                    response = client.post(url, json=_json(other if form_foreign else home))
                else:
                    response = client.post(url, data=form)
                where = f"{role} {http} {url}" + (" with the other city's form" if form_foreign else "")  # fmt: skip
                status = response.status_code
                body = response.get_data(as_text=True)
                response.close()
                assert status < 500, f"{where}: {status}"
                # (An error message may repeat what the request itself said.)
                for secret in [s for s in other.secrets if s not in url]:
                    assert secret not in body, f"{where}: shows {secret!r}"
                if foreign:
                    _assert_refused(client, response, where)
                elif status < 400 and "/login" not in response.headers.get("Location", ""):
                    reached.setdefault(rule.endpoint, set()).add(role)
                if http == "GET":
                    statuses[(url, foreign)] = status
    return statuses


@pytest.mark.parametrize(("home", "other"), [("kiruna", "lund"), ("lund", "kiruna")])
def test_every_route_keeps_the_other_city_out(two_cities, home, other):
    _visit(two_cities[home], two_cities[other])


def test_signing_in_with_the_other_citys_account_gives_no_access(two_cities):
    kiruna = two_cities["kiruna"]
    client = kiruna.app.test_client()
    response = client.post("/login", data={"email": "admin@lund.example", "password": PASSWORD})
    assert response.status_code in (200, 400, 401, 403)
    assert client.get("/dashboard").status_code == 302
    assert client.get(f"/ideas/{kiruna.values['internal_reference']}").status_code == 404


def test_the_staff_view_shows_the_other_city_as_the_public_sees_it(two_cities):
    """Kiruna's staff view counts Kiruna's internal ideas, never Lund's; no Lund mean score."""
    kiruna = two_cities["kiruna"]
    platform = kiruna.app.extensions["innoplat"]
    with platform.transaction() as session:
        city = platform.city_row(session)
        public = comparison.compare_methods(session, methods=["living_lab"])
        staff = comparison.compare_methods(session, methods=["living_lab"], staff_of=city)
    assert [r for r in staff if r["city"] == "lund"] == [r for r in public if r["city"] == "lund"]
    counted = {
        (r["city"], r["metric"]): r["value"] for r in staff if r["metric"] == "ideas_with_method"
    }
    assert counted == {("kiruna", "ideas_with_method"): 2, ("lund", "ideas_with_method"): 1}
    assert {r["city"] for r in staff if r["metric"] == scoring.METRIC_KEY} == {"kiruna"}


def test_the_suite_names_every_route_of_every_plugin(two_cities):
    """A plugin endpoint that the app serves is visited: its rule is in the url_map walked above."""
    endpoints = {r.endpoint.split(".")[0] for r in two_cities["kiruna"].app.url_map.iter_rules()}
    assert {"voting", "comments", "evaluation", "notifications", "opendata", "api"} <= endpoints
