"""``GET /api/v1/search``: the search query language over the REST API."""

from __future__ import annotations

import datetime
from typing import Annotated, Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from pydantic import BaseModel

from quietdesk.api.auth import actor
from quietdesk.api.schemas import TicketOut
from quietdesk.search.queries import Hit, search

router = Router(tags=["search"])

QUERY_HELP = (
    'Words (all required), `"exact phrase"`, `prefix*`, `-excluded`, `a OR b`, '
    "`(groups)`, and filters `status:`, `team:`, `assignee:`, `from:`, `org:`, `tag:`, "
    "`channel:`, `before:YYYY-MM-DD`, `after:YYYY-MM-DD` (dates in your time zone). "
    "Case and accents are ignored. A query that cannot be understood answers 422 with "
    "the problem and its position in `details[field=q]`."
)


class SearchParams(Schema):
    q: str = Field(description=QUERY_HELP)
    order: Literal["newest", "relevance"] = Field(
        default="newest",
        description="`newest`: by the newest matching message; `relevance`: best matches "
        "first among the most recent matches.",
    )
    limit: int = Field(default=25, ge=1, le=100)
    cursor: Annotated[str, Field(max_length=200)] | None = Field(
        default=None, description="`next_cursor` of the previous page."
    )


class SearchHitOut(BaseModel):
    ticket: TicketOut
    matched: str = Field(
        description="What matched: a message kind (`reply`, `note`, `call`, `chat`, "
        "`system`) or `attachment`."
    )
    message_id: str | None = Field(description="The matching message, if any.")
    attachment_id: str | None = Field(description="The matching attachment, if any.")
    matched_at: datetime.datetime
    subject_html: str = Field(description="The subject, HTML-escaped, matches in `<mark>`.")
    snippet_html: str = Field(
        description="An excerpt around the first match, HTML-escaped, matches in `<mark>`."
    )

    @classmethod
    def of(cls, hit: Hit, *, staff: bool) -> SearchHitOut:
        message = hit.message or (hit.attachment.message if hit.attachment else None)
        return cls(
            ticket=TicketOut.of(hit.ticket, staff=staff),
            matched=hit.kind,
            message_id=message.public_id if message else None,
            attachment_id=hit.attachment.public_id if hit.attachment else None,
            matched_at=hit.matched_at,
            subject_html=hit.subject_html,
            snippet_html=hit.snippet_html,
        )


class SearchResultsOut(BaseModel):
    items: list[SearchHitOut]
    count: int = Field(description="How many tickets match (a lower bound unless exact).")
    count_is_exact: bool = Field(
        description="False when there are more than `count` matches (counting all would be "
        "slow): show it as “more than count”."
    )
    next_cursor: str | None


@router.get("/search", response=SearchResultsOut, summary="Search tickets you can see")
def search_tickets(request: HttpRequest, params: Query[SearchParams]) -> SearchResultsOut:
    me = actor(request)
    page = search(
        me,
        params.q,
        order=params.order,
        limit=params.limit,
        cursor=params.cursor,
        with_relations=True,  # the ticket schema shows the team, tags and SLA clocks
    )
    staff = me.is_agent_or_admin
    return SearchResultsOut(
        items=[SearchHitOut.of(hit, staff=staff) for hit in page.hits],
        count=page.count,
        count_is_exact=page.count_is_exact,
        next_cursor=page.next_cursor,
    )
