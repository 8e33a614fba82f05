"""What the tiers of test_doctor.py share: tests/{emulated,unit}/test_doctor.py."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from akslogin.usecases.doctor import DoctorRequest, run
from support.explainworld import (
    Streams,
)


def doctor(env: dict[str, str], kc: Path | None = None, **kw: Any) -> tuple[int, dict[str, Any], Streams]:
    streams = Streams()
    code = run(DoctorRequest(kubeconfig=str(kc) if kc else None, output="json", **kw), env, streams.out, streams.err)
    return code, json.loads(streams.stdout), streams


def failed(report: dict[str, Any]) -> dict[str, Any]:
    """The failing step; every later step must be reported as not checked."""
    names = [s["name"] for s in report["steps"]]
    fails = [s for s in report["steps"] if s["status"] == "fail"]
    assert len(fails) == 1, report
    after = report["steps"][names.index(fails[0]["name"]) + 1:]
    assert all(s["status"] == "skip" and "earlier step failed" in s["message"] for s in after)
    return fails[0]
