"""The akslogin demo (`make demo`): the whole story in under two minutes, offline, with the real kubectl.

An embedded emulator serves Entra ID (with a federated ADFS), Azure Resource Manager and two AKS API servers
on 127.0.0.1 with a CA it generates, from the sample world ``src/akslogin/emulator/worlds/demo.yaml``. Every
command shown runs for real: the installed ``akslogin`` console script, and /usr/bin/kubectl with akslogin as
its exec credential plugin. Each actor (the CI pipeline, Frank, Alice) has a private HOME and kubeconfig in a
temporary directory; nothing touches your own ~/.kube. Exit status 0 when the story ran as told, 1 (with the
step that broke) otherwise.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
import yaml

from akslogin.cli.completion import command_table
from akslogin.emulator import Emulator
from akslogin.emulator.world import RoleAssignment, World, packaged_world
from akslogin.term import Painter

KUBECTL = shutil.which("kubectl") or "/usr/bin/kubectl"
BIN_DIR = os.path.dirname(sys.executable)
AKSLOGIN = shutil.which("akslogin", path=BIN_DIR) or shutil.which("akslogin") or "akslogin"
CI_APP = "1b2c3d4e-5f60-4718-9a2b-3c4d5e6f7a8b"  # ci-deployer in the demo world
CI_SECRET = "demo-ci-secret-Q7v~not-a-real-secret"  # made up: it exists only in the emulator
PASSWORD = "Demo-Passw0rd!"  # the demo world's people
FRANK, ALICE = "frank@corp.contoso.com", "alice@contoso.com"
TEAM_NS = "team-a"
MAX_LINES = 14
WIDTH = 104
#: Output lines up to this long are shown as the command printed them; longer ones are wrapped.
OUTPUT_WIDTH = 112
STEPS = 6
#: Access tokens are shown shortened: they are credentials, even in a demo.
JWT = re.compile(r"eyJ[\w-]+\.[\w-]+\.[\w-]*")
#: Colours a command printed itself (FORCE_COLOR reaches the children too): the demo styles output its own way.
ANSI = re.compile(r"\x1b\[[0-9;]*m")


class DemoFailure(Exception):
    """A step did not do what the story says; the message names the step and the command."""


@dataclass
class Actor:
    """Someone running commands: their own HOME, kubeconfig and environment, and who they sign in as."""

    name: str
    home: Path
    env: dict[str, str]
    upn: str = ""  # a person: device codes shown while they run a command are approved as this account

    @property
    def kubeconfig(self) -> Path:
        return self.home / ".kube" / "config"


def _terminal() -> tuple[int, int] | None:
    """A pseudo-terminal (master, slave) for a person's command, where the platform has them."""
    try:
        import pty
    except ImportError:  # Windows: no pty; the person's environment says AKSLOGIN_PROMPT=always instead
        return None
    return pty.openpty()


@dataclass
class Story:
    emu: Emulator
    world: World
    root: Path
    out: Painter
    tenant: str = ""
    variables: dict[str, list[str]] = field(default_factory=dict)
    approvals: list[str] = field(default_factory=list)
    warned: set[str] = field(default_factory=set)

    # -- presentation ------------------------------------------------------------------------------
    def headline(self, number: int, text: str) -> None:
        print("\n" + self.out(f"{number}/{STEPS}  {text}", "bold", "cyan"), flush=True)

    def meaning(self, text: str) -> None:
        """The one sentence that says what the step showed."""
        for i, line in enumerate(textwrap.wrap(text, WIDTH - 4)):
            print(self.out("  → " if i == 0 else "    ", "green") + line)

    def aside(self, text: str) -> None:
        """Context for the next command, written like a shell comment."""
        for line in textwrap.wrap(text, WIDTH - 4):
            print(self.out("  # " + line, "dim"))

    # -- running commands --------------------------------------------------------------------------
    def expand(self, argv: Sequence[str]) -> list[str]:
        real: list[str] = []
        for arg in argv:
            if arg in self.variables:
                real += self.variables[arg]
            elif arg.startswith("$") and arg[1:] in self.variables:
                real += self.variables[arg[1:]]
            else:
                real.append(arg)
        program = {"akslogin": AKSLOGIN, "kubectl": KUBECTL}.get(real[0], real[0])
        return [program, *real[1:]]

    def run(self, actor: Actor, argv: Sequence[str], *, expect: int | None = 0, shown: str | None = None,
            max_lines: int = MAX_LINES, tail: bool = False, quiet: bool = False) -> subprocess.CompletedProcess[str]:
        """Show ``$ command``, run it, show its output (deduplicated; the first ``max_lines``, or the last ones
        with ``tail``). ``expect=None`` accepts any exit status; otherwise a different one is a DemoFailure."""
        display = shown or " ".join(a if a.startswith("$") else shlex.quote(a) for a in argv)
        if not quiet:
            lines = _wrap_command(display, WIDTH - len(actor.name) - 4)
            print(self.out(f"  {actor.name}$ ", "bold") + lines[0], flush=True)
            for line in lines[1:]:
                print(" " * (len(actor.name) + 4) + line)
        self.approvals.clear()
        # A person runs commands at a terminal: kubectl then tells akslogin someone can answer a sign-in prompt
        # (a pipeline has none, so a device code is never printed to nobody there).
        terminal = _terminal() if actor.upn else None
        proc = subprocess.Popen(self.expand(argv), env=actor.env, cwd=actor.home,
                                stdin=terminal[1] if terminal else subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        stop = threading.Event()
        approver = threading.Thread(target=self._approve_device_codes, args=(actor, stop), daemon=True)
        if actor.upn:
            approver.start()
        try:
            output, _ = proc.communicate(timeout=90)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            raise DemoFailure(f"'{display}' did not finish within 90 s") from None
        finally:
            stop.set()
            if approver.is_alive():
                approver.join(timeout=5)
            for fd in terminal or ():
                with contextlib.suppress(OSError):
                    os.close(fd)
        result = subprocess.CompletedProcess(proc.args, proc.returncode, output, "")
        if not quiet:
            self._print_output(output, max_lines, tail)
            for note in self.approvals:
                self.aside(note)
        if expect is not None and proc.returncode != expect:
            if quiet:
                self._print_output(output, 40)
            raise DemoFailure(f"'{display}' exited with {proc.returncode}, expected {expect}")
        return result

    def _print_output(self, output: str, max_lines: int, tail: bool = False) -> None:
        with contextlib.suppress(ValueError):  # an ExecCredential or other JSON document: indented, to be read
            output = json.dumps(json.loads(output), indent=2)
        seen: set[str] = set()
        lines: list[str] = []
        for raw in ANSI.sub("", output).rstrip().splitlines():
            line = raw.rstrip()
            if not line or "memcache.go" in line or line in seen:
                continue  # kubectl retries discovery and repeats the plugin's message: show it once
            seen.add(line)
            if line.startswith("akslogin: warning:") and line in self.warned:
                line = "akslogin: warning: (the same warning as above)"
            self.warned.add(line)
            line = JWT.sub(lambda m: f"{m.group(0)[:12]}…({len(m.group(0))} characters)", line)
            if line[:1].isspace() or len(line) <= OUTPUT_WIDTH:  # the command's own layout: keep it
                lines.append(line)
            else:
                lines += textwrap.wrap(line, WIDTH - 6, subsequent_indent="  ", break_on_hyphens=False,
                                       break_long_words=False) or [""]
        hidden = max(len(lines) - max_lines, 0)
        if tail and hidden:
            print(f"      … ({hidden} lines before)")
        for line in lines[hidden:] if tail else lines[:max_lines]:
            print(self.out("      " + line, "dim") if self.out.enabled else "      " + line)
        if hidden and not tail:
            print(f"      … ({hidden} more lines)")
        sys.stdout.flush()

    def _control(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """The emulator's control API over HTTPS, trusting only its CA: what a test of your own pipeline does."""
        response = requests.request(method, f"{self.emu.authority_host}_emulator/{path}", json=body,
                                    verify=str(self.emu.ca_path), timeout=10,
                                    headers={"Authorization": f"Bearer {self.emu.control_token}"})
        response.raise_for_status()
        return response.json()

    def _approve_device_codes(self, actor: Actor, stop: threading.Event) -> None:
        while not stop.wait(0.2):
            for pending in self._control("GET", "devicecodes"):
                code = pending["user_code"]
                outcome = self._control("POST", f"devicecodes/{code}/approve",
                                        {"upn": actor.upn, "password": PASSWORD})["outcome"]
                self.approvals.append(f"{actor.name} opened the sign-in page, entered {code} and signed in as "
                                      f"{actor.upn}: {outcome} (the demo does this through the emulator's "
                                      f"API: POST /_emulator/devicecodes/{code}/approve)")

    # -- actors --------------------------------------------------------------------------------------
    def actor(self, name: str, upn: str = "", **extra: str) -> Actor:
        home = self.root / name
        (home / ".kube").mkdir(parents=True, exist_ok=True)
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("AZURE_", "AAD_", "ARM_", "KUBE", "AZURESUBSCRIPTION_"))}
        env.pop("HTTPS_PROXY", None)
        env.pop("https_proxy", None)
        env.update(HOME=str(home), KUBECONFIG=str(home / ".kube" / "config"),
                   PATH=BIN_DIR + os.pathsep + env.get("PATH", os.defpath),
                   # Microsoft Graph (rbac bind's lookups) is the emulator's too: nothing here reaches a real host.
                   AKSLOGIN_GRAPH_ENDPOINT=self.emu.server_url("graph"), **extra)
        if upn and os.name == "nt":  # no pseudo-terminal there (see _terminal): the person is said to be present
            env["AKSLOGIN_PROMPT"] = "always"
        return Actor(name, home, env, upn)

    def token_requests(self) -> list[str]:
        return [e.grant_type or "?" for e in self.emu.request_log.token_requests()]


def _wrap_command(display: str, width: int) -> list[str]:
    """A long command line split at spaces with shell continuations, as one would type it."""
    words, lines, current = display.split(" "), [], ""
    for word in words:
        if current and len(current) + 1 + len(word) > width - 2:
            lines.append(current + " \\")
            current = "    " + word
        else:
            current = f"{current} {word}" if current else word
    return [*lines, current]


def has_commands(*names: str) -> bool:
    """Whether this akslogin has these commands (the demo runs with whatever version is installed)."""
    return set(names) <= set(command_table())


# -- the story ---------------------------------------------------------------------------------------------

def setup(story: Story) -> tuple[Actor, Actor, Actor]:
    emu = story.emu
    story.tenant = story.world.tenants[0].id
    story.variables = {
        "TENANT": [story.tenant],
        "EMU": ["--authority-host", emu.authority_host, "--certificate-authority", str(emu.ca_path)],
        "ARM": ["--arm-endpoint", emu.server_url("arm")],
    }
    emu.entra.settings.device_code_interval = 1  # Entra asks clients to poll every 5 s; the demo has no time
    print(story.out("akslogin demo: Entra ID sign-in for AKS, from kubectl to the API server, offline", "bold"))
    print(f"  An emulated Entra ID, Resource Manager and AKS clusters run on 127.0.0.1 (world: "
          f"{len(story.world.tenants[0].users)} people, {len(story.world.clusters)} clusters).")
    print("  Every command below is real: akslogin, and kubectl with akslogin as its exec credential plugin.")
    print("  These variables point akslogin at the emulator; on a real cluster you leave them out:")
    for name, values in story.variables.items():
        value = values[0] if len(values) == 1 else " ".join(values)
        print(f"    {name}={shlex.quote(value)}")
    ci = story.actor("ci", AAD_SERVICE_PRINCIPAL_CLIENT_ID=CI_APP, AAD_SERVICE_PRINCIPAL_CLIENT_SECRET=CI_SECRET)
    frank = story.actor("frank", FRANK)
    alice = story.actor("alice", ALICE)
    print("  Who:  ci     a pipeline; service principal ci-deployer (AAD_SERVICE_PRINCIPAL_CLIENT_ID and _SECRET\n"
          "               in its environment, as a CI secret store provides them)\n"
          f"        frank  {FRANK}: a federated account (Contoso's ADFS), in group aks-viewers (view)\n"
          f"        alice  {ALICE}: platform-admins (cluster-admin)")
    return ci, frank, alice


def step_admin_trap(story: Story, ci: Actor) -> None:
    story.headline(1, "The admin-credential trap: it works without any sign-in, and that is the problem")
    story.aside("The pipeline holds the 'Cluster Admin Role' on the subscription (a common shortcut), so it can "
                "fetch the admin kubeconfig:")
    story.run(ci, ["akslogin", "get-credentials", "--admin", "-g", "rg-dev", "-n", "aks-dev", "--login", "spn",
                   "-t", "$TENANT", "$EMU", "$ARM"])
    story.run(ci, ["kubectl", "auth", "whoami"])
    story.meaning("kubectl needed no Entra sign-in: it presents a certificate for system:masters (cluster-admin on "
                  "everything), valid for two years, that nobody can revoke short of rotating the cluster's CA.")
    if has_commands("audit"):
        story.run(ci, ["akslogin", "audit"], expect=1)
        story.meaning("akslogin audit finds it (and plain-text secrets, skip-TLS, loose file modes); in CI, "
                      "'akslogin audit --fail-on high' stops a pipeline that would ship such a kubeconfig.")
    else:
        story.aside("akslogin audit, which flags such credentials, is not in this version; skipped.")
    story.run(ci, ["akslogin", "get-credentials", "--admin", "-g", "rg-prod", "-n", "aks-prod", "--login", "spn",
                   "-t", "$TENANT", "$EMU", "$ARM"], expect=1)
    story.meaning("The fix on the cluster side: aks-prod has local accounts disabled, so there is no admin "
                  "certificate to leak, even for a pipeline holding the Cluster Admin Role; every request must come "
                  "from an Entra identity.")


def step_ci(story: Story, ci: Actor) -> None:
    story.headline(2, "The safe way: the CI service principal gets a user kubeconfig, kubectl signs in by itself")
    story.run(ci, ["akslogin", "get-credentials", "-g", "rg-dev", "-n", "aks-dev", "--login", "spn",
                   "-t", "$TENANT", "$EMU", "$ARM"])
    user = _exec_user(ci.kubeconfig, "aks-dev")
    secret_in_file = CI_SECRET in ci.kubeconfig.read_text()
    story.aside(f"the kubeconfig's user now runs: {' '.join(_shown_exec(story, user['exec']))} "
                f"({'a secret IS' if secret_in_file else 'no secret is'} written in the file)")
    story.emu.request_log.reset()
    story.run(ci, ["kubectl", "get", "pods"])
    grants = story.token_requests()
    story.meaning(f"No prompt: kubectl ran akslogin, which signed in as the service principal "
                  f"({len(grants)} token request to Entra ID, client credentials) and cached the token.")
    if secret_in_file:
        raise DemoFailure("get-credentials wrote the client secret into the kubeconfig")


def step_person(story: Story, frank: Actor) -> None:
    story.headline(3, "A person: sign in once by device code, then kubectl never prompts again")
    _user_kubeconfig_from_az(story, frank)
    story.aside("Frank already has the kubeconfig 'az aks get-credentials -g rg-dev -n aks-dev' wrote (its user "
                "runs kubelogin). One command switches it to akslogin and keeps the device-code login:")
    story.run(frank, ["akslogin", "convert-kubeconfig", "$EMU"])
    story.emu.entra.settings.access_token_lifetime = 240
    story.aside("Entra's access tokens live 60-90 minutes; the emulator now issues 4-minute ones, so each kubectl "
                "below needs a new token and you can watch where it comes from.")
    story.emu.request_log.reset()
    story.run(frank, ["kubectl", "get", "pods", "-n", TEAM_NS])
    first = story.token_requests()
    story.emu.request_log.reset()
    story.run(frank, ["kubectl", "get", "pods", "-n", TEAM_NS])
    second = story.token_requests()
    story.emu.entra.settings.access_token_lifetime = 3599
    if "urn:ietf:params:oauth:grant-type:device_code" not in first or second != ["refresh_token"]:
        raise DemoFailure(f"expected a device-code sign-in then a refresh, saw {first} then {second}")
    story.meaning("One device-code sign-in; the second kubectl got its token from Frank's refresh token (grant "
                  "refresh_token, no prompt), kept in akslogin's cache (encrypted when the machine has a secret "
                  "store) for as long as Entra accepts it.")


def step_explain_and_fix(story: Story, frank: Actor, alice: Actor) -> None:
    """whoami, a Forbidden explained by explain-forbidden, fixed with rbac bind (issue 5's commands)."""
    story.headline(4, "Who am I, why is this Forbidden, and the binding that fixes it")
    needed = ("whoami", "explain-forbidden", "rbac")
    if not has_commands(*needed):
        story.aside(f"this version of akslogin lacks {', '.join(n for n in needed if not has_commands(n))}; "
                    "showing what kubectl alone says instead.")
        story.run(frank, ["kubectl", "auth", "whoami"])
        story.run(frank, ["kubectl", "get", "secrets", "-n", TEAM_NS], expect=1)
        return
    story.run(frank, ["akslogin", "whoami"], max_lines=16)
    story.run(frank, ["kubectl", "get", "secrets", "-n", TEAM_NS], expect=1)
    story.run(frank, ["akslogin", "explain-forbidden", "list", "secrets", "-n", TEAM_NS], expect=1, max_lines=18)
    story.meaning("The cluster sees Frank by UPN and his group by object id; 'view' excludes secrets. The fix is a "
                  "RoleBinding in team-a, which a platform admin applies:")
    _share_kubeconfig(frank, alice)
    story.run(alice, ["akslogin", "rbac", "bind", "--user", FRANK, "--role", "edit", "--namespace", TEAM_NS,
                      "--apply"], max_lines=3, tail=True)
    story.run(frank, ["kubectl", "get", "secrets", "-n", TEAM_NS])
    story.meaning("Fixed for Frank only, in one namespace, by an admin who signed in as herself (the API "
                  "server's audit log names her), with no admin certificate anywhere.")


def step_azure_rbac(story: Story, ci: Actor) -> None:
    """A cluster that authorizes with Azure role assignments (issue 26): the Forbidden says so, explain-forbidden
    names the smallest role at the narrowest scope, and the assignment (Azure's part) fixes it."""
    story.headline(5, "A cluster with Azure RBAC: the fix is an Azure role assignment, not a RoleBinding")
    story.run(ci, ["akslogin", "get-credentials", "-g", "rg-platform", "-n", "aks-platform", "--login", "spn",
                   "-t", "$TENANT", "$EMU", "$ARM"], max_lines=3)
    story.run(ci, ["kubectl", "get", "pods", "-n", "billing"], expect=1)
    if has_commands("explain-forbidden"):
        story.run(ci, ["akslogin", "explain-forbidden", "list", "pods", "-n", "billing"], expect=1, max_lines=16)
    story.meaning("The denial came from Azure: the pipeline needs the smallest role that lists pods (RBAC Reader), "
                  "on the billing namespace only. An Owner of the cluster runs that az line; here the emulator "
                  "records the assignment as Azure would:")
    cluster = story.world.cluster("aks-platform")
    tenant = story.world.tenants[0]
    ci_app = next(a for a in tenant.apps if a.name == "ci-deployer")
    story.world.role_assignments.append(RoleAssignment(ci_app.object_id, "aks-rbac-reader",
                                                       f"{cluster.arm_id}/namespaces/billing"))
    story.run(ci, ["kubectl", "get", "pods", "-n", "billing"])
    story.meaning("Reader on one namespace: the pipeline lists pods in billing and nowhere else, and cannot read "
                  "secrets there; nobody wrote a RoleBinding or held an admin certificate.")


def step_speed(story: Story, ci: Actor) -> dict[str, float]:
    story.headline(6, "The speed: what every kubectl request pays for its token")
    block = _exec_user(ci.kubeconfig, "aks-dev")["exec"]
    argv = ["akslogin", *[str(a) for a in block["args"]]]
    shown = "akslogin " + " ".join(_shown_exec(story, block)[1:])
    story.run(ci, argv, shown=shown)
    story.aside("that is what kubectl runs before each request; now timed, with the cache cold and warm:")
    cold = story.expand([*argv, "--cache-dir", str(ci.home / "cold-cache")])
    started = time.perf_counter()
    subprocess.run(cold, env=ci.env, capture_output=True, check=True, stdin=subprocess.DEVNULL)
    sign_in_ms = (time.perf_counter() - started) * 1000
    timings: dict[str, list[float]] = {"python -c pass (interpreter start)": [], "akslogin get-token (cached)": []}
    for _ in range(15):
        for label, cmd in (("python -c pass (interpreter start)", [sys.executable, "-c", "pass"]),
                           ("akslogin get-token (cached)", story.expand(argv))):
            started = time.perf_counter()
            subprocess.run(cmd, env=ci.env, capture_output=True, check=True, stdin=subprocess.DEVNULL)
            timings[label].append((time.perf_counter() - started) * 1000)
    print(f"      {'akslogin get-token (empty cache: sign-in)':<42} one run:            {sign_in_ms:6.1f} ms")
    medians = {label: statistics.median(values) for label, values in timings.items()}
    for label, value in medians.items():
        print(f"      {label:<42} median of 15 runs: {value:6.1f} ms")
    medians["sign-in"] = sign_in_ms
    story.meaning("A cached token costs a Python start-up and one file read: no network, no heavy imports. A new "
                  "token is fetched only when the cached one has less than 5 minutes left.")
    return medians


def what_next(story: Story) -> None:
    print("\n" + story.out("On your own cluster (pip install akslogin, then):", "bold"))
    for line in (
        "CI, service principal:   export AAD_SERVICE_PRINCIPAL_CLIENT_ID=<app> "
        "AAD_SERVICE_PRINCIPAL_CLIENT_SECRET=<secret>",
        "                         akslogin get-credentials --login spn -t <tenant> -g <rg> -n <cluster>",
        "GitHub Actions, a pod:   akslogin get-credentials --login workloadidentity -g <rg> -n <cluster>",
        "VM, managed identity:    akslogin get-credentials --login msi -g <rg> -n <cluster>",
        "You, signed in to az:    akslogin convert-kubeconfig --login azurecli",
        "You, by device code:     akslogin get-credentials --login devicecode -t <tenant> -g <rg> -n <cluster>",
        "Check your kubeconfigs:  akslogin audit" if has_commands("audit") else "",
        "Recipes per CI system:   docs/ci/   ·   all commands: docs/cli.md   ·   offline testing: docs/emulator.md",
    ):
        if line:
            print("  " + line)


# -- helpers -----------------------------------------------------------------------------------------------

def _exec_user(kubeconfig: Path, context: str) -> dict[str, Any]:
    data = yaml.safe_load(kubeconfig.read_text())
    ctx = next(c["context"] for c in data["contexts"] if c["name"] == context)
    user: dict[str, Any] = next(u["user"] for u in data["users"] if u["name"] == ctx["user"])
    return user


def _shown_exec(story: Story, block: dict[str, Any]) -> list[str]:
    """An exec block's command line with the emulator flags folded back into $EMU and the tenant into $TENANT."""
    args = [str(a) for a in block.get("args") or []]
    out, skip = [os.path.basename(str(block.get("command")))], False
    for i, arg in enumerate(args):
        if skip:
            skip = False
            continue
        if arg in ("--authority-host", "--certificate-authority") and i + 1 < len(args):
            skip = True
            continue
        out.append("$TENANT" if arg == story.tenant else arg)
    return [*out, "$EMU"]


def _user_kubeconfig_from_az(story: Story, frank: Actor) -> None:
    """What 'az aks get-credentials' writes for a person: the user credential exactly as AKS returns it (kubelogin
    exec, device code). Fetched from the emulated ARM by the CI identity with --no-convert (not shown)."""
    helper = story.actor("az", AAD_SERVICE_PRINCIPAL_CLIENT_ID=CI_APP, AAD_SERVICE_PRINCIPAL_CLIENT_SECRET=CI_SECRET)
    story.run(helper, ["akslogin", "get-credentials", "-g", "rg-dev", "-n", "aks-dev", "--login", "spn", "-t",
                       "$TENANT", "$EMU", "$ARM", "--no-convert", "--file", str(frank.kubeconfig)], quiet=True)
    user = _exec_user(frank.kubeconfig, "aks-dev")
    if os.path.basename(str(user.get("exec", {}).get("command"))) != "kubelogin":
        raise DemoFailure("the user kubeconfig from ARM does not run kubelogin")


def _share_kubeconfig(frank: Actor, alice: Actor) -> None:
    """The user kubeconfig holds no credential, so the team can share it; Alice signs in as herself with it."""
    shutil.copy2(frank.kubeconfig, alice.kubeconfig)


def preflight() -> str | None:
    """What is missing for the demo to run, in one sentence (None when all is there)."""
    if not os.path.exists(KUBECTL):
        return "kubectl was not found on PATH (the demo runs the real kubectl); install it and run 'make demo' again"
    if not os.path.isabs(AKSLOGIN):
        return "the akslogin command is not installed next to this Python; run 'make demo' (it installs it)"
    return None


def main() -> int:
    started = time.monotonic()
    out = Painter(sys.stdout)
    missing = preflight()
    if missing:
        sys.stderr.write(f"demo cannot start: {missing}.\n")
        return 1
    with tempfile.TemporaryDirectory(prefix="akslogin-demo-") as tmp:
        root = Path(tmp)
        world = packaged_world("demo")
        try:
            with Emulator(world, root / "emulator") as emu:
                story = Story(emu, world, root, out)
                ci, frank, alice = setup(story)
                steps: list[Callable[[], object]] = [
                    lambda: step_admin_trap(story, ci),
                    lambda: step_ci(story, ci),
                    lambda: step_person(story, frank),
                    lambda: step_explain_and_fix(story, frank, alice),
                    lambda: step_azure_rbac(story, ci),
                    lambda: step_speed(story, ci),
                ]
                for step in steps:
                    step()
                what_next(story)
        except DemoFailure as exc:
            sys.stdout.flush()
            sys.stderr.write(f"\ndemo failed: {exc}. Nothing on this machine was changed (everything ran in "
                             f"{tmp}); please report it with the output above.\n")
            return 1
    elapsed = time.monotonic() - started
    print(f"\nDemo finished in {elapsed:.1f} s.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
