"""What a new user hits, each reproduced first: the default login mode timing out, diagnostics that must see the
token kubectl would get, relative paths in kubeconfigs, audit of the admin credential, odd consoles, usage
errors and exit codes, and kubectl's KUBECONFIG rule.

Here: the unit tier (in process; no emulator, process or socket).
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from akslogin.credentials import devicepoll
from akslogin.errors import AuthenticationError


def test_poll_whose_request_meets_the_deadline_explains_70016() -> None:
    """The run's HTTP deadline can pass between two polls (it started before the poll loop): same answer."""
    from akslogin.errors import DeadlineError

    answers = iter([{"error": "authorization_pending"}])

    def step() -> dict[str, object]:
        try:
            return next(answers)
        except StopIteration:
            raise DeadlineError("the time limit of 10s ran out before https://login.example answered.") from None

    with pytest.raises(AuthenticationError) as info:
        devicepoll.poll(step, lambda: 5.0, deadline=100.0, now=lambda: 0.0, sleep=lambda _s: None)
    assert info.value.code == 70016


def test_retry_safe_request_after_the_deadline_is_a_time_limit_error() -> None:
    """Every retry-safe request whose deadline has passed takes this path (it crashed with UnboundLocalError)."""
    from akslogin.errors import NetworkError
    from akslogin.http import HttpClient

    ticks = iter([0.0, 100.0])
    http = HttpClient(5, clock=lambda: next(ticks, 100.0))
    with pytest.raises(NetworkError) as info:
        http.get("https://127.0.0.1:9/never")
    assert "time limit of 5s ran out before https://127.0.0.1:9 answered" in info.value.message


@pytest.mark.parametrize(("value", "traceback"), [("0", False), ("false", False), ("", False), ("no", False),
                                                  ("1", True), ("true", True), ("yes", True)])
def test_akslogin_debug_only_for_yes_values(value: str, traceback: bool) -> None:
    from akslogin.errors import guarded

    def bug() -> int:
        raise ZeroDivisionError

    err = io.StringIO()
    if traceback:
        with pytest.raises(ZeroDivisionError):
            guarded(bug, err, {"AKSLOGIN_DEBUG": value})
    else:
        assert guarded(bug, err, {"AKSLOGIN_DEBUG": value}) == 1
        assert "internal error (ZeroDivisionError)" in err.getvalue()


def test_emoji_are_written_as_kubectl_writes_them(tmp_path: Path) -> None:
    from akslogin.kubeconfig import files

    path = tmp_path / "config"
    files.update(str(path), lambda c: c.put("contexts", "prod 🚀", {"cluster": "c", "user": "u"}))
    text = path.read_text(encoding="utf-8")
    assert "prod 🚀" in text and "\\U0001F680" not in text


def test_merge_kubeconfig_refuses_an_unknown_current_context(tmp_path: Path) -> None:
    import akslogin
    from akslogin.kubeconfig.model import KubeConfig, MissingKubeconfigError

    target = KubeConfig({"contexts": [{"name": "b", "context": {"cluster": "c", "user": "u"}}]}, "mine")
    incoming = KubeConfig({"contexts": [{"name": "a", "context": {"cluster": "c", "user": "u"}}]}, "x")
    with pytest.raises(MissingKubeconfigError):
        akslogin.merge_kubeconfig(target, incoming, set_current="nope")
    assert akslogin.merge_kubeconfig(target, incoming, set_current="a").current_context == "a"


def test_az_aadsts_line_wins_over_its_generic_error_line() -> None:
    from akslogin.credentials.cli_tool import first_error_line

    text = ("ERROR: The command failed with an unexpected error. Here is the traceback:\n"
            "ERROR: AADSTS700082: The refresh token has expired due to inactivity.\n")
    assert first_error_line(text).startswith("ERROR: AADSTS700082")
