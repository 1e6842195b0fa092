"""Idea descriptions: Markdown rendered with markdown-it-py, then sanitised with nh3."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

import nh3
from markupsafe import Markup

if TYPE_CHECKING:
    from markdown_it import MarkdownIt


@cache
def _markdown() -> MarkdownIt:
    """The parser, made on first use: commands that load the plugins (which import this
    module through the toolkit) never render Markdown and do without markdown-it."""
    from markdown_it import MarkdownIt

    # Raw HTML in Markdown is escaped by the parser already; nh3 is the second line of
    # defence, so that even a parser bug cannot let a <script> or an event handler through.
    return MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable(
        "table"
    )


ALLOWED_TAGS = {
    "p", "br", "hr", "em", "strong", "code", "pre", "blockquote", "ul", "ol", "li",
    "h2", "h3", "h4", "h5", "h6", "a", "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "th": {"align"}, "td": {"align"}}


def markdown(text: str | None) -> Markup:
    """Markdown as safe HTML: no scripts, no event handlers, no styles, only http(s)/mailto links."""
    html = _markdown().render(text or "")
    # Headings start at h2: the page's own h1 is the idea's title.
    for level in (5, 4, 3, 2, 1):
        html = html.replace(f"<h{level}>", f"<h{level + 1}>").replace(
            f"</h{level}>", f"</h{level + 1}>"
        )
    clean = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )
    return Markup(clean)  # noqa: S704 - sanitised by nh3 just above
