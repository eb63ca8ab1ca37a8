"""Subscribing with double opt-in, confirming, preferences and unsubscribing by signed link."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

from paperfeed.digest.deliver import DeliveryError, Mailer
from paperfeed.digest.render import Renderer
from paperfeed.digest.tokens import CONFIRM, MANAGE
from paperfeed.errors import Conflict, Invalid, NotFound, Unavailable
from paperfeed.models import ACTIVE, PENDING, UNSUBSCRIBED, Preferences, Subscriber
from paperfeed.store import SqlStore

log = logging.getLogger(__name__)

_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$"
)


def check_email(email: str) -> str:
    """The address, trimmed; Invalid unless it looks like a plain ``name@domain.tld``."""
    email = (email or "").strip()
    if len(email) > 254 or not _EMAIL.match(email):
        raise Invalid("enter an e-mail address like name@example.org")
    return email


class Subscriptions:
    """Subscriber life cycle: pending -> active -> unsubscribed (or bounced)."""

    def __init__(self, store: SqlStore, renderer: Renderer, mailer: Callable[[], Mailer]) -> None:
        self.store = store
        self.renderer = renderer
        self._mailer = mailer

    def subscribe(
        self, email: str, prefs: Preferences | None = None, *, user_id: int | None = None
    ) -> Subscriber:
        """Ask `email` to confirm (double opt-in). An address that already receives digests is
        sent a link to manage them instead, and nothing changes: no one can alter another
        person's subscription by knowing their address."""
        email = check_email(email)
        subscriber = self.store.subscriptions.find_subscriber(email)
        if subscriber is None:
            try:
                subscriber = self.store.subscriptions.add_subscriber(
                    email, prefs or Preferences(), user_id=user_id
                )
            except Conflict:  # subscribed concurrently
                subscriber = self.store.subscriptions.find_subscriber(email)
                assert subscriber is not None
        elif subscriber.status != ACTIVE:
            subscriber = self.store.subscriptions.update_subscriber(
                subscriber.id, status=PENDING, prefs=prefs, user_id=user_id
            )
        already = subscriber.status == ACTIVE
        self._send(self.renderer.confirmation_message(subscriber, already=already))
        log.info(
            "subscription request for subscriber %d (already active: %s)", subscriber.id, already
        )
        return subscriber

    def add_confirmed(self, email: str, prefs: Preferences | None = None) -> Subscriber:
        """Operator path (CLI): an address the operator vouches for, active at once."""
        email = check_email(email)
        subscriber = self.store.subscriptions.find_subscriber(email)
        if subscriber is None:
            return self.store.subscriptions.add_subscriber(
                email, prefs or Preferences(), status=ACTIVE
            )
        return self.store.subscriptions.update_subscriber(subscriber.id, status=ACTIVE, prefs=prefs)

    def confirm(self, token: str) -> Subscriber:
        subscriber = self._from_token(CONFIRM, token)
        if subscriber.status == PENDING:
            return self.store.subscriptions.update_subscriber(subscriber.id, status=ACTIVE)
        if subscriber.status == ACTIVE:
            return subscriber
        raise Invalid("this confirmation link is no longer valid: subscribe again")

    def for_token(self, token: str) -> Subscriber:
        """The subscriber a preferences / unsubscribe link belongs to."""
        return self._from_token(MANAGE, token)

    def update_preferences(self, token: str, prefs: Preferences) -> Subscriber:
        subscriber = self.for_token(token)
        if subscriber.status == UNSUBSCRIBED:
            raise Invalid("you are unsubscribed: subscribe again to receive digests")
        return self.store.subscriptions.update_subscriber(subscriber.id, prefs=prefs)

    def unsubscribe(self, token: str) -> Subscriber:
        """Stop all digests to the link's address (idempotent)."""
        subscriber = self.for_token(token)
        if subscriber.status == UNSUBSCRIBED:
            return subscriber
        log.info("subscriber %d unsubscribed", subscriber.id)
        return self.store.subscriptions.update_subscriber(subscriber.id, status=UNSUBSCRIBED)

    def _from_token(self, purpose: str, token: str) -> Subscriber:
        subscriber_id, fingerprint = self.renderer.tokens.read(purpose, token)
        try:
            subscriber = self.store.subscriptions.get_subscriber(subscriber_id)
        except NotFound:
            raise Invalid("this link is invalid or has expired") from None
        if not self.renderer.tokens.matches(subscriber, fingerprint):
            raise Invalid("this link is invalid or has expired")
        return subscriber

    def _send(self, message: object) -> None:
        mailer = self._mailer()
        try:
            mailer.send(message)  # type: ignore[arg-type]
        except DeliveryError as error:
            raise Unavailable(
                f"the confirmation e-mail could not be sent ({error}); try again later"
            ) from error
        finally:
            mailer.close()
