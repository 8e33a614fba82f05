"""Putting a cached token into refresh ahead's window without waiting for it to age.

A token akslogin has just received is never inside the window (the second half of its usable life), so a
test gets a short-lived token (``IN_WINDOW`` seconds) and then makes its cache entry say it was issued an hour
before it expires: the entry of a one-hour token with ``IN_WINDOW`` seconds left, which is what a kubectl call
finds after a pause. ``IN_WINDOW`` is also past the moment a renewal is scheduled for (two minutes before the
5-minute margin), so the renewal runs at once; ``SCHEDULED`` leaves a few seconds before that moment.
"""

from __future__ import annotations

import json
from pathlib import Path

from akslogin.tokencache.entry import MIN_REMAINING, REFRESH_LEAD

#: Fresh for get-token (over its 5-minute margin), and inside the window of a one-hour token.
IN_WINDOW = MIN_REMAINING + 100
#: Inside the window, with the renewal's moment this many seconds ahead (what the tests wait for).
SCHEDULED_IN = 6
SCHEDULED = int(MIN_REMAINING + REFRESH_LEAD) + SCHEDULED_IN
LIFETIME = 3600


def into_renewal_window(cache: Path) -> None:
    """Rewrite each cached token's ``issued_on`` (in place: the file keeps its owner and 0600 mode)."""
    for path in (cache / "tokens").glob("*.json"):
        data = json.loads(path.read_bytes())
        data["issued_on"] = int(data["expires_on"]) - LIFETIME
        with path.open("r+b") as fh:
            fh.truncate(0)
            fh.write(json.dumps(data).encode())
