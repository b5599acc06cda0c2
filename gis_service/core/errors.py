"""Errors that carry a message meant for the person at the keyboard (CLI) or the client (HTTP)."""


class LandfundError(Exception):
    """Base class: the message is shown as is; the CLI exits non-zero, the API answers 4xx/5xx."""
