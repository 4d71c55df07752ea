"""Payloads shaped after Shopee's v2 reference (field names, nesting, JSON numbers in major units, unix seconds):
https://open.shopee.com/documents/v2/v2.order.get_order_list?module=94&type=1
https://open.shopee.com/documents/v2/v2.order.get_order_detail?module=94&type=1
Bodies are parsed as the connector parses them: json.loads(..., parse_float=Decimal).
"""

import copy
import json
from decimal import Decimal

ORDER_LIST_BODY = """{
  "error": "", "message": "", "warning": "", "request_id": "b937c04e554847789cbf3fe33a0ad5f1",
  "response": {"more": false, "next_cursor": "",
               "order_list": [{"order_sn": "201218V2Y6E59M"}, {"order_sn": "201218V2W2SJUS"}]}
}"""

ORDER_DETAIL_BODY = """{
  "error": "", "message": "", "warning": "", "request_id": "a8ff4c6b3f0a4ab3b1e01f2e3c4d5e6f",
  "response": {"order_list": [
    {"order_sn": "201218V2Y6E59M", "region": "SG", "currency": "SGD", "cod": false, "total_amount": 25.8,
     "order_status": "READY_TO_SHIP", "shipping_carrier": "Standard Delivery", "payment_method": "Credit Card",
     "estimated_shipping_fee": 2.5, "message_to_seller": "", "create_time": 1608276742,
     "update_time": 1608276809, "days_to_ship": 3, "ship_by_date": 1608535942,
     "buyer_user_id": 352637, "buyer_username": "tanweiling",
     "recipient_address": {"name": "Tan Wei Ling", "phone": "6591234567", "town": "", "district": "",
                           "city": "Singapore", "state": "", "region": "SG", "zipcode": "048616",
                           "full_address": "1 Raffles Place, #20-01, Singapore 048616"},
     "actual_shipping_fee": 2.0, "pay_time": 1608276809, "split_up": false, "cancel_by": "",
     "cancel_reason": "", "buyer_cancel_reason": "", "note": "",
     "item_list": [
       {"item_id": 2600144043, "item_name": "Kopi Tiam Mug", "item_sku": "MUG", "model_id": 10000001,
        "model_name": "Blue", "model_sku": "MUG-BLUE", "model_quantity_purchased": 2,
        "model_original_price": 12.9, "model_discounted_price": 12.9, "wholesale": false, "weight": 0.4,
        "order_item_id": 2600144043, "promotion_type": "", "promotion_id": 0}
     ],
     "package_list": [{"package_number": "OFG61898214113612", "logistics_status": "LOGISTICS_READY",
                       "shipping_carrier": "Standard Delivery",
                       "item_list": [{"item_id": 2600144043, "model_id": 10000001}]}]},
    {"order_sn": "201218V2W2SJUS", "region": "VN", "currency": "VND", "cod": true, "total_amount": 314000,
     "order_status": "COMPLETED", "create_time": 1608200000, "update_time": 1608900000,
     "buyer_username": "huong.nguyen",
     "recipient_address": {"name": "Nguyễn Thị Hương", "phone": "84******89", "town": "Phường Hàng Bạc",
                           "district": "Quận Hoàn Kiếm", "city": "Hà Nội", "state": "Hà Nội", "region": "VN",
                           "zipcode": "100000", "full_address": "12 Phố Hàng Bạc"},
     "pay_time": 1608800000,
     "item_list": [
       {"item_id": 3100000001, "item_name": "Nón lá", "item_sku": "NON-LA", "model_id": 0, "model_name": "",
        "model_sku": "", "model_quantity_purchased": 2, "model_original_price": 150000,
        "model_discounted_price": 142000, "order_item_id": 3100000001}
     ]}
  ]}
}"""


def body(text):
    return json.loads(text, parse_float=Decimal)


def detail(**changes):
    """The SGD order of ORDER_DETAIL_BODY with top-level fields changed (None removes a field)."""
    order = copy.deepcopy(body(ORDER_DETAIL_BODY)["response"]["order_list"][0])
    for key, value in changes.items():
        if value is None:
            order.pop(key, None)
        else:
            order[key] = value
    return order


def item(**changes):
    line = copy.deepcopy(detail()["item_list"][0])
    line.update(changes)
    return line
