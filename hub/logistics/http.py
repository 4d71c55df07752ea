"""What the carrier clients share on top of hub.outbound.http: Basic auth, and a session that keeps bytes whole."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

import requests


@dataclass
class BasicAuth:
    """HTTP Basic on every attempt (EasyPost: the API key as user name, empty password; DHL: user and password)."""

    username: str
    password: str = ""

    def __call__(self, request: requests.PreparedRequest) -> None:
        token = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
        request.headers["Authorization"] = f"Basic {token}"


class BytesSession(requests.Session):
    """A session whose answers decode as Latin-1, which maps every byte to one character: HttpClient hands back
    text only, and a label PDF must survive the round trip byte for byte (`text.encode("latin-1")`)."""

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        response = super().send(request, **kwargs)
        response.encoding = "latin-1"
        return response
