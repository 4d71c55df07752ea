"""Order Hub: one canonical goods and order model for many sales channels.

`create_app()` builds the Flask application; nothing here touches the network or the database at
import time (the engine connects lazily on first use).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["create_app"]


def create_app(config: Mapping[str, Any] | None = None):
    from hub.app import build_app

    return build_app(config)
