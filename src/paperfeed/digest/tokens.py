"""Signed links for subscribers (itsdangerous), one salt per purpose so a token made for one
action never works for another.

A token carries the subscriber's id, a fingerprint of the address and the subscriber's link
generation, and is signed with the time it was made: confirmation links expire after 7 days,
manage links (preferences, unsubscribe) after 90, longer than the 30 days an unsubscribe link
must keep working, and every e-mail brings fresh ones. Raising the generation (the "new link"
button of the preferences page) invalidates every link made before.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from typing import Any, NamedTuple

from itsdangerous import BadData, TimestampSigner, URLSafeTimedSerializer
from itsdangerous.encoding import base64_encode

from paperfeed.errors import Invalid
from paperfeed.models import Subscriber

CONFIRM = "confirm"  # follow to confirm a subscription (double opt-in)
MANAGE = "manage"  # preferences and unsubscribe links in every e-mail
MAX_AGE = {CONFIRM: 7 * 24 * 3600, MANAGE: 90 * 24 * 3600}  # seconds a link stays valid
_SALT = "paperfeed.digest."

Clock = Callable[[], dt.datetime]


def _fingerprint(email: str) -> str:
    # Binds a token to the address without putting the address in URLs.
    return hashlib.sha256(email.lower().encode()).hexdigest()[:16]


class Claims(NamedTuple):
    """What a valid token says."""

    subscriber_id: int
    fingerprint: str
    generation: int


class _ClockSigner(TimestampSigner):
    """Stamps and ages tokens by the deployment's clock."""

    def __init__(self, *args: Any, clock: Clock, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clock = clock

    def get_timestamp(self) -> int:
        return int(self._clock().timestamp())


class Tokens:
    """Makes and checks subscriber tokens signed with the deployment's secret key."""

    def __init__(self, secret_key: str, clock: Clock | None = None) -> None:
        signing = {"clock": clock or (lambda: dt.datetime.now(dt.UTC))}
        self._serializers = {
            purpose: URLSafeTimedSerializer(
                secret_key, salt=_SALT + purpose, signer=_ClockSigner, signer_kwargs=signing
            )
            for purpose in (CONFIRM, MANAGE)
        }
        self._signers = {purpose: s.make_signer() for purpose, s in self._serializers.items()}

    def make(self, purpose: str, subscriber: Subscriber) -> str:
        """What the purpose's serializer.dumps makes, about three times faster (one per digest):
        a payload this short never compresses, so zlib is not tried, and the signer is reused."""
        payload = json.dumps(
            [subscriber.id, _fingerprint(subscriber.email), subscriber.token_generation],
            separators=(",", ":"),
        )
        return self._signers[purpose].sign(base64_encode(payload)).decode()

    def read(self, purpose: str, token: str) -> Claims:
        """The claims of a valid, unexpired token; Invalid otherwise. Tokens made before link
        generations existed (two items) are of generation 0."""
        try:
            data = self._serializers[purpose].loads(token, max_age=MAX_AGE[purpose])
            if len(data) == 2:
                data = [*data, 0]
            subscriber_id, fingerprint, generation = data
            return Claims(int(subscriber_id), str(fingerprint), int(generation))
        except (BadData, TypeError, ValueError):
            raise Invalid("this link is invalid or has expired") from None

    @staticmethod
    def matches(subscriber: Subscriber, claims: Claims) -> bool:
        """Whether the claims are about this subscriber's address and current links."""
        return (
            _fingerprint(subscriber.email) == claims.fingerprint
            and subscriber.token_generation == claims.generation
        )
