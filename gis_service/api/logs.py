"""Logging for `landfund serve`: uvicorn's access log, with secrets in URLs redacted.

landfund refuses tokens in URLs (see hardening.NoSecretsInUrls), but a client may still send one; whatever it
sent, the log never keeps it."""

from __future__ import annotations

import copy
import logging
import re

SENSITIVE_PARAMS = (
    "access_token",
    "token",
    "api_key",
    "apikey",
    "key",
    "password",
    "passwd",
    "secret",
    "auth",
    "authorization",
    "session",
)
_PARAM = re.compile(r"(?i)(^|[?&;])(" + "|".join(SENSITIVE_PARAMS) + r")=[^&;#\s\"]*")
_TOKEN = re.compile(r"lf_[A-Za-z0-9_-]{16,}")


def redact(text: str) -> str:
    """A URL (or any text) with the values of sensitive parameters and anything that looks like a landfund
    token replaced by '***'."""
    return _TOKEN.sub("lf_***", _PARAM.sub(lambda m: f"{m.group(1)}{m.group(2)}=***", text))


class RedactSecrets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        return True


def access_log_config() -> dict:
    """uvicorn's own logging configuration, with the redacting filter on its access and error logs."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["redact"] = {"()": RedactSecrets}
    for handler in config["handlers"].values():
        handler.setdefault("filters", []).append("redact")
    return config
