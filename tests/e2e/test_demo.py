"""`make demo` is the README's main promise: it must run offline, exit 0, tell each step, stay under two
minutes and leave the user's own ~/.kube alone. Runs in the normal suite (marker ``demo`` only labels it)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from support.paths import REPO
from support.run import clean_env

DEMO = REPO / "demo" / "demo.py"


@pytest.mark.demo
def test_demo_tells_the_whole_story(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    env = clean_env(home, NO_COLOR="1")
    started = time.monotonic()
    result = subprocess.run([sys.executable, str(DEMO)], env=env, capture_output=True, text=True, timeout=180,
                            stdin=subprocess.DEVNULL)
    elapsed = time.monotonic() - started
    out = result.stdout
    assert result.returncode == 0, f"demo failed:\n{out}\n{result.stderr}"
    assert elapsed < 120, f"the demo took {elapsed:.0f}s"
    assert "\033[" not in out, "NO_COLOR must turn colours off"

    steps = out.split("\n1/6")[1].split("\n2/6")[0], *(
        out.split(f"\n{n}/6")[1].split(f"\n{n + 1}/6" if n < 6 else "\nOn your own cluster")[0]
        for n in (2, 3, 4, 5, 6))
    # wrapped lines are joined again, so phrases can be looked for whatever the terminal width
    admin, ci, person, explain, azure, speed = (" ".join(step.split()) for step in steps)
    # 1: the admin credential works without sign-in and is system:masters; prod refuses it
    assert "ci$ akslogin get-credentials --admin -g rg-dev -n aks-dev" in admin
    assert "system:masters" in admin and "masterclient" in admin
    assert "local accounts disabled" in admin
    # 2: the CI service principal: user kubeconfig, no secret written, kubectl lists pods with no prompt
    assert "no secret is written in the file" in ci
    assert "web-7d9f8c6b5-2xkqp" in ci and "1 token request to Entra ID" in ci and "devicelogin" not in ci
    # 3: a person signs in once by device code, then the refresh token serves kubectl
    assert "Converted 1 user(s)" in person
    assert person.count("enter the") == 1 and "approve" in person
    assert person.count("api-6b8d7f9c4-q2w3e") == 2 and "refresh token" in person
    # 4: a Forbidden, explained and fixed when the commands exist; kubectl's own view otherwise
    assert 'secrets is forbidden: User "frank@corp.contoso.com"' in explain
    if "lacks" not in explain:
        assert "akslogin explain-forbidden" in explain and "akslogin rbac bind" in explain
        assert "No resources found in team-a namespace." in explain
    # 5: an Azure RBAC cluster: Azure's denial, the role assignment explain-forbidden advises, then access
    assert "Update role assignment to allow access." in azure
    if "explain-forbidden" in azure:
        assert 'az role assignment create' in azure and '"Azure Kubernetes Service RBAC Reader"' in azure
        assert "/namespaces/billing" in azure
    assert azure.count("invoicer-6c9d8b7f5-k2m4p") == 1
    # 6: the speed of the cached path
    assert "akslogin get-token (cached)" in speed and "ms" in speed
    assert '"kind": "ExecCredential"' in speed and "characters)" in speed  # the token itself is never shown
    # the ending: what to run on a real cluster, and the measured total
    assert "On your own cluster" in out and "akslogin get-credentials --login spn" in out
    assert "Demo finished in" in out
    assert not (home / ".kube").exists(), "the demo wrote into the user's own ~/.kube"
    assert "eyJ" not in out.replace("eyJhbGciOiJS…", "")
