"""The canonical order: one model and one status vocabulary for every channel."""
