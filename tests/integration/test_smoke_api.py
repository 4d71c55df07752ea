def test_a_seller_creates_a_product_over_the_api_and_reads_it_back(alice, api_for):
    api = api_for(alice)
    created = api.post("/products", {"sku": "TEA-1", "title": "Tea", "base_price": "12.90"})
    assert created.status_code == 201, created.json
    assert created.json["price"] == {"amount": "12.90", "currency": "EUR"}
    fetched = api.get(f"/products/{created.json['id']}")
    assert fetched.json["sku"] == "TEA-1"


def test_another_sellers_product_is_not_found(alice, bob, api_for):
    product = api_for(alice).post("/products", {"sku": "TEA-1", "title": "Tea", "base_price": "1"}).json
    response = api_for(bob).get(f"/products/{product['id']}")
    assert response.status_code == 404
    assert response.json["error"]["code"] == "not_found"
