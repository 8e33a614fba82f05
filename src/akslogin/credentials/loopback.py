"""The loopback receiver of the interactive sign-in: where the browser POSTs the authorization response.

It listens on 127.0.0.1 only (never on all interfaces, even in a container), accepts only a form_post to
the redirect path, and ignores any response whose ``state`` is not the one this sign-in sent, so another
page cannot inject a code. It runs in a background thread so a browser launcher may block.
"""

from __future__ import annotations

import queue
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from akslogin.errors import UsageError

MAX_FORM = 64 * 1024
DONE_PAGE = ("<!doctype html><html><head><title>Signed in - akslogin</title></head><body>"
             "<h1>Authentication complete.</h1><p>You can close this tab and return to the terminal.</p></body></html>")
FAILED_PAGE = ("<!doctype html><html><head><title>Sign-in failed - akslogin</title></head><body>"
               "<h1>Sign-in failed.</h1><p>Return to the terminal for details.</p></body></html>")


class _QuietServer(ThreadingHTTPServer):
    """A client that hangs up or sends junk must not print a traceback into kubectl's output."""

    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        return


class LoopbackReceiver:
    def __init__(self, port: int = 0, path: str = "/") -> None:
        self.path = path or "/"
        self.expected_state = ""
        self._responses: queue.Queue[dict[str, str]] = queue.Queue()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            server_version = "akslogin"
            sys_version = ""

            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_GET(self) -> None:
                self._answer(400, "<p>akslogin expects the sign-in response as a form POST.</p>")

            def do_POST(self) -> None:
                target = urllib.parse.urlsplit(self.path).path or "/"
                try:
                    length = int(self.headers.get("Content-Length") or 0)
                except ValueError:
                    length = -1
                if target != receiver.path or not 0 <= length <= MAX_FORM:
                    self._answer(404, "<p>Not found.</p>")
                    return
                body = self.rfile.read(length).decode("utf-8", "replace")
                form = {k: v[0] for k, v in urllib.parse.parse_qs(body, keep_blank_values=True).items()}
                if not (form.get("code") or form.get("error")):
                    self._answer(400, "<p>This is not a sign-in response.</p>")
                    return
                if form.get("state") != receiver.expected_state:
                    self._answer(400, "<p>State mismatch: this response was not for this sign-in; ignored.</p>")
                    return
                self._answer(200, DONE_PAGE if form.get("code") else FAILED_PAGE)
                receiver._responses.put(form)

            def _answer(self, status: int, page: str) -> None:
                data = page.encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(data)

        try:
            self._server = _QuietServer(("127.0.0.1", port), Handler)
        except OSError as exc:
            raise UsageError(f"cannot listen on 127.0.0.1:{port} for the sign-in redirect: {exc.strerror}.",
                             "Pick another port in --redirect-url, or leave the port out.") from None
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name="akslogin-loopback", daemon=True)

    def __enter__(self) -> LoopbackReceiver:
        self._thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._server.shutdown()
        self._server.server_close()

    def wait(self, timeout: float) -> dict[str, str] | None:
        """The first response with the right state, or None after ``timeout`` seconds."""
        try:
            return self._responses.get(timeout=max(timeout, 0.0))
        except queue.Empty:
            return None
