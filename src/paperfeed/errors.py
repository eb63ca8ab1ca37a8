"""Errors the core raises; each knows the HTTP status the web layer maps it to."""


class PaperfeedError(Exception):
    """Base class: the message says what went wrong and, where possible, what to do."""

    status_code = 500


class NotFound(PaperfeedError):
    status_code = 404


class Invalid(PaperfeedError):
    status_code = 400


class Conflict(PaperfeedError):
    status_code = 409


class Forbidden(PaperfeedError):
    status_code = 403


class Unauthorized(PaperfeedError):
    status_code = 401


class RateLimited(PaperfeedError):
    status_code = 429


class Unavailable(PaperfeedError):
    """An outside service (arXiv, SMTP) could not be reached, or was too busy or slow to answer
    in time; `retry_after` is how many seconds it asked us to wait, when it said."""

    status_code = 503
    retry_after: float | None = None


class InvalidRecord(ValueError):
    """A record that cannot become a Paper; its message is the reason shown to the operator."""
