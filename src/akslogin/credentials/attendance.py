"""Whether a person is there to answer a sign-in prompt, and the back-off after a prompt nobody answered.

A user sign-in (device code, browser) needs a person. kubectl says whether one is there: ``spec.interactive``
of KUBERNETES_EXEC_INFO is true only when kubectl's stdin is a terminal and the context allows prompts
(``interactiveMode``). A background tool (an IDE, a dashboard, a pipeline) runs kubectl without a terminal, and a
device code printed there is seen by nobody while the call waits for --timeout; int128/kubelogin's users see
browser tabs pile up from the same cause. The rule:

- a prompt is shown only when kubectl says interactive, or stderr (or stdin) is a terminal: a person ran the
  command (kubectl gives a plugin no stdin unless it says interactive, so under kubectl that is stderr);
- otherwise a saved sign-in is redeemed silently if there is one, and else the call fails at once (before any
  network request) with the one command a person should run: ``akslogin login --context <name>``;
- after a prompt that ran out of time or was abandoned (Ctrl-C, the process killed), the same identity does not
  prompt again for :data:`BACKOFF` seconds: kubectl calls fail fast with the same advice (``akslogin login``
  itself always prompts).

``AKSLOGIN_PROMPT=always`` shows prompts even without a terminal (a pipeline log that someone watches for its
first sign-in), ``never`` never shows one; the default is ``auto``, the rule above.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator, Mapping
from typing import Any, TextIO

from akslogin.errors import AuthenticationError

VARIABLE = "AKSLOGIN_PROMPT"
#: After a prompt nobody answered, the same identity does not prompt from kubectl for this long.
BACKOFF = 600.0
#: AADSTS codes of a device code that was never used: not finished in time, expired.
_UNANSWERED_CODES = frozenset({70016, 70020})


class UnattendedSignIn(AuthenticationError):
    """A sign-in needs a person and nobody can answer here (exit 1). get-token fills in the hint: the command
    that signs in once, in a terminal."""


def attended(kubectl_says_interactive: bool, stderr: TextIO, environ: Mapping[str, str],
             stdin: TextIO | None = None) -> bool:
    """Whether a prompt can be answered: kubectl says so, or stderr (or ``stdin``) is a terminal
    (AKSLOGIN_PROMPT decides otherwise when set to always or never)."""
    policy = environ.get(VARIABLE, "").strip().lower()
    if policy == "always":
        return True
    if policy == "never":
        return False
    return kubectl_says_interactive or _tty(stderr) or _tty(stdin)


def _tty(stream: TextIO | None) -> bool:
    try:
        return stream is not None and stream.isatty()
    except (AttributeError, ValueError):
        return False


def _marker(cache_dir: str, key: str) -> str:
    return os.path.join(cache_dir, "locks", key + ".prompt")


def _read(cache_dir: str, key: str) -> dict[str, Any]:
    from akslogin import jsonlite
    from akslogin.errors import CacheError
    from akslogin.tokencache.entry import read_private

    try:
        raw = read_private(_marker(cache_dir, key), limit=4096)
        data = jsonlite.loads(raw) if raw else {}
    except (CacheError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write(cache_dir: str, key: str, data: dict[str, float]) -> None:
    import json

    from akslogin.errors import CacheError
    from akslogin.tokencache.store import atomic_write

    with contextlib.suppress(CacheError, OSError):
        atomic_write(_marker(cache_dir, key), json.dumps(data).encode())


def unanswered_since(cache_dir: str, key: str, now: float) -> float | None:
    """When this identity's last prompt was left unanswered, if that is less than BACKOFF ago."""
    data = _read(cache_dir, key)
    left = data.get("abandoned")
    if not isinstance(left, (int, float)):
        deadline = data.get("deadline")  # a prompt whose process died before it could say so
        left = deadline if isinstance(deadline, (int, float)) and deadline < now else None
    return float(left) if left is not None and 0 <= now - float(left) < BACKOFF else None


def require_person(what: str, *, attended: bool, why: str = "") -> None:
    """UnattendedSignIn unless a person can answer the prompt ``what`` ("a device code", "a browser")."""
    if not attended:
        raise UnattendedSignIn(
            f"signing in needs a person to answer {what}{why}, and nobody can see a prompt here: kubectl did not "
            "run this from a terminal (a background tool, or interactiveMode: Never) and stderr is not a terminal.")


@contextlib.contextmanager
def prompting(ctx: Any, what: str) -> Iterator[None]:
    """Around a prompt: refused when nobody can answer it or an earlier one went unanswered lately (unless the
    person asked for the sign-in: ``akslogin login``); recorded while it runs, so that one left unanswered
    (timed out, interrupted, killed) holds off the next ones for BACKOFF."""
    require_person(what, attended=ctx.attended)
    now = ctx.clock()
    if not ctx.explicit_sign_in:
        since = unanswered_since(ctx.cache_dir, ctx.identity_key, now)
        if since is not None:
            at = time.strftime("%H:%M", time.localtime(since))
            raise UnattendedSignIn(
                f"the sign-in prompt at {at} was not answered, so kubectl calls do not prompt again for "
                f"{BACKOFF / 60:.0f} minutes (each would print {what} nobody may see).")
    _write(ctx.cache_dir, ctx.identity_key, {"started": now, "deadline": now + ctx.opts.timeout_seconds})
    try:
        yield
    except BaseException as exc:
        if isinstance(exc, KeyboardInterrupt) or getattr(exc, "code", None) in _UNANSWERED_CODES \
                or getattr(exc, "unanswered", False):
            _write(ctx.cache_dir, ctx.identity_key, {"abandoned": ctx.clock()})
        else:
            _clear(ctx.cache_dir, ctx.identity_key)
        raise
    _clear(ctx.cache_dir, ctx.identity_key)


def _clear(cache_dir: str, key: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(_marker(cache_dir, key))
