"""get-credentials --all keeps to --max-concurrency and honours ARM's 429 Retry-After: counted, not timed.

The real CLI against this module's emulator, whose ARM adds latency to every call so that requests overlap.
The emulator counts the ARM requests it is handling at once (``GET /_emulator/requests/concurrency``); its
request log says when each request arrived and was answered, so a retry's wait is read off the server side.
The timed comparison (200 clusters, serial vs parallel) is ``bench/run``'s, not a test's.

Here: the unit tier (in process; no emulator, process or socket).
"""

from __future__ import annotations

import sys

from akslogin.emulator.net.requestlog import RequestLog
from support.paths import BENCH

sys.path.insert(0, str(BENCH))




def test_request_log_peaks_restart_from_what_is_in_flight_at_reset() -> None:
    log = RequestLog()
    for _ in range(3):
        log.begin("arm")
    log.begin("aks:c1")
    log.end("arm")
    assert log.concurrency() == {"in_flight": {"arm": 2, "aks:c1": 1}, "peak": {"arm": 3, "aks:c1": 1}}
    log.reset()  # two ARM requests are still open: the new peak starts from them, not from zero
    assert log.peak("arm") == 2 and log.peak("aks") == 1
    log.end("arm")
    log.end("arm")
    log.end("aks:c1")
    assert log.concurrency()["in_flight"] == {} and log.peak("arm") == 2
