"""What other test files take from test_user_fidelity.py."""

from __future__ import annotations

import html.parser
import threading
import urllib.parse
from typing import Any

import requests

from akslogin.emulator import Emulator


def scripted_browser(emu: Emulator, upn: str, password: str, cancel: bool = False) -> Any:
    """A launcher that signs in on the emulator's page without a real browser (returns immediately)."""

    def run(url: str) -> None:
        s = requests.Session()
        page = s.get(url, verify=str(emu.ca_path), timeout=10)
        form = _Form()
        form.feed(page.text)
        fields = {**form.fields, "login": upn, "passwd": password, "action": "cancel" if cancel else "signin"}
        target = urllib.parse.urljoin(url, form.action)
        answer = s.post(target, data=fields, verify=str(emu.ca_path), timeout=10)
        post = _Form()
        post.feed(answer.text)
        if post.action.startswith("http://"):
            requests.post(post.action, data=post.fields, timeout=10)

    def launch(url: str) -> bool:
        threading.Thread(target=run, args=(url,), daemon=True).start()
        return True

    return launch


class _Form(html.parser.HTMLParser):
    """Just enough of a browser: the first form's action, method and fields."""

    def __init__(self) -> None:
        super().__init__()
        self.action, self.fields = "", {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and not self.action:
            self.action = a.get("action", "")
        if tag == "input" and a.get("name"):
            self.fields[a["name"]] = a.get("value", "")
