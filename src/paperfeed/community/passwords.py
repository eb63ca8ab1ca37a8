"""The password policy of new accounts: long enough, not so long that hashing it costs more
than it should, and not guessable. Guessability is zxcvbn's estimate, which knows the common
passwords of leaked lists, English words, names, keyboard patterns, dates, repeats and l33t
spellings (its lists ship inside the package: nothing is downloaded)."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from zxcvbn import zxcvbn

from paperfeed.errors import Invalid

MIN_PASSWORD = 8
MAX_PASSWORD = 256  # bounds the work of hashing and checking one password
MIN_SCORE = 3  # zxcvbn's "safely unguessable": ~10^8 guesses or more, even offline vs argon2
ESTIMATED_CHARS = 72  # zxcvbn's own limit: a longer password is judged by its start

# zxcvbn keeps the user inputs of the current check in a module-level dictionary.
_zxcvbn_lock = threading.Lock()


def check_password(password: str, user_inputs: Sequence[str] = ()) -> None:
    """Raise Invalid, saying why, unless `password` may protect an account. `user_inputs` (the
    user name, the e-mail address) count as easy to guess when they appear in it."""
    if len(password) < MIN_PASSWORD:
        raise Invalid(f"passwords need at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise Invalid(f"passwords can have at most {MAX_PASSWORD} characters")
    with _zxcvbn_lock:
        result = zxcvbn(password[:ESTIMATED_CHARS], user_inputs=[u for u in user_inputs if u])
    if result["score"] < MIN_SCORE:
        feedback = result["feedback"]
        why = feedback["warning"] or "it is too easy to guess"
        tips = " ".join(feedback["suggestions"]) or "Add another word or two."
        raise Invalid(f"choose a harder password: {why.rstrip('.')}. {tips}")
