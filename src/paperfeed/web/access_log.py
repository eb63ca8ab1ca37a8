"""Keeps credentials out of the access log: the signed links of e-mails (``/preferences?token=``,
``/unsubscribe?token=``, ``/subscribe/confirm?token=``; manage tokens never expire) and CSRF
tokens are logged with their values replaced."""

from __future__ import annotations

import logging
import re

ACCESS_LOGGER = "uvicorn.access"
REDACTED = "[redacted]"
# A query parameter whose name holds "token" (token, csrf_token, manage_token...), and its value.
_TOKEN_PARAM = re.compile(r"([?&;][^=&;#\s]*token[^=&;#\s]*=)[^&;#\s\"]*", re.IGNORECASE)


def redact(text: str) -> str:
    """`text` with the values of token-like query parameters replaced by REDACTED."""
    if "token" not in text.lower():  # most lines: no regex (~4 µs each, a few % of a hit)
        return text
    return _TOKEN_PARAM.sub(rf"\g<1>{REDACTED}", text)


class RedactTokens(logging.Filter):
    """Redacts token values in a record's message and its string arguments (uvicorn's access
    log passes the request path with its query string as an argument)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        return True


def redact_tokens_in_access_log() -> None:
    """Install RedactTokens on uvicorn's access logger (once per process)."""
    logger = logging.getLogger(ACCESS_LOGGER)
    if not any(isinstance(f, RedactTokens) for f in logger.filters):
        logger.addFilter(RedactTokens())
