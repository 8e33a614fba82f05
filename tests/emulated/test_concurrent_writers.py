"""2 × 50 concurrent writers on one kubeconfig: 50 `get-credentials` (one cluster each) and 50
`convert-kubeconfig` runs at the same time. Every entry must be there at the end, the file must parse and
stay private, and every user must still be a valid exec plugin."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from akslogin.emulator import Emulator
from akslogin.emulator.world import world_from_dict
from akslogin.kubeconfig import files
from support.armworld import FLEETBOT, Runner, fleet_spec, sub_id
from support.run import akslogin_bin

SUBS, PER_SUB = 5, 10  # 50 clusters


@pytest.fixture(scope="module")
def emu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    with Emulator(world_from_dict(fleet_spec(SUBS, PER_SUB)), tmp_path_factory.mktemp("writers-emu")) as e:
        yield e


def test_fifty_imports_and_fifty_conversions_at_once_lose_nothing(emu: Emulator, tmp_path: Path) -> None:
    runner = Runner(emu, tmp_path)
    env = runner.env(FLEETBOT)
    # Warm the ARM token once so the 50 imports do not all queue on the same sign-in.
    first = runner.get_credentials("-g", "rg-a", "-n", "api", "-s", sub_id(101), "--context", "warm",
                                   principal=FLEETBOT)
    assert first.returncode == 0, first.stderr
    base = [akslogin_bin()]
    clusters = [(s, i) for s in range(1, SUBS + 1) for i in range(PER_SUB)]
    imports, conversions = [], []
    for s, i in clusters:
        rg = "rg-a" if i % 2 == 0 else "rg-b"
        arm_name = "api" if i == 0 else f"svc-{s}" if i in (1, 2) else f"app-{s}-{i}"
        argv = [*base, "get-credentials", *runner.signin(FLEETBOT), "--arm-endpoint", emu.server_url("arm"),
                "--exec-command", akslogin_bin(), "-g", rg, "-n", arm_name, "-s", sub_id(100 + s),
                "--context", f"ctx-{s}-{i}", "--file", str(runner.kubeconfig)]
        imports.append(subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
        convert = [*base, "convert-kubeconfig", "--kubeconfig", str(runner.kubeconfig), "--login", "spn",
                   "--exec-command", akslogin_bin()]
        conversions.append(subprocess.Popen(convert, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                            text=True))
    results = [(p.communicate(timeout=300), p.returncode) for p in [*imports, *conversions]]
    failures = [(out, code) for out, code in results if code != 0]
    assert failures == [], failures[:3]

    config = files.load(str(runner.kubeconfig), missing_ok=False)
    contexts = set(config.names("contexts"))
    assert {f"ctx-{s}-{i}" for s, i in clusters} <= contexts
    # Every context still points at a cluster and a user that exist (AKS's user names repeat across
    # subscriptions for same-named clusters, so users may be shared; nothing may dangle).
    for name in contexts:
        body = config.get("contexts", name)
        assert body is not None
        assert config.get("clusters", body["cluster"]) is not None and config.get("users", body["user"]) is not None
    for name in config.names("users"):
        body = config.get("users", name)
        assert body is not None and body["exec"]["command"] == akslogin_bin()
        assert "--client-secret" not in body["exec"]["args"]
    assert runner.kubeconfig.stat().st_mode & 0o777 == 0o600
