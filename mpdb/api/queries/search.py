"""searchChildren and searchPersons. Both need child:read; aggregates-only callers are refused in
the data layer; a purpose is required; every result is audited (mpdb/services/search.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

import strawberry

from mpdb.api.pagination import PageInfo, decode_cursor, encode_cursor, page_size
from mpdb.api.permissions import requires
from mpdb.api.types.search import ChildSearchHit, ChildSearchPage, PersonSearchHit, PersonSearchPage
from mpdb.auth.principal import Scope
from mpdb.services import search as svc

NAME_DOC = ("Fuzzy: every word must match exactly, within 1 edit (3-5 letters) or 2 edits (6+ letters), without "
            "diacritics (Zoë = Zoe), or as a given-name variant (seed/reference/given_name_variants.csv: Kate = "
            "Katherine = Catherine); a one-letter word is an initial. At least 2 letters or digits, at most 6 "
            "words and 100 characters.")


def _page_info(hits: list[dict], more: bool) -> PageInfo:  # type: ignore[type-arg]
    end = encode_cursor(hits[-1]["score"], hits[-1]["key"]) if hits else None
    return PageInfo(has_next_page=more, end_cursor=end)


@strawberry.type
class SearchQueries:
    @strawberry.field(
        extensions=requires(Scope.CHILD_READ),
        description="Find a child by name, date of birth and/or agency reference (at least one), best match "
                    "first. A child you may read in full comes as `child`; any other match only as `summary`, so "
                    "you learn that such a child exists and which LA is responsible, never who it is. Needs "
                    "X-MPDB-Purpose; full results are audited as consulted, summaries as a disclosure by pseudonym. At "
                    "most the 500 best name (or reference, or date) candidates are ranked, before area and "
                    "pages: narrow a common name with more of it or a date of birth rather than an area.",
    )
    async def search_children(
        self, info: strawberry.Info,
        name: Annotated[str | None, strawberry.argument(description=NAME_DOC)] = None,
        date_of_birth: Annotated[date | None, strawberry.argument(
            description="Ranks (exact > day and month swapped); alone, finds children born on that "
                        "date or on the swapped one.")] = None,
        source_ref: Annotated[str | None, strawberry.argument(
            description="An agency's reference for the child, matched exactly against the LA's "
                        "SSDA903 CHILD id (lacChildRef), the unique pupil number (upn) and an "
                        "importer's own reference (sourceRef).")] = None,
        area: Annotated[str | None, strawberry.argument(
            description="Only children linked to this police force or LA code. For a child you may "
                        "read in full: its responsible LA (or that LA's force), its home's LA or "
                        "force, a placement's placing LA, host LA or force area, or an episode you "
                        "may read that touched the area (reported to, found by, or a place in it). "
                        "For any other child only its responsible LA (or that LA's force), which "
                        "its summary shows anyway. Narrows a search; it is not one on its own.")] = None,
        first: int | None = None, after: str | None = None,
    ) -> ChildSearchPage:
        ctx = info.context.service
        limit = page_size(first, ctx.settings.max_page_size)
        res = await svc.search_children(ctx, name=name, date_of_birth=date_of_birth, source_ref=source_ref,
                                        area=area, limit=limit, after=decode_cursor(after, float, str) if after else None)
        now = datetime.now(UTC)
        return ChildSearchPage(nodes=[ChildSearchHit.from_row(h, now) for h in res.hits],
                               page_info=_page_info(res.hits, res.has_more))

    @strawberry.field(
        extensions=requires(Scope.CHILD_READ),
        description="Find an adult of concern (or any associate: peer, family) by name, best match first, so you "
                    "link the existing person (linkAssociate personId) instead of recording a duplicate. Needs "
                    "X-MPDB-Purpose; every person returned, and every linked child named, is audited as consulted.",
    )
    async def search_persons(
        self, info: strawberry.Info, name: Annotated[str, strawberry.argument(description=NAME_DOC)],
        date_of_birth: Annotated[date | None, strawberry.argument(
            description="Ranks: exact > day and month swapped > different or unknown.")] = None,
        first: int | None = None, after: str | None = None,
    ) -> PersonSearchPage:
        ctx = info.context.service
        limit = page_size(first, ctx.settings.max_page_size)
        res = await svc.search_persons(ctx, name=name, date_of_birth=date_of_birth, limit=limit,
                                       after=decode_cursor(after, float, str) if after else None)
        now = datetime.now(UTC)
        return PersonSearchPage(nodes=[PersonSearchHit.from_row(h, now) for h in res.hits],
                                page_info=_page_info(res.hits, res.has_more))
