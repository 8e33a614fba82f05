"""Each login mode declares what it needs once, in its own module: get-token stops at the first problem of that
declaration, and doctor reports the same declaration (with the mode's preflight), so the two never disagree."""

from __future__ import annotations

import importlib
import io
from pathlib import Path

import pytest

from akslogin.clouds import AKS_SERVER_APP_ID
from akslogin.credentials.base import LOGIN_MODES, login_problems
from akslogin.options import TokenOptions
from akslogin.usecases.get_token import run
from support.run import clean_env

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
APP = "abababab-0000-4000-8000-0000000000aa"

#: (case, get-token flags, environment) where the mode lacks exactly one thing it declares.
CASES = [
    ("spn without a secret", ["-l", "spn", "-t", TENANT, "--client-id", APP], {}),
    ("spn without a tenant", ["-l", "spn", "--client-id", APP], {"AZURE_CLIENT_SECRET": "s"}),
    ("ropc without a password", ["-l", "ropc", "-t", TENANT, "--client-id", APP, "--username", "u@x.example"], {}),
    ("devicecode without a client", ["-l", "devicecode", "-t", TENANT], {}),
    ("interactive without a tenant", ["-l", "interactive", "--client-id", APP], {}),
    ("workloadidentity without a token", ["-l", "workloadidentity", "-t", TENANT, "--client-id", APP], {}),
    ("azurepipelines outside a job", ["-l", "azurepipelines", "-t", TENANT, "--client-id", APP,
                                      "--azure-pipelines-service-connection-id", "c"], {"SYSTEM_ACCESSTOKEN": "x"}),
]


def test_every_login_mode_declares_its_requirements() -> None:
    for mode, target in LOGIN_MODES.items():
        module = importlib.import_module(target.partition(":")[0])
        assert callable(getattr(module, "requirements", None)), mode
        assert module.requirements(TokenOptions(login=mode), {}) is not None


@pytest.mark.parametrize(("flags", "environ"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_get_token_stops_at_the_first_declared_problem(tmp_path: Path, flags: list[str],
                                                       environ: dict[str, str]) -> None:
    from akslogin import options

    env = clean_env(tmp_path, **environ)
    opts = options.parse_args(["--server-id", AKS_SERVER_APP_ID, *flags])
    options.apply_env(opts, env)
    options.validate(opts)
    declared = login_problems(opts, env)
    assert len(declared) == 1, declared

    out, err = io.StringIO(), io.StringIO()
    code = run(["--server-id", AKS_SERVER_APP_ID, "--cache-dir", str(tmp_path / "cache"), *flags], env, out, err)
    assert code == 2 and out.getvalue() == ""
    assert err.getvalue().strip() == f"akslogin: {declared[0].message} {declared[0].fix}"


def test_doctor_preflight_says_what_get_token_would(tmp_path: Path) -> None:
    """A certificate that cannot be read: doctor's preflight loads it as the sign-in does, same words."""
    missing = tmp_path / "gone.pem"
    flags = ["-l", "spn", "-t", TENANT, "--client-id", APP, "--client-certificate", str(missing)]
    env = clean_env(tmp_path)
    out, err = io.StringIO(), io.StringIO()
    assert run(["--server-id", AKS_SERVER_APP_ID, "--cache-dir", str(tmp_path / "cache"), *flags], env, out, err) != 0
    opts = TokenOptions(login="spn", tenant_id=TENANT, client_id=APP, client_certificate=str(missing))
    assert login_problems(opts, env) == []  # declared inputs are all there
    found = login_problems(opts, env, preflight=True)
    assert len(found) == 1 and str(missing) in found[0].message
    assert err.getvalue().strip() == f"akslogin: {found[0].message} {found[0].fix}".strip()


def test_a_missing_cli_is_found_as_the_sign_in_looks_for_it(tmp_path: Path) -> None:
    env = clean_env(tmp_path, PATH=str(tmp_path / "empty"))
    for mode, tool in (("azurecli", "'az'"), ("azd", "'azd'")):
        found = login_problems(TokenOptions(login=mode), env, preflight=True)
        assert len(found) == 1 and tool in found[0].message and "not on PATH" in found[0].message
