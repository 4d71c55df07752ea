"""OAuth 1.0a signing exactly as WC_REST_Authentication::check_oauth_signature verifies it.

https://woocommerce.github.io/woocommerce-rest-api-docs/#authentication-over-http and
plugins/woocommerce/includes/class-wc-rest-authentication.php: parameters sorted by name, name and value
rawurlencode'd, joined with "=", the pair rawurlencode'd again, pairs joined with "%26"; key secret + "&".
The expected base string is written out by hand; the signature was computed with Node's crypto HMAC.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import requests

from hub.channels.woocommerce.client import OAuthSigner, oauth_base_string, oauth_signature

URL = "http://127.0.0.1:5102/wp-json/wc/v3/orders"
PARAMS = {"modified_after": "2026-01-01T00:00:00", "per_page": "100", "oauth_consumer_key": "ck_1",
          "oauth_nonce": "abc", "oauth_signature_method": "HMAC-SHA1", "oauth_timestamp": "1700000000"}
BASE = ("GET&http%3A%2F%2F127.0.0.1%3A5102%2Fwp-json%2Fwc%2Fv3%2Forders&modified_after%3D2026-01-01T00%253A00%253A00"
        "%26oauth_consumer_key%3Dck_1%26oauth_nonce%3Dabc%26oauth_signature_method%3DHMAC-SHA1"
        "%26oauth_timestamp%3D1700000000%26per_page%3D100")


def test_the_base_string_encodes_each_pair_twice_as_woocommerce_does():
    assert oauth_base_string("GET", URL + "?ignored=1", PARAMS) == BASE


def test_the_signature_is_hmac_sha1_keyed_with_the_secret_and_an_ampersand():
    assert oauth_signature("cs_2", "GET", URL, PARAMS) == "ZE2deH4YfcPBPk1WyDdhRe6KXjU="


def test_the_signer_puts_the_oauth_parameters_in_the_query_string():
    prepared = requests.Request("GET", URL, params={"modified_after": "2026-01-01T00:00:00",
                                                    "per_page": "100"}).prepare()
    OAuthSigner("ck_1", "cs_2", clock=lambda: 1_700_000_000, nonce=lambda: "abc")(prepared)
    query = parse_qs(urlsplit(prepared.url).query)
    assert query["oauth_signature"] == ["ZE2deH4YfcPBPk1WyDdhRe6KXjU="]
    assert query["modified_after"] == ["2026-01-01T00:00:00"]
    assert "%2B" in prepared.url or "+" not in urlsplit(prepared.url).query  # a '+' in a signature stays a '+'
