"""get-token's options: kubelogin's flags and environment variables, with kubelogin's precedence.

One table describes every flag and the environment variables that set it; a small stdlib parser reads argv
on the hot path, :func:`apply_env` walks the same table, and the table renders ``--help``. Environment
variables are applied after flags and win over them, as in kubelogin (an empty variable is ignored rather
than blanking a flag).

This module is on the hot path of every kubectl command, so it imports neither typing, dataclasses nor
re at run time: plain classes with ``__slots__``, and small hand-written parsers.
"""

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from typing import Any

    from akslogin.errors import UsageError


def _usage(message: str, hint: "str | None" = None) -> "UsageError":
    """A bad flag's error. errors.py is imported only when there is one: a cached token never needs it."""
    from akslogin.errors import UsageError

    return UsageError(message, hint)


LOGIN_MODES = (
    "devicecode", "interactive", "spn", "ropc", "msi", "azurecli", "azd", "workloadidentity", "azurepipelines",
)
CACHE_STORAGES = ("auto", "keyring", "kernel", "file")
DEFAULT_TIMEOUT = 60.0


#: Conditions an environment variable can be read under (kubelogin's rules): ``AZURERM`` with
#: --use-azurerm-env-vars, ``NOT_AZURERM`` without it, a login mode's name for that mode only.
AZURERM = "--use-azurerm-env-vars"
NOT_AZURERM = "no --use-azurerm-env-vars"


class Env:
    """Variables that set a flag: ``names`` in order, the last one set wins, and only ``when`` every
    condition holds. ``fill``: only when the flag was not given (kubelogin's AZURESUBSCRIPTION_* rule);
    ``always``: even under --disable-environment-override (KUBECACHEDIR); ``lenient``: a value the flag would
    refuse is ignored with a note instead of failing every kubectl call (AZURE_CLI_TIMEOUT, as kubelogin)."""

    __slots__ = ("always", "fill", "lenient", "names", "when")

    def __init__(self, *names: str, when: tuple[str, ...] = (), fill: bool = False, always: bool = False,
                 lenient: bool = False) -> None:
        self.names = names
        self.when = when
        self.fill = fill
        self.always = always
        self.lenient = lenient

    def applies(self, opts: "TokenOptions") -> bool:
        for condition in self.when:
            if condition == AZURERM:
                held = opts.use_azurerm_env_vars
            elif condition == NOT_AZURERM:
                held = not opts.use_azurerm_env_vars
            else:
                held = opts.login == condition
            if not held:
                return False
        return True

    def describe(self) -> str:
        """For the help: the names, and when they count ("" for the default case)."""
        notes = ["with " + c if c == AZURERM else c for c in self.when if c != NOT_AZURERM]
        if self.fill:
            notes.append("when not given")
        if self.always:
            notes.append("even with --disable-environment-override")
        return ", ".join(self.names) + (f" ({', '.join(notes)})" if notes else "")


class Flag:
    """One get-token flag: its names, where it is stored, its help line, and the variables that set it."""

    __slots__ = ("boolean", "dest", "env", "help", "long", "metavar", "repeatable", "short")

    def __init__(self, long: str, dest: str, help: str, short: str | None = None, boolean: bool = False,
                 metavar: str = "VALUE", env: "tuple[Env, ...]" = (), repeatable: bool = False) -> None:
        self.long = long
        self.dest = dest
        self.help = help
        self.short = short
        self.boolean = boolean
        self.metavar = metavar
        #: What apply_env reads for it, in order, and what the help names.
        self.env = env
        self.repeatable = repeatable

    @property
    def env_help(self) -> str:
        """``[env: ...]`` for the help text, or ""."""
        if not self.env:
            return ""
        described = [source.describe() for source in self.env]
        described.sort(key=lambda text: "(" in text)  # the usual variables first, the conditional ones after
        return f" [env: {'; '.join(described)}]"

    def __repr__(self) -> str:
        return f"Flag({self.long!r}, {self.dest!r})"


_WI = "workloadidentity"
_PIPELINES = "azurepipelines"


FLAGS: tuple[Flag, ...] = (
    Flag("--login", "login", "login mode: " + ", ".join(LOGIN_MODES) + " (default devicecode)", short="-l",
         metavar="MODE", env=(Env("AAD_LOGIN_METHOD"),)),
    Flag("--server-id", "server_id", "application id of the cluster's server app (AKS: "
         "6dae42f8-4368-4678-94ff-3960e28e3630); required", metavar="ID"),
    Flag("--client-id", "client_id", "application (client) id of the app or identity signing in", metavar="ID",
         env=(Env("ARM_CLIENT_ID", when=(AZURERM,)),
              Env("AZURE_CLIENT_ID", when=(AZURERM, _WI)),  # kubelogin: the workload identity webhook's wins
              Env("AAD_SERVICE_PRINCIPAL_CLIENT_ID", "AZURE_CLIENT_ID", when=(NOT_AZURERM,)),
              Env("AZURESUBSCRIPTION_CLIENT_ID", when=(_PIPELINES,), fill=True))),
    Flag("--client-secret", "client_secret", "client secret (spn); prefer the environment variable, argv is "
         "visible to other processes", metavar="SECRET",
         env=(Env("ARM_CLIENT_SECRET", when=(AZURERM,)),
              Env("AAD_SERVICE_PRINCIPAL_CLIENT_SECRET", "AZURE_CLIENT_SECRET", when=(NOT_AZURERM,)))),
    Flag("--client-certificate", "client_certificate", "PEM (certificate + private key) or .pfx file (spn)",
         metavar="FILE",
         env=(Env("ARM_CLIENT_CERTIFICATE_PATH", when=(AZURERM,)),
              Env("AAD_SERVICE_PRINCIPAL_CLIENT_CERTIFICATE", "AZURE_CLIENT_CERTIFICATE_PATH", when=(NOT_AZURERM,)))),
    Flag("--client-certificate-password", "client_certificate_password", "password of the PFX or encrypted key",
         metavar="PASSWORD",
         env=(Env("ARM_CLIENT_CERTIFICATE_PASSWORD", when=(AZURERM,)),
              Env("AAD_SERVICE_PRINCIPAL_CLIENT_CERTIFICATE_PASSWORD", "AZURE_CLIENT_CERTIFICATE_PASSWORD",
                  when=(NOT_AZURERM,)))),
    Flag("--username", "username", "user principal name (ropc)", metavar="UPN",
         env=(Env("AAD_USER_PRINCIPAL_NAME", "AZURE_USERNAME"),)),
    Flag("--password", "password", "password (ropc)", metavar="PASSWORD",
         env=(Env("AAD_USER_PRINCIPAL_PASSWORD", "AZURE_PASSWORD"),)),
    Flag("--tenant-id", "tenant_id", "tenant id or verified domain", short="-t", metavar="TENANT",
         env=(Env("ARM_TENANT_ID", when=(AZURERM,)), Env("AZURE_TENANT_ID", when=(NOT_AZURERM,)),
              Env("AZURESUBSCRIPTION_TENANT_ID", when=(_PIPELINES,), fill=True))),
    Flag("--environment", "environment", "AzurePublicCloud (default), AzureChinaCloud, AzureUSGovernmentCloud",
         short="-e", metavar="NAME"),
    Flag("--authority-host", "authority_host", "sign-in host, overrides --environment (e.g. ADFS, Azure Stack)",
         metavar="URL", env=(Env("AZURE_AUTHORITY_HOST", when=(_WI,)),)),
    Flag("--disable-instance-discovery", "disable_instance_discovery",
         "skip Entra instance discovery (ADFS, Azure Stack, private hosts)", boolean=True),
    Flag("--identity-resource-id", "identity_resource_id", "ARM id of a user-assigned managed identity (msi)",
         metavar="ID"),
    Flag("--federated-token-file", "federated_token_file", "federated token file (workloadidentity)",
         metavar="FILE", env=(Env("AZURE_FEDERATED_TOKEN_FILE", when=(_WI,)),)),
    Flag("--azure-pipelines-service-connection-id", "azure_pipelines_service_connection_id",
         "Azure Pipelines service connection id (azurepipelines)", metavar="ID",
         env=(Env("AZURESUBSCRIPTION_SERVICE_CONNECTION_ID", when=(_PIPELINES,), fill=True),)),
    Flag("--subscription", "subscription", "subscription passed to az (azurecli)", short="-s", metavar="ID"),
    Flag("--redirect-url", "redirect_url", "loopback redirect URL (interactive)", metavar="URL"),
    Flag("--login-hint", "login_hint", "account to preselect (interactive)", metavar="UPN"),
    Flag("--legacy", "legacy", "use the v1 endpoint and the spn: audience (old AADv1 clusters)", boolean=True),
    Flag("--pop-enabled", "pop_enabled", "proof-of-possession tokens (Azure Arc)", boolean=True),
    Flag("--pop-claims", "pop_claims", "PoP claims, u=<ARM id of the cluster>", metavar="CLAIMS"),
    Flag("--use-azurerm-env-vars", "use_azurerm_env_vars", "read Terraform's ARM_CLIENT_ID, ARM_CLIENT_SECRET, "
         "ARM_CLIENT_CERTIFICATE_PATH, ARM_CLIENT_CERTIFICATE_PASSWORD and ARM_TENANT_ID instead of the "
         "AAD_*/AZURE_* ones (workloadidentity: AZURE_CLIENT_ID still wins)", boolean=True),
    Flag("--disable-environment-override", "disable_environment_override",
         "ignore environment variables (except KUBECACHEDIR)", boolean=True),
    Flag("--cache-dir", "cache_dir", "token cache directory (default $KUBECACHEDIR or ~/.kube/cache/akslogin)",
         metavar="DIR", env=(Env("KUBECACHEDIR", fill=True, always=True),)),
    Flag("--token-cache-dir", "cache_dir", "deprecated alias of --cache-dir", metavar="DIR"),
    Flag("--cache-storage", "cache_storage", "where refresh tokens are kept: auto (encrypted, key in the OS secret "
         "store, else a 0600 file with a one-time notice), keyring, kernel, or file (plaintext 0600)",
         metavar="MODE", env=(Env("AKSLOGIN_CACHE_STORAGE"),)),
    Flag("--timeout", "timeout", "time limit for the whole run, e.g. 60s, 2m (default 60s)", metavar="DURATION",
         env=(Env("AZURE_CLI_TIMEOUT", lenient=True),)),
    Flag("--certificate-authority", "certificate_authority", "extra CA bundle (PEM) to trust for the identity "
         "provider, on top of the system store, REQUESTS_CA_BUNDLE and SSL_CERT_FILE; repeatable", metavar="FILE",
         repeatable=True),
    Flag("--v", "verbosity", "log verbosity on stderr (a klog level: 0 quiet, 10 and above everything); secrets "
         "are never logged", short="-v",
         metavar="LEVEL"),
)

_BY_DEST: "dict[str, Flag]" = {f.dest: f for f in FLAGS}
_BY_NAME: "dict[str, Flag]" = {}
for _flag in FLAGS:
    _BY_NAME[_flag.long] = _flag
    if _flag.short:
        _BY_NAME[_flag.short] = _flag
_BY_NAME["-v"] = _BY_NAME["--v"]
_BY_NAME["--verbose"] = _BY_NAME["--v"]

SECRET_DESTS = frozenset({"client_secret", "client_certificate_password", "password"})
#: Fields that name a file or directory.
PATH_FIELDS = frozenset({"client_certificate", "federated_token_file", "cache_dir", "certificate_authority"})


def variable_for(dest: str) -> str:
    """The environment variable kubelogin reads for ``dest`` by default (what to use instead of a flag)."""
    for flag in FLAGS:
        if flag.dest == dest:
            for env in flag.env:
                if AZURERM not in env.when:
                    return env.names[0]
    return ""


#: klog switches kubelogin registers on its root command (so they may follow any subcommand): accepted and
#: ignored, since akslogin always logs to stderr.
KLOG_SWITCHES = frozenset({"--logtostderr", "--alsologtostderr"})


def check_utf8(arg: str) -> None:
    """A usage error for an argument the OS gave as bytes that are not UTF-8 (Python keeps them as lone
    surrogates, which no stream can print)."""
    try:
        arg.encode("utf-8")
    except UnicodeEncodeError:
        shown = arg.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
        raise _usage(f"the argument {shown[:60]!r} is not valid UTF-8.",
                     "Names in kubeconfigs and flags are UTF-8 text; check the shell's locale or the script.") from None


class HelpRequested(Exception):
    """``-h``/``--help`` was given."""


#: Every TokenOptions field, in declaration order (what ``describe`` and ``replace`` walk).
FIELDS = (
    "login", "server_id", "client_id", "client_secret", "client_certificate", "client_certificate_password",
    "username", "password", "tenant_id", "environment", "authority_host", "disable_instance_discovery",
    "identity_resource_id", "federated_token_file", "azure_pipelines_service_connection_id", "subscription",
    "redirect_url", "login_hint", "legacy", "pop_enabled", "pop_claims", "use_azurerm_env_vars",
    "disable_environment_override", "cache_dir", "cache_storage", "timeout", "certificate_authority", "verbosity",
    "explicit",
)


class TokenOptions:
    """The parsed get-token options. A plain class (not a dataclass) to keep the hot path import-light;
    use :meth:`replace` for a modified copy. Its repr masks secrets."""

    __slots__ = (*FIELDS, "from_env")

    def __init__(
        self,
        login: str = "devicecode",
        server_id: str = "",
        client_id: str = "",
        client_secret: str = "",
        client_certificate: str = "",
        client_certificate_password: str = "",
        username: str = "",
        password: str = "",
        tenant_id: str = "",
        environment: str = "AzurePublicCloud",
        authority_host: str = "",
        disable_instance_discovery: bool = False,
        identity_resource_id: str = "",
        federated_token_file: str = "",
        azure_pipelines_service_connection_id: str = "",
        subscription: str = "",
        redirect_url: str = "",
        login_hint: str = "",
        legacy: bool = False,
        pop_enabled: bool = False,
        pop_claims: str = "",
        use_azurerm_env_vars: bool = False,
        disable_environment_override: bool = False,
        cache_dir: str = "",
        cache_storage: str = "auto",
        timeout: str = "",
        certificate_authority: list[str] | None = None,
        verbosity: str = "0",
        explicit: set[str] | None = None,
    ) -> None:
        self.login = login
        self.server_id = server_id
        self.client_id = client_id
        self.client_secret = client_secret
        self.client_certificate = client_certificate
        self.client_certificate_password = client_certificate_password
        self.username = username
        self.password = password
        self.tenant_id = tenant_id
        self.environment = environment
        self.authority_host = authority_host
        self.disable_instance_discovery = disable_instance_discovery
        self.identity_resource_id = identity_resource_id
        self.federated_token_file = federated_token_file
        self.azure_pipelines_service_connection_id = azure_pipelines_service_connection_id
        self.subscription = subscription
        self.redirect_url = redirect_url
        self.login_hint = login_hint
        self.legacy = legacy
        self.pop_enabled = pop_enabled
        self.pop_claims = pop_claims
        self.use_azurerm_env_vars = use_azurerm_env_vars
        self.disable_environment_override = disable_environment_override
        self.cache_dir = cache_dir
        self.cache_storage = cache_storage
        self.timeout = timeout
        self.certificate_authority: list[str] = [] if certificate_authority is None else certificate_authority
        self.verbosity = verbosity
        #: dests given on the command line (not from the environment)
        self.explicit: set[str] = set() if explicit is None else explicit
        #: dest → the environment variable that set it (what an error names: "client id ... from AZURE_CLIENT_ID")
        self.from_env: dict[str, str] = {}

    @property
    def timeout_seconds(self) -> float:
        return parse_duration(self.timeout) if self.timeout else DEFAULT_TIMEOUT

    @property
    def verbosity_level(self) -> int:
        """klog's level: any whole number (kubeconfigs carry -v 99); 10 and above log everything there is."""
        try:
            return max(0, int(self.verbosity or 0))
        except ValueError:
            raise _usage(f"-v takes a whole number (a klog level, e.g. 5), not {self.verbosity!r}.") from None

    def replace(self, **changes: "Any") -> "TokenOptions":
        """A copy with ``changes`` applied (lists and sets are copied, not shared)."""
        values: dict[str, Any] = {name: getattr(self, name) for name in FIELDS}
        values["certificate_authority"] = list(self.certificate_authority)
        values["explicit"] = set(self.explicit)
        unknown = set(changes) - set(FIELDS)
        if unknown:
            raise TypeError(f"TokenOptions has no field(s) {', '.join(sorted(unknown))}")
        values.update(changes)
        copy = TokenOptions(**values)
        copy.from_env = {k: v for k, v in self.from_env.items() if k not in changes}
        return copy

    def origin(self, dest: str) -> str:
        """Where ``dest``'s value came from, for a message: "--client-id" or "the variable AZURE_CLIENT_ID"."""
        variable = self.from_env.get(dest)
        return f"the variable {variable}" if variable else flag_for_dest(dest)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, TokenOptions):
            return NotImplemented
        return all(getattr(self, name) == getattr(other, name) for name in FIELDS)

    __hash__ = None  # type: ignore[assignment]  # mutable, like the dataclass it replaces

    def __repr__(self) -> str:
        return f"TokenOptions({self.describe()})"

    def describe(self) -> str:
        """Options for a verbose log line, with every secret masked."""
        parts = []
        for name in FIELDS:
            if name == "explicit":
                continue
            value = getattr(self, name)
            if name in SECRET_DESTS and value:
                value = "***"
            if value not in ("", False, [], None):
                parts.append(f"{name}={value}")
        return " ".join(parts)


def parse_args(argv: "Sequence[str]", *, lenient: bool = False) -> "TokenOptions":
    """Parse get-token flags (no positional arguments). ``lenient`` reads an exec block written by any
    kubelogin or akslogin: an unknown flag (a newer kubelogin's) is skipped with its value, as are stray
    words, a flag without its value and an odd boolean, instead of failing; ``explicit`` says what was there."""
    for arg in argv:
        if not arg.isascii():
            check_utf8(arg)
    opts = TokenOptions()
    i = 0
    while i < len(argv):
        arg = argv[i]
        i += 1
        if arg in ("-h", "--help"):
            if lenient:
                continue
            raise HelpRequested
        name, eq, inline = arg.partition("=")
        if name in KLOG_SWITCHES:  # kubelogin's root log switches, taken anywhere as cobra does; no effect here
            continue
        if not name.startswith("-") or arg in ("-", "--"):
            if lenient:
                continue
            raise _usage(f"unexpected argument {arg[:60]!r}: get-token takes only flags.",
                             "Run 'akslogin get-token --help'.")
        flag = _BY_NAME.get(name)
        if flag is None and name.startswith("-") and not name.startswith("--") and len(name) > 2:
            # -lspn / -v5: short flag with the value attached
            flag, eq, inline = _BY_NAME.get(name[:2]), "=", name[2:] + (("=" + inline) if eq else "")
        if flag is None:
            if lenient:
                if not eq and i < len(argv) and not argv[i].startswith("-"):
                    i += 1  # an unknown flag's value
                continue
            raise _usage(f"unknown flag {name[:60]!r} for get-token.", "Run 'akslogin get-token --help'.")
        if flag.boolean:
            value: str | bool = True
            if eq:
                lowered = inline.lower()
                if lowered not in ("true", "false", "1", "0", "t", "f") and not lenient:
                    raise _usage(f"{flag.long} takes true or false, not {inline[:30]!r}.")
                value = lowered in ("true", "1", "t")
        elif eq:
            value = inline
        else:
            if i >= len(argv):
                if lenient:
                    continue
                raise _usage(f"flag {flag.long} needs a value ({flag.metavar}).")
            value = argv[i]
            i += 1
        if flag.repeatable:
            getattr(opts, flag.dest).append(value)
        else:
            setattr(opts, flag.dest, value)
        opts.explicit.add(flag.dest)
    return opts


def apply_env(opts: "TokenOptions", environ: "Mapping[str, str]") -> list[str]:
    """Apply kubelogin's environment overrides, as the flag table declares them (variables win over flags;
    the last name listed wins). Returns warnings about variables that were ignored (get-token prints them)."""
    notes: list[str] = []
    override = not opts.disable_environment_override
    for flag in FLAGS:  # --login comes first: the other variables depend on the mode it selects
        for source in flag.env:
            if (override or source.always) and source.applies(opts):
                _take(opts, flag, source, environ, notes)
    return notes


def _take(opts: "TokenOptions", flag: "Flag", source: "Env", environ: "Mapping[str, str]", notes: list[str]) -> None:
    for name in source.names:
        value = environ.get(name)
        if source.lenient and value:
            value = value.strip()
        if not value or (source.fill and getattr(opts, flag.dest)):
            continue
        if source.lenient:
            problem = _refused(flag, value)
            if problem:
                notes.append(f"{name}={value[:30]!r} {problem}; ignoring it and using {flag.long} "
                             f"{getattr(opts, flag.dest) or '60s'}.")
                continue
        setattr(opts, flag.dest, value)
        opts.from_env[flag.dest] = name


def flag_for_dest(dest: str) -> str:
    """The long flag that sets ``dest`` (e.g. ``--client-id``)."""
    return _BY_DEST[dest].long if dest in _BY_DEST else "--" + dest.replace("_", "-")


def _refused(flag: "Flag", value: str) -> str:
    """Why ``flag`` would refuse ``value`` ("" when it takes it); only --timeout reads a lenient variable."""
    from akslogin.errors import UsageError

    try:
        if parse_duration(value) > 0:
            return ""
    except UsageError:
        pass
    return "is not a duration (e.g. 90s, 2m)"


#: The start of validate()'s note about an environment outside the table (get-token shows it once per cache).
UNKNOWN_ENVIRONMENT_NOTE = "--environment "


def check_login(opts: "TokenOptions") -> None:
    """--login as kubelogin takes it (any case, spaces around); an unknown mode is a usage error."""
    opts.login = opts.login.strip().lower()
    if opts.login not in LOGIN_MODES:
        raise _usage(f"unknown login mode {opts.login[:40]!r}.", "Use one of: " + ", ".join(LOGIN_MODES) + ".")


def validate(opts: "TokenOptions") -> list[str]:
    """Checks every mode shares (each login mode declares its own: credentials/<mode>.requirements). Returns notes
    for the user (an environment name only --authority-host makes usable)."""
    notes: list[str] = []
    check_login(opts)
    if opts.cache_storage not in CACHE_STORAGES:
        raise _usage(
            f"--cache-storage must be one of {', '.join(CACHE_STORAGES)}, not {opts.cache_storage[:30]!r}.")
    if not opts.server_id:
        raise _usage("--server-id is required.",
                         "For AKS clusters it is 6dae42f8-4368-4678-94ff-3960e28e3630.")
    from akslogin.clouds import cloud, lookup

    if opts.environment and lookup(opts.environment) is None:
        if not opts.authority_host:
            cloud(opts.environment)  # the error naming the known clouds and --authority-host
        # Azure Stack Hub (AzureStackCloud) and other private clouds: the host given is where to sign in.
        notes.append(f"{UNKNOWN_ENVIRONMENT_NOTE}{opts.environment[:40]!r} is not a cloud akslogin knows; signing in "
                     f"at --authority-host {opts.authority_host[:80]} (as for Azure Stack Hub). This is shown once.")
    if opts.authority_host:
        if not is_https_url(opts.authority_host):
            raise _usage(
                f"--authority-host must be an https URL such as https://login.microsoftonline.com/, "
                f"not {opts.authority_host[:80]!r}.")
        if not opts.authority_host.endswith("/"):
            opts.authority_host += "/"
    if opts.timeout_seconds <= 0:
        raise _usage("--timeout must be greater than zero.")
    opts.verbosity_level  # noqa: B018 (raises for a -v that is not a whole number)
    if opts.pop_enabled != bool(opts.pop_claims):
        raise _usage("--pop-enabled and --pop-claims go together.",
                         "Pass both, e.g. --pop-enabled --pop-claims u=<ARM id of the cluster>.")
    if opts.pop_enabled:
        _validate_pop(opts)
    return notes


#: Login modes that can ask for a proof-of-possession token (as in kubelogin).
POP_MODES = ("spn", "interactive", "ropc")


def _validate_pop(opts: "TokenOptions") -> None:
    from akslogin.pop import parse_claims

    parse_claims(opts.pop_claims)
    if opts.login not in POP_MODES:
        raise _usage(
            f"--pop-enabled (proof-of-possession tokens for Azure Arc) works with --login {', '.join(POP_MODES)}; "
            f"--login {opts.login} cannot bind a token to a key, and a plain token would be refused by a cluster "
            "that requires PoP.",
            "Use --login spn, interactive or ropc for this cluster, or remove --pop-enabled and --pop-claims.")
    if opts.legacy:
        raise _usage("--legacy (the v1 endpoint) cannot ask for proof-of-possession tokens.",
                         "Remove --legacy: Azure Arc clusters take v2 tokens.")


def default_cache_dir(environ: "Mapping[str, str]") -> str:
    """``~/.kube/cache/akslogin``; on Windows, where HOME is usually unset, under ``%USERPROFILE%`` as kubectl."""
    home = environ.get("HOME") or environ.get("USERPROFILE") or os.path.expanduser("~")
    return os.path.join(home, ".kube", "cache", "akslogin")


def is_https_url(text: str) -> bool:
    """``https://host[:port][/path]`` with no whitespace, query or fragment (what an authority host is)."""
    if not text.startswith("https://"):
        return False
    rest = text[len("https://"):]
    if any(c.isspace() or c in "?#" for c in rest):
        return False
    return bool(rest.partition("/")[0])


_DURATION_UNITS = (("ms", 0.001), ("h", 3600.0), ("m", 60.0), ("s", 1.0))


def parse_duration(text: str) -> float:
    """Go-style durations as kubelogin takes them (90s, 1m30s, 500ms), or plain seconds."""
    text = text.strip()
    try:
        return float(text)
    except ValueError:
        pass
    pos, total = 0, 0.0
    while pos < len(text):
        number = _decimal_at(text, pos)
        if not number:
            break
        after = pos + len(number)
        for unit, scale in _DURATION_UNITS:
            if text.startswith(unit, after):
                total += float(number) * scale
                pos = after + len(unit)
                break
        else:
            break
    if pos != len(text) or not text:
        raise _usage(f"--timeout {text[:30]!r} is not a duration.", "Use e.g. 60s, 2m or 1m30s.")
    return total


def _decimal_at(text: str, pos: int) -> str:
    """The number (digits, optionally ``.digits``) starting at ``pos``, or "" when there is none."""
    end = pos
    while end < len(text) and text[end].isdecimal():
        end += 1
    if end == pos:
        return ""
    if end + 1 < len(text) and text[end] == "." and text[end + 1].isdecimal():
        end += 1
        while end < len(text) and text[end].isdecimal():
            end += 1
    return text[pos:end]


def render_help() -> str:
    lines = [
        "Usage: akslogin get-token --server-id ID [--login MODE] [flags]",
        "",
        "Print a kubectl ExecCredential (client.authentication.k8s.io v1 or v1beta1) with an Entra ID access token",
        "for the cluster's server app. A cached token with more than 5 minutes left is returned without any",
        "network request. Flags and environment variables are the same as Azure/kubelogin's; environment",
        "variables override flags unless --disable-environment-override is given.",
        "",
        "Examples:",
        "  # a CI service principal with a secret from the environment",
        "  AAD_SERVICE_PRINCIPAL_CLIENT_ID=<app id> AAD_SERVICE_PRINCIPAL_CLIENT_SECRET=<secret> \\",
        "    akslogin get-token --login spn --server-id 6dae42f8-4368-4678-94ff-3960e28e3630 --tenant-id <tenant>",
        "  # a certificate (PEM with key, or PFX with --client-certificate-password)",
        "  akslogin get-token -l spn --server-id 6dae42f8-4368-4678-94ff-3960e28e3630 -t <tenant> \\",
        "    --client-id <app id> --client-certificate ./sp.pem",
        "  # in a pod with Azure workload identity (the webhook sets AZURE_CLIENT_ID, AZURE_TENANT_ID,",
        "  # AZURE_FEDERATED_TOKEN_FILE, AZURE_AUTHORITY_HOST); in GitHub Actions with 'id-token: write'",
        "  akslogin get-token --login workloadidentity --server-id 6dae42f8-4368-4678-94ff-3960e28e3630",
        "  # a VM, scale set or AKS node: system-assigned identity, or a user-assigned one by client id",
        "  akslogin get-token --login msi --server-id 6dae42f8-4368-4678-94ff-3960e28e3630 [--client-id <id>]",
        "  # reuse 'az login' (or 'azd auth login' with --login azd)",
        "  akslogin get-token --login azurecli --server-id 6dae42f8-4368-4678-94ff-3960e28e3630",
        "",
        "Login modes for machines and CI are described in docs/login-modes-machine.md.",
        "",
        "Flags:",
    ]
    for flag in FLAGS:
        names = f"{flag.short}, {flag.long}" if flag.short else f"    {flag.long}"
        if not flag.boolean:
            names += f" {flag.metavar}"
        lines.append(f"  {names}")
        lines.append(f"        {flag.help}{flag.env_help}")
    lines += [
        "",
        "Exit codes: 0 token printed; 1 sign-in or network failure; 2 bad flags or input.",
    ]
    return "\n".join(lines)
