"""Where the sections plugins add to an idea's page go: regions and an order within each.

The page has four regions, in reading order on a narrow screen:

- ``actions`` — what a citizen can do with the idea (support, follow), grouped near the top,
  beside the idea's facts on a wide screen;
- ``details`` — more about the idea, below its description (a plain ``Markup`` lands here);
- ``discussion`` — the conversation about the idea, below its description and details;
- ``staff`` — what only the working group sees (scores, possible duplicates), last.

Within a region, sections come by ``order`` (lower first); sections of equal order keep the
hooks' precedence order (the city's own plugin, then the enabled plugins as listed).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from markupsafe import Markup, escape

#: The regions of an idea's page, in the order a narrow screen shows them.
IDEA_REGIONS = ("actions", "details", "discussion", "staff")


@dataclass(frozen=True)
class IdeaSection:
    """An HTML fragment for an idea's page, with the region it belongs to and its order there."""

    html: Markup
    region: str = "details"
    order: int = 100

    def __post_init__(self) -> None:
        if self.region not in IDEA_REGIONS:
            raise ValueError(
                f"an idea section's region must be one of {', '.join(IDEA_REGIONS)}, not {self.region!r}"
            )
        if isinstance(self.order, bool) or not isinstance(self.order, int):
            raise ValueError(f"an idea section's order must be a whole number, not {self.order!r}")

    def __html__(self) -> Markup:
        return self.html


def arrange(
    contributed: Iterable[Iterable[IdeaSection | Markup | None] | None],
) -> dict[str, list[IdeaSection]]:
    """The hooks' answers (lists of sections, in precedence order) by region, each in its order.

    A bare fragment goes to ``details``; plain text (not ``Markup``) is escaped, as Jinja would.
    """
    regions: dict[str, list[IdeaSection]] = {region: [] for region in IDEA_REGIONS}
    for fragments in contributed:
        for fragment in fragments or []:
            if fragment is None:
                continue
            section = (
                fragment if isinstance(fragment, IdeaSection) else IdeaSection(escape(fragment))
            )
            regions[section.region].append(section)
    for sections in regions.values():
        sections.sort(key=lambda section: section.order)  # stable: precedence breaks ties
    return regions
