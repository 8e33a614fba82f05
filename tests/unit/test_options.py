"""get-token option parsing and kubelogin's environment precedence."""

from __future__ import annotations

import pytest

from akslogin import options
from akslogin.errors import UsageError


def _parse(argv: list[str], env: dict[str, str] | None = None) -> options.TokenOptions:
    opts = options.parse_args(argv)
    options.apply_env(opts, env or {})
    return opts


def test_flag_forms() -> None:
    opts = _parse(["-l", "spn", "--server-id=abc", "-t", "t1", "--legacy", "--v=4", "--timeout", "1m30s",
                   "--certificate-authority", "a.pem", "--certificate-authority=b.pem"])
    assert (opts.login, opts.server_id, opts.tenant_id, opts.legacy) == ("spn", "abc", "t1", True)
    assert opts.verbosity_level == 4 and opts.timeout_seconds == 90
    assert opts.certificate_authority == ["a.pem", "b.pem"]
    assert _parse(["-lspn", "--legacy=false"]).legacy is False


def test_env_precedence_matches_kubelogin() -> None:
    env = {"AAD_LOGIN_METHOD": "spn", "AAD_SERVICE_PRINCIPAL_CLIENT_ID": "aad", "AZURE_CLIENT_ID": "azure",
           "AZURE_TENANT_ID": "tenant-env"}
    opts = _parse(["--client-id", "flag", "-t", "tenant-flag", "-l", "devicecode"], env)
    assert (opts.login, opts.client_id, opts.tenant_id) == ("spn", "azure", "tenant-env")
    off = _parse(["--client-id", "flag", "--disable-environment-override"], env)
    assert off.client_id == "flag" and off.login == "devicecode"


def test_azurerm_variables_replace_the_azure_ones() -> None:
    env = {"ARM_CLIENT_ID": "arm", "AZURE_CLIENT_ID": "azure", "ARM_CLIENT_SECRET": "s", "ARM_TENANT_ID": "t"}
    opts = _parse(["--use-azurerm-env-vars"], env)
    assert (opts.client_id, opts.client_secret, opts.tenant_id) == ("arm", "s", "t")


def test_mode_scoped_variables() -> None:
    env = {"AZURE_FEDERATED_TOKEN_FILE": "/f", "AZURE_AUTHORITY_HOST": "https://h/"}
    assert _parse(["-l", "spn"], env).authority_host == ""
    wi = _parse(["-l", "workloadidentity"], env)
    assert (wi.federated_token_file, wi.authority_host) == ("/f", "https://h/")
    pipes = _parse(["-l", "azurepipelines", "-t", "keep"], {"AZURESUBSCRIPTION_TENANT_ID": "fill",
                                                            "AZURESUBSCRIPTION_CLIENT_ID": "cid"})
    assert (pipes.tenant_id, pipes.client_id) == ("keep", "cid")


def test_cache_dir_flag_beats_kubecachedir() -> None:
    assert _parse([], {"KUBECACHEDIR": "/env"}).cache_dir == "/env"
    assert _parse(["--cache-dir", "/flag"], {"KUBECACHEDIR": "/env"}).cache_dir == "/flag"
    assert _parse(["--token-cache-dir", "/old"]).cache_dir == "/old"


def test_describe_masks_secrets() -> None:
    opts = _parse(["--client-secret", "s3cr3t", "--password", "pw", "--client-id", "c"])
    text = opts.describe()
    assert "s3cr3t" not in text and "pw" not in text.replace("password=***", "") and "client_id=c" in text


@pytest.mark.parametrize(("text", "seconds"), [("60", 60), ("90s", 90), ("2m", 120), ("1h", 3600),
                                                ("1m30s", 90), ("500ms", 0.5)])
def test_durations(text: str, seconds: float) -> None:
    assert options.parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "soon", "5x", "1m30"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(UsageError):
        options.parse_duration(text)


def test_validation_normalises_authority_and_login() -> None:
    opts = _parse(["--server-id", "x", "-l", "SPN", "--authority-host", "https://127.0.0.1:8443"])
    options.validate(opts)
    assert opts.login == "spn" and opts.authority_host == "https://127.0.0.1:8443/"
    with pytest.raises(UsageError, match="go together"):
        options.validate(_parse(["--server-id", "x", "--pop-enabled"]))


def test_help_lists_every_flag() -> None:
    text = options.render_help()
    for flag in options.FLAGS:
        assert flag.long in text


def test_login_hint_separates_interactive_cache_entries() -> None:
    from akslogin.tokencache.key import identity_key

    base = ["-l", "interactive", "--server-id", "s", "--client-id", "c", "-t", "t"]
    alice = identity_key(_parse([*base, "--login-hint", "alice@x"]), "https://h/")
    bob = identity_key(_parse([*base, "--login-hint", "bob@x"]), "https://h/")
    assert alice != bob and alice == identity_key(_parse([*base, "--login-hint", "ALICE@x"]), "https://h/")


class _Recording(dict[str, str]):
    """An environment that remembers every name asked for."""

    def __init__(self) -> None:
        super().__init__()
        self.read: set[str] = set()

    def get(self, key: str, default: object = None) -> object:  # type: ignore[override]
        self.read.add(key)
        return super().get(key, default)


def test_every_variable_get_token_reads_is_in_its_help() -> None:
    """The help's [env: ...] notes and apply_env both come from Flag.env; a variable apply_env reads but the
    help does not name would be a setting nobody can discover (two were missing once)."""
    read: set[str] = set()
    for login in options.LOGIN_MODES:
        for extra in ([], ["--use-azurerm-env-vars"], ["--disable-environment-override"]):
            env = _Recording()
            options.apply_env(options.parse_args(["-l", login, *extra]), env)
            read |= env.read
    assert {"AAD_LOGIN_METHOD", "AZURESUBSCRIPTION_TENANT_ID", "ARM_TENANT_ID"} <= read  # the scan works
    text = options.render_help()
    assert sorted(name for name in read if name not in text) == []


def _sources() -> list[tuple[options.Flag, options.Env, str]]:
    return [(flag, source, name) for flag in options.FLAGS for source in flag.env for name in source.names]


@pytest.mark.parametrize(("flag", "source", "name"), _sources(),
                         ids=[f"{f.long}-{n}-{'+'.join(s.when) or 'any'}" for f, s, n in _sources()])
def test_each_declared_variable_sets_its_flag(flag: options.Flag, source: options.Env, name: str) -> None:
    """What the table declares is what apply_env does: under its conditions, the variable alone sets the flag;
    the help names it."""
    argv = ["--use-azurerm-env-vars"] if options.AZURERM in source.when else []
    modes = [c for c in source.when if c not in (options.AZURERM, options.NOT_AZURERM)]
    argv += ["-l", modes[0] if modes else "spn"]
    value = "90s" if flag.dest == "timeout" else "file" if flag.dest == "cache_storage" else "from-env"
    opts = options.parse_args(argv)
    options.apply_env(opts, {name: value})
    assert getattr(opts, flag.dest) == value
    assert name in options.render_help()
    if not source.always:
        off = options.parse_args([*argv, "--disable-environment-override"])
        options.apply_env(off, {name: value})
        assert getattr(off, flag.dest) != value


def test_a_variable_the_flag_would_refuse_is_a_note() -> None:
    opts = options.parse_args(["--timeout", "30s"])
    notes = options.apply_env(opts, {"AZURE_CLI_TIMEOUT": " soon "})
    assert opts.timeout == "30s"
    assert notes == ["AZURE_CLI_TIMEOUT='soon' is not a duration (e.g. 90s, 2m); ignoring it and using --timeout 30s."]
