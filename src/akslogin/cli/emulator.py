"""``akslogin emulator``: run the offline Entra ID + AKS emulator in the foreground."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from akslogin.errors import ConfigError
from akslogin.output import add_output_flag, emit
from akslogin.term import Painter

EPILOG = """\
The emulator writes <state-dir>/ca.pem (trust it with --certificate-authority or REQUESTS_CA_BUNDLE),
<state-dir>/emulator.json (its URLs) and <state-dir>/control-token (0600). Test knobs live under
<authority>/_emulator/, each request with 'Authorization: Bearer <control token>': GET requests,
POST requests/reset, GET requests/concurrency (requests in flight and the peak per service since the reset),
GET|POST|DELETE faults ({"latency": {"arm": 0.1}, "faults": [{"service": "arm", "path": "<regex>",
"kind": "status", "status": 429, "retry_after": 1, "times": 5}]}), GET|POST clock ({"advance": seconds} or
{"set": epoch}), GET|POST settings, POST federation/service-account-token | token | github-job | pipelines-job
(tokens and CI jobs for federated sign-in). Each managed identity host is printed with the variables that point
--login msi at it.
GET devicecodes, POST devicecodes/<user code>/{approve|decline|expire|slow_down} ({"upn": ...} to approve),
POST users/<upn>/revoke. People can approve device codes on <authority>/devicelogin.

examples:
  akslogin emulator --state-dir ./.state
  akslogin emulator --world ./my-world.yaml --port 8443
  akslogin emulator --state-dir ./.state -o json > emulator-urls.json &   # for a script; see docs/emulator.md

exit codes: 0 stopped (Ctrl-C or SIGTERM); 1 cannot start (port in use, bad world file); 2 bad flags.
"""


def register(sub: Any) -> None:
    p = sub.add_parser(
        "emulator", help="run the offline Entra ID + AKS emulator on 127.0.0.1",
        description="Serve an emulated Entra ID authority and AKS API servers over HTTPS on 127.0.0.1.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--world", help="world file (YAML or JSON); default: the built-in demo world")
    p.add_argument("--state-dir", default=".akslogin-emulator", help="where the CA and emulator.json are written")
    p.add_argument("--port", type=port_number, default=0, metavar="PORT",
                   help="authority port, 1-65535 (default: a free port)")
    p.add_argument("--request-log-size", type=positive_int, default=50_000, metavar="N",
                   help="requests the log keeps, newest first out of a ring (default 50000)")
    p.add_argument("--idle-timeout", type=float, default=30.0, metavar="SECONDS",
                   help="close a connection idle this long (default 30)")
    add_output_flag(p)
    p.set_defaults(handler=run)


def port_number(text: str) -> int:
    """argparse type for a TCP port: a usage error (exit 2) for anything but 0-65535."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (1-65535)") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{value} is not a port number (1-65535, or 0 for a free one)")
    return value


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be at least 1")
    return value


def _world(path: str | None) -> Any:
    """--world's file, else the packaged demo world; a world error is a ConfigError (one paragraph, exit 1)."""
    from akslogin.emulator.world import WorldError, load_world, packaged_world

    try:
        return load_world(path) if path else packaged_world("demo")
    except WorldError as exc:
        raise ConfigError(str(exc)) from None


def run(args: argparse.Namespace) -> int:
    from akslogin.emulator import Emulator

    world = _world(args.world)
    try:
        emulator = Emulator(world, Path(args.state_dir), port=args.port, request_log_size=args.request_log_size,
                            idle_timeout=args.idle_timeout)
    except OSError as exc:
        raise ConfigError(f"cannot start the emulator: {exc.strerror}.",
                          "Pick another --port, or leave it out to use a free one.") from None
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with emulator:
        from akslogin.emulator.azure.managed_identity import managed_identities

        identities = managed_identities(emulator)
        state = str(Path(args.state_dir) / "emulator.json")
        data: dict[str, Any] = {
            "authority_host": emulator.authority_host,
            "ca": str(emulator.ca_path),
            "clusters": {c.name: {"server": emulator.cluster_url(c.name), "tenant_id": c.tenant_id}
                         for c in world.clusters},
            "hosts": {host: identities.environment(host) for host in identities.hosts},
            # The same names as emulator.json: services.arm is Resource Manager, services.graph is Graph, ...
            "services": emulator.services_urls(),
            "control": emulator.authority_host + "_emulator/",
            # Every control request sends it as 'Authorization: Bearer <token>' (also in <state>/control-token).
            "control_token": emulator.control_token,
            "state": state,
        }

        def describe(paint: Painter) -> str:
            lines = [f"authority host : {paint.bold(emulator.authority_host)}",
                     f"CA certificate : {emulator.ca_path}"]
            for cluster in world.clusters:
                lines.append(f"cluster {cluster.name:<8}: {emulator.cluster_url(cluster.name)} "
                             f"(tenant {cluster.tenant_id})")
            for host, variables in data["hosts"].items():
                lines.append(f"host {host:<11}: " + " ".join(f"{k}={v}" for k, v in variables.items()))
            lines.append(f"resource manager: {data['services']['arm']} (akslogin get-credentials --arm-endpoint ...)")
            lines.append(f"state          : {state}")
            lines.append(f"control token  : {Path(args.state_dir) / 'control-token'} (for <authority>/_emulator/)")
            return "\n".join(lines) + "\n"

        emit(sys.stdout, args.output, data, describe)
        if args.output == "table":
            sys.stdout.write("Press Ctrl-C to stop.\n")
            sys.stdout.flush()
        try:
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
    return 0
