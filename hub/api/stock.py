"""/api/v1/warehouses and /api/v1/stock"""

from __future__ import annotations

from pydantic import Field

from hub.accounts.actor import Actor
from hub.accounts.schemas import Strict
from hub.api import api
from hub.api.framework import next_cursor, operation
from hub.api.schemas import StockLevelOut, StockLevelPage, WarehouseList, WarehouseOut
from hub.catalog import stock
from hub.catalog.schemas import StockAdjustment, StockReceipt, WarehouseIn
from hub.db import MAX_ID
from hub.extensions import db

TAG = "stock"


class StockQuery(Strict):
    sku: str = Field(default="", max_length=64)
    warehouse: str = Field(default="", max_length=32)
    after: int = Field(default=0, ge=0, le=MAX_ID, description="Keyset cursor: `next_after` of the previous page")
    limit: int = Field(default=100, ge=1, le=200)


@api.route("/warehouses", methods=["GET"])
@operation(summary="List warehouses", response=WarehouseList, tag=TAG)
def list_warehouses(actor: Actor) -> WarehouseList:
    return WarehouseList(items=[WarehouseOut.model_validate(w) for w in stock.list_warehouses(db(), actor)])


@api.route("/warehouses", methods=["POST"])
@operation(summary="Create a warehouse", body=WarehouseIn, response=WarehouseOut, status=201, errors=(409,),
           tag=TAG)
def create_warehouse(actor: Actor, body: WarehouseIn) -> WarehouseOut:
    return WarehouseOut.model_validate(stock.create_warehouse(db(), actor, body))


@api.route("/stock", methods=["GET"])
@operation(summary="Stock levels per SKU and warehouse", query=StockQuery, response=StockLevelPage, tag=TAG)
def list_levels(actor: Actor, query: StockQuery) -> StockLevelPage:
    rows = stock.list_levels(db(), actor, sku=query.sku, warehouse=query.warehouse, after_id=query.after,
                             limit=query.limit)
    return StockLevelPage(items=[StockLevelOut.of(r) for r in rows], next_after=next_cursor(rows, query.limit))


@api.route("/stock/receipts", methods=["POST"])
@operation(summary="Receive stock into a warehouse", body=StockReceipt, response=StockLevelOut, status=201,
           tag=TAG)
def receive(actor: Actor, body: StockReceipt) -> StockLevelOut:
    return StockLevelOut.of(stock.receive(db(), actor, body))


@api.route("/stock/adjustments", methods=["POST"])
@operation(summary="Adjust on-hand stock after a count", body=StockAdjustment, response=StockLevelOut,
           status=201, errors=(409,), tag=TAG)
def adjust(actor: Actor, body: StockAdjustment) -> StockLevelOut:
    return StockLevelOut.of(stock.adjust(db(), actor, body))
