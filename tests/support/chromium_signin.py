"""Drive Debian's headless Chromium through the Chrome DevTools protocol (over a pipe, stdlib only):
open the sign-in URL, type the username and password into the emulator's form, submit, and wait for the
loopback redirect page. Used as $BROWSER by the interactive tests (``python chromium_signin.py URL``).

Environment: SIGNIN_USERNAME, SIGNIN_PASSWORD, SIGNIN_SPKI (base64 SHA-256 of the emulator's server key,
trusted with --ignore-certificate-errors-spki-list instead of ignoring all certificate errors),
SIGNIN_RESULT (a JSON file to write what happened), SIGNIN_ACTION ("signin" or "cancel").
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def spki_hash(cert_pem: bytes) -> str:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    cert = x509.load_pem_x509_certificate(cert_pem)
    spki = cert.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(hashlib.sha256(spki).digest()).decode()


class DevTools:
    """A CDP session over --remote-debugging-pipe (fd 3: commands in, fd 4: events and answers out)."""

    def __init__(self, spki: str) -> None:
        cmd_r, self._cmd_w = os.pipe()
        self._out_r, out_w = os.pipe()
        high_r, high_w = fcntl.fcntl(cmd_r, fcntl.F_DUPFD, 10), fcntl.fcntl(out_w, fcntl.F_DUPFD, 10)
        os.close(cmd_r)
        os.close(out_w)
        self._profile = tempfile.mkdtemp(prefix="akslogin-chromium-")
        args = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
                f"--user-data-dir={self._profile}", f"--ignore-certificate-errors-spki-list={spki}",
                "--remote-debugging-pipe", "about:blank"]
        script = f'exec "$@" 3<&{high_r} 4>&{high_w} {high_r}<&- {high_w}>&-'
        self.proc = subprocess.Popen(["bash", "-c", script, "bash", *args], pass_fds=(high_r, high_w),
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(high_r)
        os.close(high_w)
        self._buf = b""
        self._next = 0
        self.session = ""

    def call(self, method: str, params: dict[str, Any] | None = None, timeout: float = 15) -> dict[str, Any]:
        self._next += 1
        msg: dict[str, Any] = {"id": self._next, "method": method, "params": params or {}}
        if self.session and not method.startswith(("Target.", "Browser.")):
            msg["sessionId"] = self.session
        os.write(self._cmd_w, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            while b"\0" in self._buf:
                raw, self._buf = self._buf.split(b"\0", 1)
                data: dict[str, Any] = json.loads(raw)
                if data.get("id") == self._next:
                    if "error" in data:
                        raise RuntimeError(f"{method}: {data['error']}")
                    result: dict[str, Any] = data.get("result", {})
                    return result
            if time.monotonic() > deadline:
                raise TimeoutError(method)
            chunk = os.read(self._out_r, 1 << 16)
            if not chunk:
                raise RuntimeError("chromium exited")
            self._buf += chunk

    def open(self, url: str) -> None:
        target = self.call("Target.createTarget", {"url": url})["targetId"]
        self.session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]

    def js(self, expression: str) -> Any:
        answer = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        return answer.get("result", {}).get("value")

    def wait_for(self, expression: str, timeout: float = 20) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                value = self.js(expression)
            except RuntimeError:
                value = None  # the page is navigating
            if value:
                return value
            time.sleep(0.1)
        raise TimeoutError(expression)

    def close(self) -> None:
        with contextlib.suppress(RuntimeError, TimeoutError, OSError):
            self.call("Browser.close", timeout=5)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        shutil.rmtree(self._profile, ignore_errors=True)


def sign_in(url: str, username: str, password: str, spki: str, action: str = "signin") -> dict[str, Any]:
    """Fill and submit the emulator's sign-in form in Chromium; return where the browser ended up."""
    tools = DevTools(spki)
    try:
        tools.open(url)
        tools.wait_for("document.readyState === 'complete' && !!document.getElementById('login')")
        tools.js(f"document.getElementById('login').value = {json.dumps(username)};"
                 f"document.getElementById('passwd').value = {json.dumps(password)};"
                 f"document.getElementById({json.dumps('submit' if action == 'signin' else 'cancel')}).click();")
        final = tools.wait_for(
            "location.href.startsWith('http://') && document.readyState === 'complete' "
            "&& document.body && document.body.innerText.length > 0 "
            "? JSON.stringify({url: location.href, text: document.body.innerText}) : ''")
        result: dict[str, Any] = json.loads(final)
        return result
    finally:
        tools.close()


def main() -> int:
    url = sys.argv[1]
    outcome: dict[str, Any]
    try:
        outcome = sign_in(url, os.environ["SIGNIN_USERNAME"], os.environ["SIGNIN_PASSWORD"],
                          os.environ["SIGNIN_SPKI"], os.environ.get("SIGNIN_ACTION", "signin"))
    except Exception as exc:  # report, don't hang the plugin
        outcome = {"error": f"{type(exc).__name__}: {exc}"}
    result = os.environ.get("SIGNIN_RESULT")
    if result:
        Path(result).write_text(json.dumps(outcome))
    return 0


if __name__ == "__main__":
    sys.exit(main())
