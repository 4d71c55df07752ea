"""/api/v1/events and /api/v1/recommendations (hub.recommend)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from hub.accounts.actor import Actor
from hub.accounts.schemas import Strict
from hub.api import api
from hub.api.framework import operation
from hub.api.schemas import Out
from hub.extensions import db
from hub.recommend import events, serve
from hub.recommend.events import EventBatch

TAG = "recommendations"


class EventsRecorded(Out):
    accepted: int
    duplicates: int


class SuggestionOut(Out):
    product_id: int
    sku: str
    title: str
    rank: int
    score: float


class SuggestionList(Out):
    items: list[SuggestionOut]


class CustomerSuggestions(Out):
    source: str = Field(description="`personal`, or `popular` when there is no list for this buyer yet")
    items: list[SuggestionOut]


class OpportunityOut(Out):
    rank: int
    product_id: int
    sku: str
    title: str
    channel: str | None = Field(description="The channel to list it on; null for a country opportunity")
    country: str | None = Field(description="The ship-to country it does not sell in; null for a channel")
    units_elsewhere: int
    orders_elsewhere: int
    evidence: dict[str, Any]


class OpportunityPage(Out):
    items: list[OpportunityOut]
    next_after: int | None


class SuggestionQuery(Strict):
    limit: int = Field(default=serve.DEFAULT_LIMIT, ge=1, le=50)


class OpportunityQuery(Strict):
    after: int = Field(default=0, ge=0, le=1_000_000, description="Keyset cursor: `next_after` of the previous page")
    limit: int = Field(default=50, ge=1, le=200)


@api.route("/events", methods=["POST"])
@operation(summary="Record behaviour events from the seller's site (idempotent by event_id)", body=EventBatch,
           response=EventsRecorded, tag=TAG)
def record_events(actor: Actor, body: EventBatch) -> EventsRecorded:
    recorded = events.record(db(), actor, body)
    return EventsRecorded(accepted=recorded.accepted, duplicates=recorded.duplicates)


@api.route("/recommendations/bought-together/<id:product_id>", methods=["GET"])
@operation(summary="Products often bought together with this one", query=SuggestionQuery,
           response=SuggestionList, tag=TAG)
def bought_together(actor: Actor, product_id: int, query: SuggestionQuery) -> SuggestionList:
    items = serve.bought_together(db(), actor, product_id, query.limit)
    return SuggestionList(items=[SuggestionOut.model_validate(s) for s in items])


@api.route("/recommendations/customers/<id:customer_id>", methods=["GET"])
@operation(summary="Products to suggest to this customer", query=SuggestionQuery, response=CustomerSuggestions,
           tag=TAG)
def for_customer(actor: Actor, customer_id: int, query: SuggestionQuery) -> CustomerSuggestions:
    found = serve.for_customer(db(), actor, customer_id, query.limit)
    return CustomerSuggestions(source=found.source, items=[SuggestionOut.model_validate(s) for s in found.items])


@api.route("/recommendations/listing-opportunities", methods=["GET"])
@operation(summary="Products that sell elsewhere but are not listed on a channel or sold into a country",
           query=OpportunityQuery, response=OpportunityPage, tag=TAG)
def listing_opportunities(actor: Actor, query: OpportunityQuery) -> OpportunityPage:
    rows = serve.listing_opportunities(db(), actor, after=query.after, limit=query.limit)
    return OpportunityPage(items=[OpportunityOut.model_validate(o) for o in rows],
                           next_after=rows[-1].rank if len(rows) == query.limit else None)
