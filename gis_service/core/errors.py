"""Errors that carry a message meant for the person at the keyboard (CLI) or the client (HTTP)."""


class LandfundError(Exception):
    """Base class: the message is shown as is; the CLI exits non-zero, the API answers `status`."""

    status = 400


class NotFound(LandfundError):
    status = 404


class Forbidden(LandfundError):
    status = 403


class Conflict(LandfundError):
    status = 409


class PreconditionFailed(LandfundError):
    status = 412


class PreconditionRequired(LandfundError):
    status = 428
