"""The one check of e-mail addresses people type (sign-up, digest subscriptions): a real
validator (``email-validator``), syntax only (no DNS look-up at run time), ASCII addresses only
(they go into the To: header of plain SMTP), and no control characters anywhere, so input such
as ``a@b\\r\\nBcc: x@y`` can never reach a mail header."""

from __future__ import annotations

import unicodedata

from email_validator import EmailNotValidError, validate_email

from paperfeed.errors import Invalid

MAX_EMAIL = 254  # the longest address SMTP can carry (RFC 5321 path limit less the brackets)
HINT = "enter one like name@example.org"


def check_email(email: str) -> str:
    """The address, trimmed of surrounding spaces, its domain lower-cased; Invalid (with the
    reason) unless it is one plain ``name@domain.tld`` address."""
    if any(unicodedata.category(char) == "Cc" for char in email):
        raise Invalid(
            f"that e-mail address does not look right: line breaks and control "
            f"characters are not allowed; {HINT}"
        )
    email = email.strip(" ")
    if len(email) > MAX_EMAIL:
        raise Invalid(f"that e-mail address does not look right: it is too long; {HINT}")
    try:
        checked = validate_email(email, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as error:
        reason = str(error).rstrip(".")
        raise Invalid(f"that e-mail address does not look right: {reason}; {HINT}") from None
    return str(checked.normalized)
