"""/compare reads like an answer: the figures first, the choices folded in a panel, readable
horizontal bars without a second title, and numbers formatted as the reader's language writes them."""

from __future__ import annotations

import re

import pytest

from innoplat.core.web import create_app


@pytest.fixture
def client(with_demo):
    return create_app(platform=with_demo, config={"TESTING": True}).test_client()


def test_the_choices_are_folded_above_the_figures(client):
    html = client.get("/compare?metric=implementation_share").get_data(as_text=True)
    panel = html.index('<details class="compare-filters">')
    assert html.index("<summary>Välj kommuner, metoder och mått</summary>") > panel
    assert panel < html.index('<figure class="chart">')
    assert html.index("</details>") < html.index('<figure class="chart">')


def test_a_bad_choice_opens_the_panel_with_the_error(client):
    html = client.get("/compare?since=not-a-date").get_data(as_text=True)
    assert '<details class="compare-filters" open>' in html


def test_shares_are_written_the_swedish_way_and_the_english_way(client):
    swedish = client.get("/compare?metric=implementation_share").get_data(as_text=True)
    assert re.search(r"<td>\d+\xa0%", swedish), "Swedish writes a space before the percent sign"
    english = client.get("/compare?metric=implementation_share&lang=en").get_data(as_text=True)
    assert re.search(r"<td>\d+%", english)


def test_the_chart_has_horizontal_bars_and_no_title_of_its_own(client):
    svg = client.get("/compare/chart.svg?metric=implementation_share&lang=en").get_data(
        as_text=True
    )
    assert re.search(r'class="graph horizontal\w*bar-graph horizontal"', svg)
    assert ">Share implemented<" not in svg  # the page's heading names the metric already
    assert ">share of ideas<" in svg  # the axis says what the bars measure
