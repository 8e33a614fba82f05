"""``akslogin emulator``: run the offline Entra ID + AKS emulator in the foreground."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from importlib import resources
from pathlib import Path
from typing import Any

from akslogin.errors import ConfigError

EPILOG = """\
The emulator writes <state-dir>/ca.pem (trust it with --certificate-authority or REQUESTS_CA_BUNDLE) and
<state-dir>/emulator.json (its URLs). Test knobs live under <authority>/_emulator/: GET requests,
POST requests/reset, GET requests/concurrency (requests in flight and the peak per service since the reset),
GET|POST|DELETE faults ({"latency": {"arm": 0.1}, "faults": [{"service": "arm", "path": "<regex>",
"kind": "status", "status": 429, "retry_after": 1, "times": 5}]}), GET|POST clock ({"advance": seconds} or
{"set": epoch}), GET|POST settings, POST federation/service-account-token | github-job | pipelines-job (tokens and
CI jobs for federated sign-in). Each managed identity host is printed with the variables that point --login msi at it.
GET devicecodes, POST devicecodes/<user code>/{approve|decline|expire|slow_down} ({"upn": ...} to approve),
POST users/<upn>/revoke. People can approve device codes on <authority>/devicelogin.

examples:
  akslogin emulator --state-dir ./.state
  akslogin emulator --world ./my-world.yaml --port 8443
"""


def register(sub: Any) -> None:
    p = sub.add_parser(
        "emulator", help="run the offline Entra ID + AKS emulator on 127.0.0.1",
        description="Serve an emulated Entra ID authority and AKS API servers over HTTPS on 127.0.0.1.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--world", help="world file (YAML or JSON); default: the built-in demo world")
    p.add_argument("--state-dir", default=".akslogin-emulator", help="where the CA and emulator.json are written")
    p.add_argument("--port", type=int, default=0, help="authority port (default: a free port)")
    p.set_defaults(handler=run)


def load_world(path: str | None) -> Any:
    from akslogin.emulator.world import World, WorldError

    try:
        if path:
            return World.load(path)
        text = resources.files("akslogin.emulator").joinpath("worlds/demo.yaml").read_text(encoding="utf-8")
        import yaml

        return World.from_dict(yaml.safe_load(text))
    except WorldError as exc:
        raise ConfigError(str(exc)) from None


def run(args: argparse.Namespace) -> int:
    from akslogin.emulator import Emulator

    world = load_world(args.world)
    try:
        emulator = Emulator(world, Path(args.state_dir), port=args.port)
    except OSError as exc:
        raise ConfigError(f"cannot start the emulator: {exc.strerror}.",
                          "Pick another --port, or leave it out to use a free one.") from None
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with emulator:
        out = sys.stdout
        out.write(f"authority host : {emulator.authority_host}\n")
        out.write(f"CA certificate : {emulator.ca_path}\n")
        for cluster in world.clusters:
            out.write(f"cluster {cluster.name:<8}: {emulator.cluster_url(cluster.name)} (tenant {cluster.tenant_id})\n")
        from akslogin.emulator.managed_identity import managed_identities

        identities = managed_identities(emulator)
        for host in identities.hosts:
            variables = " ".join(f"{k}={v}" for k, v in identities.environment(host).items())
            out.write(f"host {host:<11}: {variables}\n")
        out.write(f"resource manager: {emulator.server_url('arm')} (akslogin get-credentials --arm-endpoint ...)\n")
        out.write(f"state          : {Path(args.state_dir) / 'emulator.json'}\nPress Ctrl-C to stop.\n")
        out.flush()
        try:
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
    return 0
