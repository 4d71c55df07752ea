"""Default settings for Order Hub.

`defaults.toml` beside this file holds every setting with its default; `hub.config.load_settings`
reads it and lets `HUB_<NAME>` environment variables override any key.
"""
