"""/api/v1/products"""

from __future__ import annotations

from pydantic import Field

from hub.accounts.actor import Actor
from hub.accounts.schemas import Strict
from hub.api import api
from hub.api.framework import next_cursor, operation
from hub.api.schemas import ProductOut, ProductPage
from hub.catalog import products
from hub.catalog.schemas import ProductIn
from hub.db import MAX_ID
from hub.extensions import db

TAG = "products"


class ProductQuery(Strict):
    q: str = Field(default="", max_length=200, description="Search SKU, title or exact GTIN")
    active: bool | None = None
    after: int = Field(default=0, ge=0, le=MAX_ID, description="Keyset cursor: `next_after` of the previous page")
    limit: int = Field(default=50, ge=1, le=200)


@api.route("/products", methods=["GET"])
@operation(summary="List products", query=ProductQuery, response=ProductPage, tag=TAG)
def list_products(actor: Actor, query: ProductQuery) -> ProductPage:
    rows = products.list_products(db(), actor, search=query.q, active=query.active, after_id=query.after,
                                  limit=query.limit)
    return ProductPage(items=[ProductOut.of(p) for p in rows], next_after=next_cursor(rows, query.limit))


@api.route("/products", methods=["POST"])
@operation(summary="Create a product", body=ProductIn, response=ProductOut, status=201, errors=(409,), tag=TAG)
def create_product(actor: Actor, body: ProductIn) -> ProductOut:
    return ProductOut.of(products.create_product(db(), actor, body))


@api.route("/products/<id:product_id>", methods=["GET"])
@operation(summary="Get a product", response=ProductOut, tag=TAG)
def get_product(actor: Actor, product_id: int) -> ProductOut:
    return ProductOut.of(products.get_product(db(), actor, product_id))


@api.route("/products/<id:product_id>", methods=["PUT"])
@operation(summary="Replace a product's fields", body=ProductIn, response=ProductOut, errors=(409,), tag=TAG)
def update_product(actor: Actor, product_id: int, body: ProductIn) -> ProductOut:
    return ProductOut.of(products.update_product(db(), actor, product_id, body))


@api.route("/products/<id:product_id>", methods=["DELETE"])
@operation(summary="Delete a product (soft if it is on orders)", status=204, errors=(404,), tag=TAG)
def delete_product(actor: Actor, product_id: int) -> None:
    products.delete_product(db(), actor, product_id)
