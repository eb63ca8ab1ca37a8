"""Subscribing with double opt-in, confirming, preferences and unsubscribing by signed link.

E-mails sent on request (confirmations, links to manage a subscription) are capped per address
(``settings.confirmation_mails_per_day`` in 24 hours, counted in the store so that every worker
sees them): beyond it the request is answered as usual but nothing is sent, so that no one can
flood an address with them, nor learn from the answer whether it is subscribed.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from paperfeed import emails
from paperfeed.digest.deliver import DeliveryError, Mailer
from paperfeed.digest.render import Renderer
from paperfeed.digest.tokens import CONFIRM, MANAGE, Clock
from paperfeed.errors import Conflict, Invalid, NotFound, Unavailable
from paperfeed.models import ACTIVE, PENDING, UNSUBSCRIBED, Preferences, Subscriber
from paperfeed.store import SqlStore

log = logging.getLogger(__name__)

REQUESTED_MAILS_WINDOW = dt.timedelta(hours=24)


def check_email(email: str) -> str:
    """The address as the one e-mail check of the service (paperfeed.emails) accepts it;
    Invalid, with the reason, otherwise."""
    return emails.check_email(email or "")


class Subscriptions:
    """Subscriber life cycle: pending -> active -> unsubscribed (or bounced)."""

    def __init__(
        self,
        store: SqlStore,
        renderer: Renderer,
        mailer: Callable[[], Mailer],
        *,
        mails_per_day: int,
        clock: Clock,
    ) -> None:
        self.store = store
        self.renderer = renderer
        self._mailer = mailer
        self.mails_per_day = mails_per_day  # e-mails sent on request per address in 24 hours
        self._clock = clock

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
        log.info(
            "subscription request for subscriber %d (already active: %s)", subscriber.id, already
        )
        self._send_on_request(subscriber, already=already)
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

    def to_confirm(self, token: str) -> Subscriber:
        """The subscriber a confirmation link is for, changing nothing: following the link
        shows a button (link checkers and mail scanners open links too). Invalid when the
        link is bad, expired, or its address has left since."""
        subscriber = self._from_token(CONFIRM, token)
        if subscriber.status not in (PENDING, ACTIVE):
            raise Invalid("this confirmation link is no longer valid: subscribe again")
        return subscriber

    def confirm(self, token: str) -> Subscriber:
        """Activate the subscription of a confirmation link (the button's POST)."""
        subscriber = self.to_confirm(token)
        if subscriber.status == PENDING:
            log.info("subscriber %d confirmed", subscriber.id)
            return self.store.subscriptions.update_subscriber(subscriber.id, status=ACTIVE)
        return subscriber

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

    def unsubscribe_address(self, email: str) -> Subscriber:
        """Operator path (CLI): stop all digests to `email` (idempotent); NotFound when that
        address never subscribed."""
        subscriber = self.store.subscriptions.find_subscriber(check_email(email))
        if subscriber is None:
            raise NotFound(f"{email.strip()} is not a subscriber")
        if subscriber.status == UNSUBSCRIBED:
            return subscriber
        log.info("subscriber %d unsubscribed by the operator", subscriber.id)
        return self.store.subscriptions.update_subscriber(subscriber.id, status=UNSUBSCRIBED)

    def list_subscribers(self, status: str | None = None) -> list[Subscriber]:
        """Every subscriber (with `status` only, if given)."""
        return self.store.subscriptions.list_subscribers(status=status)

    def new_link(self, token: str) -> Subscriber:
        """Invalidate every link sent so far to the token's address (the token included) and
        e-mail that address a new one (within the cap)."""
        subscriber = self.for_token(token)
        subscriber = self.store.subscriptions.next_token_generation(subscriber.id)
        log.info(
            "subscriber %d: links renewed (generation %d)",
            subscriber.id,
            subscriber.token_generation,
        )
        self._send_on_request(subscriber, new_link=True)
        return subscriber

    def _from_token(self, purpose: str, token: str) -> Subscriber:
        claims = self.renderer.tokens.read(purpose, token)
        try:
            subscriber = self.store.subscriptions.get_subscriber(claims.subscriber_id)
        except NotFound:
            raise Invalid("this link is invalid or has expired") from None
        if not self.renderer.tokens.matches(subscriber, claims):
            raise Invalid("this link is invalid or has expired")
        return subscriber

    def _send_on_request(
        self, subscriber: Subscriber, *, already: bool = False, new_link: bool = False
    ) -> None:
        """Send a confirmation or manage-link e-mail unless the address's cap is reached."""
        if not self.store.subscriptions.reserve_requested_mail(
            subscriber.id,
            now=self._clock(),
            window=REQUESTED_MAILS_WINDOW,
            limit=self.mails_per_day,
        ):
            log.warning(
                "not e-mailing subscriber %d: %d e-mails sent on request in 24 hours already",
                subscriber.id,
                self.mails_per_day,
            )
            return
        self._send(
            self.renderer.confirmation_message(subscriber, already=already, new_link=new_link)
        )

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
