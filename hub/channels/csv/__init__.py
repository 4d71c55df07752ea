"""CSV files: for channels without an API (a small marketplace, a POS, a spreadsheet).

The seller drops order files exported from elsewhere into an inbox folder; the hub reads them (never
modifying or deleting them) and writes stock files (`stock-YYYYMMDDTHHMMSSZ.csv`, columns sku,available)
to an outbox folder for the seller to upload.

Order file format
-----------------
- UTF-8, with or without a byte order mark; comma or semicolon delimited (the header row tells which);
  standard CSV quoting. A header row is required; column names are case-insensitive, unknown columns
  are ignored, blank rows are skipped.
- One row per order line; rows are grouped by `order_id`. Order-level columns must carry the same value
  on every row of the order (blank counts as a value), else the order is rejected naming the column.
- An order that cannot be mapped is rejected with its reason and raw rows; the rest of the file goes on.

Line columns:
  order_id*       the channel's order id
  sku*            the seller's SKU
  title           the product name
  quantity*       a positive whole number
  unit_price*     the price of one unit (blank: not priced yet)
  line_total      unit_price x quantity less the line's discount (blank: unit_price x quantity)
  line_id         the channel's line id, if it has one

Order-level columns:
  status*         pending, paid, partially_fulfilled, fulfilled, delivered, partially_refunded, refunded,
                  cancelled; several joined by "+" (e.g. fulfilled+partially_refunded) are resolved by the
                  shared precedence (cancelled > refunded > fulfilled > paid); or the seller's own labels,
                  mapped through the `statuses` option ({"Bezahlt": "paid", "Versendet": "fulfilled"})
  currency*       ISO 4217 code; amounts are read exactly, as many decimals as given (JPY 1500, KWD 12.345)
  placed_at*      ISO 8601; with an offset (2026-03-01T10:00:00+01:00, ...Z), or naive and read in the
                  channel's `timezone` option (an IANA name); stored as UTC
  updated_at      as placed_at; blank: placed_at
  order_total     the order's total as charged (blank: not known; the order is still imported). It is
                  authoritative: a difference from subtotal - discount + shipping (+ tax unless included)
                  of more than one minor unit is flagged, never corrected
  shipping, tax, discount   order amounts (blank: not given); discount is the order's whole discount
  prices_include_tax        yes/no, true/false, 1/0 (blank: no)
  buyer_name, buyer_email, buyer_phone
  ship_name, ship_company, ship_line1, ship_line2, ship_city, ship_region, ship_postal_code, ship_phone
  ship_country    ISO 3166-1 alpha-2; blank or unknown: billing_country, else the channel's `country` option
  billing_country ISO 3166-1 alpha-2
  (* required in the header)

Amounts use a decimal point. A channel whose files use a decimal comma sets `decimal_comma`; then "12,50"
is 12.50 and "." may only group thousands ("1.234,50"). It is never guessed: without the option a comma
in an amount rejects the order.

Example (semicolon delimited, decimal comma, naive times, `timezone` Europe/Berlin):

    order_id;status;currency;placed_at;sku;title;quantity;unit_price;order_total;shipping;ship_country
    A-1001;paid;EUR;2026-03-01 10:00:00;MUG-1;Mug;2;12,50;29,90;4,90;DE
    A-1001;paid;EUR;2026-03-01 10:00:00;TEA-9;Tea;1;0,00;29,90;4,90;DE
    A-1002;cancelled;EUR;2026-03-01 11:30:00;MUG-1;Mug;1;12,50;;;AT
"""

from __future__ import annotations

from hub.channels.csv import mapping
from hub.channels.csv.connector import CsvConnector
from hub.channels.registry import ConnectorSpec

SPEC = ConnectorSpec(
    kind="csv",
    title="CSV files",
    connector=CsvConnector,
    capabilities=("orders", "inventory"),
    normalize=mapping.normalize,
    docs="docs/channel-mapping.md",
)

__all__ = ["SPEC", "CsvConnector"]
