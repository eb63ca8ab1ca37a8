"""Getting messages out: SMTP (smtplib), or .eml files in the outbox directory when no SMTP
host is configured. Temporary failures (4xx, dropped connections) are retried with backoff;
permanent ones (5xx) are reported to the caller, which stops mailing that address."""

from __future__ import annotations

import logging
import os
import re
import smtplib
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol

from paperfeed import private_files
from paperfeed.config import Settings, SmtpSettings

log = logging.getLogger(__name__)

SECURITIES = ("starttls", "ssl", "none")


class DeliveryError(Exception):
    """A message was not accepted. `permanent`: the server refused it for good (5xx);
    `fatal`: the server refuses everything (bad sender, login): stop the whole run."""

    def __init__(
        self, message: str, *, permanent: bool, code: int | None = None, fatal: bool = False
    ) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.code = code
        self.fatal = fatal


class Mailer(Protocol):
    where: str  # shown to operators: "smtp://host:port" or the outbox directory

    def send(self, message: EmailMessage) -> None:
        """Hand over one message; raises DeliveryError when it was not accepted."""
        ...

    def close(self) -> None: ...


class SmtpMailer:
    """One SMTP connection, opened on first use and reused; re-opened after an error."""

    def __init__(self, smtp: SmtpSettings, *, timeout: float = 60.0) -> None:
        if not smtp.host:
            raise ValueError("SmtpMailer needs settings.smtp.host")
        if smtp.security not in SECURITIES:
            raise ValueError(f"smtp security must be one of {', '.join(SECURITIES)}")
        self.smtp = smtp
        self.timeout = timeout
        self.where = f"smtp://{smtp.host}:{smtp.port}"
        self._conn: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        smtp = self.smtp
        host = smtp.host or ""  # never empty: checked in __init__
        context = ssl.create_default_context()
        conn: smtplib.SMTP
        if smtp.security == "ssl":
            conn = smtplib.SMTP_SSL(host, smtp.port, timeout=self.timeout, context=context)
        else:
            conn = smtplib.SMTP(host, smtp.port, timeout=self.timeout)
            if smtp.security == "starttls":
                conn.starttls(context=context)
        if smtp.username:
            conn.login(smtp.username, smtp.password or "")
        return conn

    def send(self, message: EmailMessage) -> None:
        try:
            if self._conn is None:
                self._conn = self._connect()
            self._conn.send_message(message)
        except smtplib.SMTPRecipientsRefused as error:
            self.close()
            code, text = next(iter(error.recipients.values()))
            raise _response_error(code, text) from error
        except (
            smtplib.SMTPSenderRefused,
            smtplib.SMTPHeloError,
            smtplib.SMTPAuthenticationError,
        ) as error:
            self.close()
            raise DeliveryError(
                f"{self.where} refuses to send: {error.smtp_code} {_text(error.smtp_error)}",
                permanent=error.smtp_code >= 500,
                code=error.smtp_code,
                fatal=error.smtp_code >= 500,
            ) from error
        except smtplib.SMTPResponseException as error:  # DATA refused, connect refused...
            self.close()
            raise _response_error(error.smtp_code, error.smtp_error) from error
        except (smtplib.SMTPException, OSError) as error:  # disconnected, timeout, refused
            self.close()
            raise DeliveryError(f"{self.where}: {error}", permanent=False) from error

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.quit()
            except (smtplib.SMTPException, OSError):
                conn.close()


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _response_error(code: int, text: bytes | str) -> DeliveryError:
    return DeliveryError(f"{code} {_text(text)}", permanent=code >= 500, code=code)


class FileMailer:
    """Writes each message to ``<directory>/<Message-ID>.eml``: a re-send of the same message
    replaces its file, so the directory never holds a digest twice."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.where = str(self.directory)

    def path_for(self, message: EmailMessage) -> Path:
        name = re.sub(r"[^A-Za-z0-9@._-]", "_", str(message["Message-ID"]).strip("<> "))
        return self.directory / f"{name}.eml"

    def send(self, message: EmailMessage) -> None:
        private_files.make_dir(self.directory)
        path = self.path_for(message)
        partial = path.with_suffix(".eml.partial")
        with os.fdopen(private_files.open_file(partial), "wb") as handle:
            handle.write(bytes(message))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, path)

    def close(self) -> None:
        pass


def open_mailer(settings: Settings) -> Mailer:
    """SMTP when a host is configured, else .eml files in the outbox directory."""
    if settings.smtp.host:
        return SmtpMailer(settings.smtp)
    log.info("no SMTP host configured: writing e-mails to %s", settings.outbox_dir)
    return FileMailer(settings.outbox_dir)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Temporary failures are tried `attempts` times in all, waiting delay, 2*delay, 4*delay..."""

    attempts: int = 3
    delay: float = 5.0


def send_with_retries(
    mailer: Mailer,
    message: EmailMessage,
    policy: RetryPolicy,
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Send, retrying temporary failures; returns the number of tries. Raises the last
    DeliveryError when the message was refused for good or every try failed."""
    for attempt in range(1, policy.attempts + 1):
        try:
            mailer.send(message)
            return attempt
        except DeliveryError as error:
            if error.permanent or error.fatal or attempt == policy.attempts:
                raise
            wait = policy.delay * 2 ** (attempt - 1)
            log.info("temporary failure for %s (%s): retrying in %.1fs", message["To"], error, wait)
            sleep(wait)
    raise AssertionError("unreachable")
