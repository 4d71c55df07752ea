"""Settings: `config/defaults.toml`, then `HUB_*` environment variables, then an explicit mapping.

Environment values are parsed as TOML scalars when they look like one (`HUB_DEMO=true`,
`HUB_LOGIN_MAX_FAILURES=3`) and taken as plain strings otherwise, so URLs need no quoting.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from importlib import resources
from typing import Any

ENV_PREFIX = "HUB_"


def _defaults() -> dict[str, Any]:
    text = resources.files("config").joinpath("defaults.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


def _parse_env_value(raw: str, default: Any) -> Any:
    if isinstance(default, str):
        return raw
    try:
        return tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        return raw


def load_settings(overrides: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None) -> dict:
    settings = _defaults()
    environ = os.environ if environ is None else environ
    for key, raw in environ.items():
        if key.startswith(ENV_PREFIX) and not key.startswith("HUB_TEST_"):
            name = key[len(ENV_PREFIX):]
            settings[name] = _parse_env_value(raw, settings.get(name))
    if overrides:
        settings.update(overrides)
    return settings
