"""What the tiers of test_rbac_bind.py share: tests/{e2e,emulated,unit}/test_rbac_bind.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from akslogin.emulator import Emulator
from akslogin.usecases.rbac_bind import BindRequest, run
from support.explainworld import Streams, env_for, start


def emu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    yield from start(tmp_path_factory)


def bind(tmp_path: Path, kc: Path | None = None, **kw: Any) -> tuple[int, Streams, dict[str, Any]]:
    streams = Streams()
    req = BindRequest(kubeconfig=str(kc) if kc else str(tmp_path / "no-such-kubeconfig"), **kw)
    code = run(req, env_for(tmp_path), streams.out, streams.err)
    doc = yaml.safe_load(streams.stdout) if code == 0 and streams.stdout else {}
    return code, streams, doc
