"""Every outlet that carried a merged story, credited in the item's own HTML.

RSS has one ``<source>`` and Atom one ``atom:source``, so the other outlets would be lost
to a reader whose client shows neither ``rel="via"`` links nor the JSON Feed extension:
an "Also reported by" line at the end of the summary and content names each with a link
to its own copy (and its own headline, when it differed).
"""

from __future__ import annotations

import html
from typing import Iterable, Protocol


class _Source(Protocol):
    name: str
    entry_link: str | None
    title: str


def also_reported(first_link: str | None, title: str, sources: Iterable[_Source]) -> str:
    """The "Also reported by" paragraph for the sources after the first ("" when there are none)."""
    parts, seen = [], {first_link}
    for s in sources:
        if s.entry_link in seen and s.entry_link is not None:
            continue
        seen.add(s.entry_link)
        name = html.escape(s.name)
        credit = f'<a href="{html.escape(s.entry_link, quote=True)}">{name}</a>' if s.entry_link else name
        if s.title and s.title != title:
            credit += f" (“{html.escape(s.title)}”)"
        parts.append(credit)
    return f'<p class="also-reported">Also reported by {"; ".join(parts)}.</p>' if parts else ""
