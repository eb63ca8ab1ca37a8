"""Signed links for subscribers (itsdangerous), one salt per purpose so a token made for one
action never works for another."""

from __future__ import annotations

import hashlib
import json

from itsdangerous import BadData, URLSafeTimedSerializer
from itsdangerous.encoding import base64_encode

from paperfeed.errors import Invalid
from paperfeed.models import Subscriber

CONFIRM = "confirm"  # follow to confirm a subscription (double opt-in)
MANAGE = "manage"  # preferences and unsubscribe links in every e-mail
CONFIRM_MAX_AGE = 7 * 24 * 3600  # seconds a confirmation link stays valid
_SALT = "paperfeed.digest."


def _fingerprint(email: str) -> str:
    # Binds a token to the address without putting the address in URLs.
    return hashlib.sha256(email.lower().encode()).hexdigest()[:16]


class Tokens:
    """Makes and checks subscriber tokens signed with the deployment's secret key."""

    def __init__(self, secret_key: str) -> None:
        self._serializers = {
            purpose: URLSafeTimedSerializer(secret_key, salt=_SALT + purpose)
            for purpose in (CONFIRM, MANAGE)
        }
        self._signers = {purpose: s.make_signer() for purpose, s in self._serializers.items()}

    def make(self, purpose: str, subscriber: Subscriber) -> str:
        """What the purpose's serializer.dumps makes, about three times faster (one per digest):
        a payload this short never compresses, so zlib is not tried, and the signer is reused."""
        payload = json.dumps([subscriber.id, _fingerprint(subscriber.email)], separators=(",", ":"))
        return self._signers[purpose].sign(base64_encode(payload)).decode()

    def read(self, purpose: str, token: str) -> tuple[int, str]:
        """(subscriber id, address fingerprint) of a valid token; Invalid otherwise.

        Confirmation links expire after CONFIRM_MAX_AGE; manage links (preferences,
        unsubscribe) do not, so the links in old e-mails keep working."""
        max_age = CONFIRM_MAX_AGE if purpose == CONFIRM else None
        try:
            subscriber_id, fingerprint = self._serializers[purpose].loads(token, max_age=max_age)
            return int(subscriber_id), str(fingerprint)
        except (BadData, TypeError, ValueError):
            raise Invalid("this link is invalid or has expired") from None

    @staticmethod
    def matches(subscriber: Subscriber, fingerprint: str) -> bool:
        return _fingerprint(subscriber.email) == fingerprint
