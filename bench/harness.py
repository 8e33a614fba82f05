"""Starting akslogin the way kubectl does, and measuring it: shared by ``bench/run`` and the tests.

Everything here runs real processes (the installed console script) against a real emulator; nothing is
mocked. Wall time is spawn-to-reap; peak RSS comes from GNU time (see :func:`peak_rss_kib` for why not from
``os.wait4`` in this process).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from akslogin.emulator import Emulator
from akslogin.emulator.world import AKS_CLIENT_APP_ID, AKS_SERVER_APP_ID, World, world_from_dict
from akslogin.tokencache.entry import parse_entry

EXEC_V1 = "client.authentication.k8s.io/v1"


def akslogin_script() -> str:
    """The installed akslogin command next to this interpreter (what a kubeconfig's exec.command names)."""
    found = shutil.which("akslogin", path=os.path.dirname(sys.executable)) or shutil.which("akslogin")
    if not found:
        raise RuntimeError("the akslogin console script is not installed; run 'make test' (pip install -e .)")
    return found


def script_interpreter(script: str) -> str:
    """The interpreter in the akslogin command's shebang: the baseline must be run by the same one."""
    with open(script, "rb") as fh:
        first = fh.readline().decode("utf-8", "replace").strip()
    return first[2:].strip().split()[0] if first.startswith("#!") else sys.executable


@dataclass
class Run:
    """One finished child process."""

    argv: list[str]
    returncode: int
    stdout: str
    stderr: str
    wall: float  # seconds, from spawn to reaped
    maxrss_kib: int  # ru_maxrss from wait4: includes this (parent) process's size, see peak_rss_kib


@dataclass
class Spawned:
    proc: subprocess.Popen[bytes]
    started: float
    out: IO[bytes]
    err: IO[bytes]
    argv: list[str] = field(default_factory=list)


def spawn(argv: Sequence[str], env: Mapping[str, str]) -> Spawned:
    out, err = tempfile.TemporaryFile(), tempfile.TemporaryFile()  # noqa: SIM115 (closed by reap)
    started = time.perf_counter()
    proc = subprocess.Popen(list(argv), env=dict(env), stdin=subprocess.DEVNULL, stdout=out, stderr=err)
    return Spawned(proc, started, out, err, list(argv))


def reap(spawned: Spawned, timeout: float = 120.0) -> Run:
    """Wait for the child with wait4 (its own rusage), bounded by ``timeout`` (then it is killed)."""
    deadline = time.monotonic() + timeout
    while True:
        pid, status, usage = os.wait4(spawned.proc.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() > deadline:
            spawned.proc.kill()
            pid, status, usage = os.wait4(spawned.proc.pid, 0)
            break
        time.sleep(0.001)
    wall = time.perf_counter() - spawned.started
    code = os.waitstatus_to_exitcode(status)
    spawned.proc.returncode = code  # reaped here; keep Popen from waiting again
    texts = []
    for fh in (spawned.out, spawned.err):
        fh.seek(0)
        texts.append(fh.read().decode("utf-8", "replace"))
        fh.close()
    return Run(spawned.argv, code, texts[0], texts[1], wall, int(usage.ru_maxrss))


def run_measured(argv: Sequence[str], env: Mapping[str, str], timeout: float = 120.0) -> Run:
    return reap(spawn(argv, env), timeout)


GNU_TIME = "/usr/bin/time"


def rss_probe_available() -> bool:
    """Whether GNU time is here to report a child's own peak RSS (see :func:`peak_rss_kib`)."""
    if not os.access(GNU_TIME, os.X_OK):
        return False
    with tempfile.NamedTemporaryFile() as out:
        probe = subprocess.run([GNU_TIME, "-f", "%M", "-o", out.name, "true"], capture_output=True, timeout=30)
        return probe.returncode == 0 and out.read().strip().isdigit()


def peak_rss_kib(argv: Sequence[str], env: Mapping[str, str]) -> int:
    """Peak RSS of the process ``argv`` alone, in KiB, as GNU time reports it.

    Not ``wait4`` from here: Linux carries a process's peak RSS across exec, so a child forked from this
    (large) benchmark process would report our size. GNU time is small; its child starts from its size.
    """
    with tempfile.NamedTemporaryFile() as out:
        result = subprocess.run([GNU_TIME, "-f", "%M", "-o", out.name, *argv], env=dict(env),
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                timeout=120)
        if result.returncode != 0:
            raise RuntimeError(f"{argv[0]} failed: {result.stderr.decode('utf-8', 'replace')[:300]}")
        return int(out.read().decode().strip().splitlines()[-1])


def swarm(argv: Sequence[str], env: Mapping[str, str], count: int, timeout: float = 120.0) -> tuple[list[Run], float]:
    """Start ``count`` identical processes at once (all spawned before any is waited for); their runs and
    the wall time until the last one finished."""
    started = time.perf_counter()
    spawned = [spawn(argv, env) for _ in range(count)]
    runs = [reap(s, timeout) for s in spawned]
    return runs, time.perf_counter() - started


def exec_credential_token(stdout: str) -> str | None:
    """The token of a valid one-line ExecCredential on stdout, else None."""
    lines = stdout.strip().splitlines()
    if len(lines) != 1:
        return None
    try:
        data = json.loads(lines[0])
    except ValueError:
        return None
    status = data.get("status") if isinstance(data, dict) else None
    if data.get("kind") != "ExecCredential" or not isinstance(status, dict):
        return None
    token, stamp = status.get("token"), status.get("expirationTimestamp")
    if not isinstance(token, str) or token.count(".") != 2 or not isinstance(stamp, str):
        return None
    return token


def cache_entries_valid(cache_dir: Path) -> bool:
    """Every token cache file parses, is 0600, and no temporary file was left behind."""
    tokens = cache_dir / "tokens"
    if not tokens.is_dir():
        return False
    files = list(tokens.iterdir())
    if not files or any(p.name.startswith(".tmp") for p in files):
        return False
    return all(p.stat().st_mode & 0o777 == 0o600 and parse_entry(p.read_bytes()) is not None for p in files)


def base_env(home: Path, **extra: str) -> dict[str, str]:
    """A process environment without Azure/kubelogin variables from the caller's shell."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AZURE_", "AAD_", "ARM_", "KUBE", "AZURESUBSCRIPTION_", "MSAL_"))}
    env.pop("HTTPS_PROXY", None)
    env.pop("https_proxy", None)
    env["HOME"] = str(home)
    env["KUBERNETES_EXEC_INFO"] = json.dumps({"apiVersion": EXEC_V1, "kind": "ExecCredential",
                                              "spec": {"interactive": False}})
    env.update(extra)
    return env


def spn_argv(emu: Emulator, tenant: str, client_id: str, cache_dir: Path) -> list[str]:
    return [akslogin_script(), "get-token", "--login", "spn", "--server-id", AKS_SERVER_APP_ID,
            "--tenant-id", tenant, "--client-id", client_id, "--authority-host", emu.authority_host,
            "--certificate-authority", str(emu.ca_path), "--cache-dir", str(cache_dir)]


@dataclass
class Invocation:
    """One get-token call: its argv (console script first) and environment."""

    argv: list[str]
    env: dict[str, str]


@contextmanager
def short_lived_tokens(emu: Emulator, lifetime: int = 200) -> Iterator[None]:
    """Tokens issued inside are already "expired" for akslogin and MSAL (under the 5-minute margin), so
    the next get-token must renew them; tokens issued after the block are normal again."""
    previous = emu.entra.settings.access_token_lifetime
    emu.entra.settings.access_token_lifetime = lifetime
    try:
        yield
    finally:
        emu.entra.settings.access_token_lifetime = previous


def requests_for(emu: Emulator, action: Callable[[], Any]) -> list[Any]:
    """Every request any emulated service saw while ``action`` ran (the log is reset first)."""
    emu.request_log.reset()
    action()
    return emu.request_log.entries()


def lock_is_held(cache_dir: Path) -> bool:
    """True while some process holds a per-identity flock in ``cache_dir``."""
    import fcntl

    for path in (cache_dir / "locks").glob("*.lock") if (cache_dir / "locks").is_dir() else []:
        fd = os.open(path, os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return True
        finally:
            os.close(fd)  # closing releases the lock if we got it
    return False


@dataclass
class KilledHolderResult:
    holder_held_lock: bool
    waiter: Run
    waiter_after_kill: float  # seconds from SIGKILL of the holder to the waiter's exit
    delay: float  # how long the holder's token request would have taken


def killed_lock_holder(emu: Emulator, holder: Invocation, waiter: Invocation, cache_dir: Path,
                       delay: float = 20.0) -> KilledHolderResult:
    """A get-token whose token request hangs for ``delay`` s holds the identity lock; a second get-token
    starts and waits; the holder is SIGKILLed. The waiter must then finish on its own, long before
    ``delay``: the kernel drops a dead process's flock."""
    from akslogin.emulator.net.faults import Fault

    slow = Fault(service="entra", path=r"/token$", kind="slow", delay=delay)
    emu.faults.add(slow)
    held = spawn(holder.argv, holder.env)
    deadline = time.monotonic() + 60
    # The emulator consumes the one-shot fault when the holder's token request arrives: from then on the
    # holder sits in that request, lock held.
    while slow in emu.faults.faults and time.monotonic() < deadline and held.proc.poll() is None:
        time.sleep(0.01)
    holder_held = lock_is_held(cache_dir)
    waiting = spawn(waiter.argv, waiter.env)
    time.sleep(0.5)  # the waiter is now polling the lock
    os.kill(held.proc.pid, signal.SIGKILL)
    killed_at = time.perf_counter()
    reap(held)
    run = reap(waiting, timeout=delay + 30)
    return KilledHolderResult(holder_held, run, time.perf_counter() - killed_at, delay)


def median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-pct * len(ordered) // 100))))
    return ordered[rank - 1]


def slope(xs: Sequence[float], ys: Sequence[float]) -> float:
    """Least-squares slope of ys over xs."""
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    den = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / den if den else 0.0


# -- the world and the scenarios the bench and the tests share ---------------------------------------------

TENANT = "5f5f5f5f-0000-4000-8000-00000000f11e"
#: name → (client id, secret): service principals of TENANT.
SPNS = {
    "a": ("abababab-0000-4000-8000-000000000001", "bench-secret-A~1"),
    "b": ("abababab-0000-4000-8000-000000000002", "bench-secret-B~2"),
}
#: name → client id: apps trusting the Kubernetes service account system:serviceaccount:bench:<name>.
WORKLOADS = {
    "a": "abababab-0000-4000-8000-000000000011",
    "b": "abababab-0000-4000-8000-000000000012",
}
USER = "dev@bench.example"
PASSWORD = "bench-Passw0rd!"
#: A VM whose system-assigned managed identity signs in through (emulated) IMDS.
MI_HOST = "bench-vm"
#: A service principal that signs in with a certificate (its key and certificate made once per process).
CERT_APP = "abababab-0000-4000-8000-000000000021"
_cert_pem: list[bytes] = []


def cert_key_and_certificate() -> bytes:
    """PEM of a fresh RSA-2048 key and its self-signed certificate (what an app registration holds the public
    half of); the same for the whole run."""
    if not _cert_pem:
        import datetime

        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import rsa
        from cryptography.x509.oid import NameOID

        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "bench-cert")])
        now = datetime.datetime.now(datetime.timezone.utc)
        cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
                .not_valid_after(now + datetime.timedelta(days=30)).sign(key, hashes.SHA256()))
        _cert_pem.append(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption())
                         + cert.public_bytes(serialization.Encoding.PEM))
    return _cert_pem[0]


#: The cluster kubectl talks to (section 1a): service principal "a" may view its pods.
BENCH_CLUSTER = "bench-aks"
BENCH_SUBSCRIPTION = "5f5f5f5f-0000-4000-8000-0000000005b5"


def world() -> World:
    """One tenant with what the scenarios sign in as: service principals, federated apps, a user, a VM."""
    apps: list[dict[str, Any]] = [
        {"name": f"bench-{name}", "client_id": cid, "object_id": f"0c0c0c0c-0000-4000-8000-00000000000{i}",
         "secrets": [secret]}
        for i, (name, (cid, secret)) in enumerate(SPNS.items(), start=1)
    ]
    pem = cert_key_and_certificate().decode()
    apps.append({"name": "bench-cert", "client_id": CERT_APP, "object_id": "0c0c0c0c-0000-4000-8000-000000000021",
                 "certificates": [pem[pem.index("-----BEGIN CERTIFICATE-----"):]]})
    apps += [
        {"name": f"bench-wi-{name}", "client_id": cid, "object_id": f"0c0c0c0c-0000-4000-8000-00000000001{i}",
         "federated_credentials": [{"issuer": "kubernetes", "subject": f"system:serviceaccount:bench:{name}"}]}
        for i, (name, cid) in enumerate(WORKLOADS.items(), start=1)
    ]
    return world_from_dict({"tenants": [{
        "id": TENANT, "domains": ["bench.example"], "apps": apps,
        "users": [{"upn": USER, "password": PASSWORD, "object_id": "7e7e7e7e-0000-4000-8000-0000000000b1"}],
        "hosts": [{"name": MI_HOST, "kind": "vm",
                   "system_identity": {"object_id": "0d0d0d0d-0000-4000-8000-0000000000b1"}}],
    }], "clusters": [{
        "name": BENCH_CLUSTER, "resource_group": "rg-bench", "subscription": BENCH_SUBSCRIPTION,
        "tenant": TENANT, "namespaces": ["default"], "pods": {"default": ["web-0", "web-1"]},
        "rbac": {"bindings": [{"name": "bench-a-view", "role": "view", "subjects": [{"app": "bench-a"}]}]},
    }]})


def _token_argv(emu: Emulator, login: str, cache_dir: Path, *extra: str) -> list[str]:
    return [akslogin_script(), "get-token", "--login", login, "--server-id", AKS_SERVER_APP_ID,
            "--certificate-authority", str(emu.ca_path), "--cache-dir", str(cache_dir), *extra]


def spn_invocation(emu: Emulator, home: Path, name: str) -> Invocation:
    cid, secret = SPNS[name]
    return Invocation(spn_argv(emu, TENANT, cid, home / "cache"), base_env(home, AZURE_CLIENT_SECRET=secret))


def cert_invocation(emu: Emulator, home: Path) -> Invocation:
    """The certificate service principal: key and certificate in one 0600 PEM file (--client-certificate)."""
    home.mkdir(parents=True, exist_ok=True)
    pem = home / "bench-cert.pem"
    pem.write_bytes(cert_key_and_certificate())
    pem.chmod(0o600)
    argv = [*spn_argv(emu, TENANT, CERT_APP, home / "cache"), "--client-certificate", str(pem)]
    return Invocation(argv, base_env(home))


def user_invocation(emu: Emulator, home: Path, login: str) -> Invocation:
    """The user signing in with ``login`` (ropc: password from the environment, as kubelogin reads it)."""
    argv = _token_argv(emu, login, home / "cache", "--client-id", AKS_CLIENT_APP_ID, "--tenant-id", TENANT,
                       "--authority-host", emu.authority_host)
    extra = {"AAD_USER_PRINCIPAL_NAME": USER, "AAD_USER_PRINCIPAL_PASSWORD": PASSWORD} if login == "ropc" else {}
    return Invocation(argv, base_env(home, **extra))


def workload_invocation(emu: Emulator, home: Path, name: str) -> Invocation:
    """A pod's workload identity: the webhook's variables and a projected service-account token file."""
    from akslogin.emulator.entra.federation import federation

    token_file = home / f"wi-{name}" / "azure-identity-token"
    token_file.parent.mkdir(parents=True, exist_ok=True)
    token_file.write_text(federation(emu).service_account_token("bench", name))
    env = base_env(home, AZURE_CLIENT_ID=WORKLOADS[name], AZURE_TENANT_ID=TENANT,
                   AZURE_FEDERATED_TOKEN_FILE=str(token_file), AZURE_AUTHORITY_HOST=emu.authority_host)
    return Invocation(_token_argv(emu, "workloadidentity", home / "cache"), env)


def msi_invocation(emu: Emulator, home: Path) -> Invocation:
    """The VM's system-assigned identity; the emulator tells where its IMDS is (as the platform would)."""
    from akslogin.emulator.azure.managed_identity import managed_identities

    env = base_env(home, **managed_identities(emu).environment(MI_HOST))
    return Invocation(_token_argv(emu, "msi", home / "cache"), env)


def run_ok(invocation: Invocation) -> Run:
    run = run_measured(invocation.argv, invocation.env)
    if run.returncode != 0 or not exec_credential_token(run.stdout):
        raise AssertionError(f"get-token failed while preparing a scenario: {run.stderr.strip()}")
    return run


def devicecode_sign_in(emu: Emulator, invocation: Invocation) -> Run:
    """Run a devicecode get-token and approve its code on the emulator as the user (what a person does)."""
    from akslogin.emulator.entra import devicecode

    emu.entra.settings.device_code_interval = 1  # poll every second, not every 5
    # The person is there (they approve below), but no terminal is: say so, as a watched pipeline log would.
    started = spawn(invocation.argv, {**invocation.env, "AKSLOGIN_PROMPT": "always"})
    try:
        pending = devicecode.of(emu).wait_for_code(timeout=30)
        outcome = devicecode.of(emu).approve(pending.user_code, USER, PASSWORD)
    except BaseException:
        started.proc.kill()
        reap(started)
        raise
    run = reap(started, timeout=60)
    if outcome != "approved" or run.returncode != 0 or not exec_credential_token(run.stdout):
        raise AssertionError(f"device code sign-in failed ({outcome}): {run.stderr.strip()}")
    return run


#: prepare(emulator, home) → the get-token call to measure; it may sign in first (its requests are not counted).
Prepare = Callable[[Emulator, Path], Invocation]


@dataclass(frozen=True)
class Scenario:
    name: str
    prepare: Prepare
    #: grant_type of the one token request expected (None when it is not an Entra token request, e.g. IMDS)
    grant: str | None
    #: the emulated service that must receive it ("entra", or "imds" for a VM's managed identity)
    service: str = "entra"
    #: whether the identity keeps an MSAL cache (refresh token) that must be valid afterwards too
    user_cache: bool = False


def spn_second_identity(emu: Emulator, home: Path) -> Invocation:
    """Service principal a signs in (the machine now knows the tenant); measured: b, same tenant, no token."""
    run_ok(spn_invocation(emu, home, "a"))
    return spn_invocation(emu, home, "b")


def spn_empty_cache(emu: Emulator, home: Path) -> Invocation:
    return spn_invocation(emu, home, "a")


def ropc_expired_access_token(emu: Emulator, home: Path) -> Invocation:
    """The user signed in once (password); the access token it got is already too old to use, the refresh
    token is valid: the next get-token must redeem the refresh token."""
    call = user_invocation(emu, home, "ropc")
    with short_lived_tokens(emu):
        run_ok(call)
    return call


def devicecode_expired_access_token(emu: Emulator, home: Path) -> Invocation:
    """kubelogin's default mode: signed in once with a device code; access token expired, refresh token valid."""
    call = user_invocation(emu, home, "devicecode")
    with short_lived_tokens(emu):
        devicecode_sign_in(emu, call)
    return call


def workload_second_identity(emu: Emulator, home: Path) -> Invocation:
    """Pod a exchanged its token (the machine now knows the tenant); measured: pod b, another app."""
    run_ok(workload_invocation(emu, home, "a"))
    return workload_invocation(emu, home, "b")


def msi_token(emu: Emulator, home: Path) -> Invocation:
    """Managed identity: IMDS is the identity provider here; there is no discovery to cache."""
    return msi_invocation(emu, home)


#: Target 2, "one request per token once the machine has seen the tenant". One line per login mode.
REQUEST_SCENARIOS: list[Scenario] = [
    Scenario("spn", spn_second_identity, "client_credentials"),
    Scenario("refresh token (ropc)", ropc_expired_access_token, "refresh_token", user_cache=True),
    Scenario("refresh token (devicecode)", devicecode_expired_access_token, "refresh_token", user_cache=True),
    Scenario("workloadidentity", workload_second_identity, "client_credentials"),
    Scenario("msi (IMDS)", msi_token, None, service="imds"),
]

#: Target 3, "N processes at once make one token request".
SWARM_SCENARIOS: list[Scenario] = [
    Scenario("spn, empty cache", spn_empty_cache, "client_credentials"),
    Scenario("refresh token (ropc): expired access token, valid refresh token", ropc_expired_access_token,
             "refresh_token", user_cache=True),
]


def user_cache_valid(cache_dir: Path) -> bool:
    """Every saved sign-in (MSAL cache file) is 0600, no temporary file was left behind, and each holds a
    refresh token and an access token (or is encrypted at rest, which this check cannot open)."""
    from akslogin.tokencache.secure import MAGIC

    files = list((cache_dir / "msal").iterdir()) if (cache_dir / "msal").is_dir() else []
    if not files or any(p.name.startswith(".") for p in files):
        return False
    for path in files:
        raw = path.read_bytes()
        if path.stat().st_mode & 0o777 != 0o600:
            return False
        if raw.startswith(MAGIC):
            continue
        try:
            data = json.loads(raw)
        except ValueError:
            return False
        if not isinstance(data, dict) or not data.get("RefreshToken") or not data.get("AccessToken"):
            return False
    return True


def scenario_cache_valid(scenario: Scenario, cache_dir: Path) -> bool:
    return cache_entries_valid(cache_dir) and (not scenario.user_cache or user_cache_valid(cache_dir))


# -- target 4: the fleet import, against an emulator in its own process -----------------------------------

FLEET_APP = ("abababab-0000-4000-8000-0000000000f1", "0c0c0c0c-0000-4000-8000-0000000000f1", "bench-fleet-F~1")
#: The one call per cluster a fleet import makes (its path ends so); subscription listings end in managedClusters.
CREDENTIAL_PATH = r"/listClusterUserCredential$"
LISTING_PATH = r"/managedClusters$"
GRAPH_PATH = r"\.ResourceGraph/resources$"


def fleet_subscription(n: int) -> str:
    return f"5{n:07d}-aaaa-4bbb-8ccc-{n:012d}"


def fleet_spec(subscriptions: int, per_subscription: int) -> dict[str, Any]:
    """``subscriptions`` × ``per_subscription`` Entra-enabled clusters in two resource groups each; one
    service principal holds the AKS Cluster User role on every subscription."""
    client_id, object_id, secret = FLEET_APP
    subs = [fleet_subscription(s) for s in range(1, subscriptions + 1)]
    return {
        "tenants": [{"id": TENANT, "domains": ["bench.example"], "apps": [
            {"name": "bench-fleet", "client_id": client_id, "object_id": object_id, "secrets": [secret]}]}],
        "subscriptions": [{"id": sid, "display_name": f"Fleet {i}", "tenant": TENANT}
                          for i, sid in enumerate(subs, start=1)],
        "clusters": [{"name": f"s{s}-c{c}", "tenant": TENANT, "subscription": sid,
                      "resource_group": "rg-a" if c % 2 == 0 else "rg-b"}
                     for s, sid in enumerate(subs, start=1) for c in range(per_subscription)],
        "arm_role_assignments": [{"principal": {"app": "bench-fleet"}, "role": "cluster-user",
                                  "scope": f"/subscriptions/{sid}"} for sid in subs],
    }


@dataclass
class Endpoints:
    """Where a running emulator is (from its emulator.json, or from an in-process Emulator)."""

    authority_host: str
    ca: str
    control: str
    arm: str
    control_token: str

    @classmethod
    def of(cls, emu: Emulator) -> Endpoints:
        return cls(emu.authority_host, str(emu.ca_path), emu.authority_host + "_emulator", emu.server_url("arm"),
                   emu.control_token)

    def call(self, path: str, body: Any = None, method: str | None = None) -> Any:
        """The emulator's control API (``/_emulator/<path>``), over TLS with the emulator's CA."""
        import requests

        response = requests.request(method or ("GET" if body is None else "POST"),
                                    self.control + "/" + path.lstrip("/"), json=body, verify=self.ca, timeout=30,
                                    headers={"Authorization": f"Bearer {self.control_token}"})
        response.raise_for_status()
        return response.json()


class EmulatorProcess:
    """``akslogin emulator --world FILE`` in its own process (as a person would run it), until :meth:`stop`."""

    def __init__(self, world_file: Path, state_dir: Path, timeout: float = 60.0) -> None:
        argv = [akslogin_script(), "emulator", "--world", str(world_file), "--state-dir", str(state_dir)]
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 (closed by stop)
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT,
                                     env=base_env(state_dir.parent))
        deadline = time.monotonic() + timeout
        state = state_dir / "emulator.json"
        while True:  # emulator.json is written once every server listens
            if state.exists():
                info = json.loads(state.read_text())
                if info.get("pid") == self.proc.pid:
                    break
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the emulator did not start: {self.output()[-600:]}")
            time.sleep(0.05)
        self.endpoints = Endpoints(info["authority_host"], info["ca"], info["control"], info["services"]["arm"],
                                   info["control_token"])

    def output(self) -> str:
        self._log.seek(0)
        return self._log.read().decode("utf-8", "replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()  # SIGTERM: it shuts its servers down and exits
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()


def fleet_invocation(endpoints: Endpoints, home: Path, kubeconfig: Path, concurrency: int, *extra: str) -> Invocation:
    """``akslogin get-credentials --all`` as the fleet's service principal, into ``kubeconfig``."""
    client_id, _, secret = FLEET_APP
    argv = [akslogin_script(), "get-credentials", "--all", "--login", "spn", "--tenant-id", TENANT,
            "--client-id", client_id, "--authority-host", endpoints.authority_host,
            "--certificate-authority", endpoints.ca, "--cache-dir", str(home / "cache"),
            "--arm-endpoint", endpoints.arm, "--file", str(kubeconfig), "--max-concurrency", str(concurrency),
            *extra]
    return Invocation(argv, base_env(home, AZURE_CLIENT_SECRET=secret))


def imported_count(run: Run) -> int | None:
    """N from the summary line "N imported, ..." of a fleet import, or None."""
    for line in reversed(run.stdout.splitlines()):
        words = line.split()
        if len(words) > 1 and words[1] == "imported," and words[0].isdigit():
            return int(words[0])
    return None


@dataclass
class RetryWait:
    """A request answered ``status`` and how long the client waited before sending it again."""

    path: str
    status: int
    retry_after: float
    waited: float | None  # None: never retried


def retry_waits(entries: Sequence[Mapping[str, Any]], service: str, status: int, retry_after: float
                ) -> list[RetryWait]:
    """For each ``status`` answer of ``service`` in a request log (``to_json`` form), the time from that
    answer to the next request for the same path, both as the emulator saw them."""
    mine = sorted((e for e in entries if str(e["service"]).split(":")[0] == service), key=lambda e: e["received"])
    waits = []
    for i, entry in enumerate(mine):
        if entry["status"] != status:
            continue
        following = next((e for e in mine[i + 1:] if e["path"] == entry["path"] and e["method"] == entry["method"]
                          and e["received"] >= entry["answered"]), None)
        waited = None if following is None else following["received"] - entry["answered"]
        waits.append(RetryWait(str(entry["path"]), status, retry_after, waited))
    return waits
