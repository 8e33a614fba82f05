"""Issue 23.1 and 23.6: what akslogin writes, kubectl (a YAML 1.1 reader) reads back as written, and what
akslogin reads is bounded (an alias bomb is refused, as kubectl refuses it).

Here: the unit tier (in process; no emulator, process or socket).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import yaml

from akslogin.kubeconfig import files
from akslogin.kubeconfig.model import KubeconfigError
from support.edges_yaml import BOMB


def test_keys_and_list_items_are_quoted_as_well() -> None:
    from akslogin import yaml11

    text = yaml11.dump({"y": ["n", "on", "1e3"], "names": {"0o17": "ok"}})
    assert yaml.safe_load(text) == {"y": ["n", "on", "1e3"], "names": {"0o17": "ok"}}
    for bare in ("\ny:", "- n\n", "- 1e3\n", "0o17:"):
        assert bare not in text, text


def test_real_numbers_and_booleans_stay_plain() -> None:
    from akslogin import yaml11

    text = yaml11.dump({"a": 1, "b": True, "c": 1.5, "d": None, "e": "plain"})
    assert text == "a: 1\nb: true\nc: 1.5\nd: null\ne: plain\n"




def test_a_yaml_alias_bomb_is_refused_quickly_as_kubectl_refuses_it(tmp_path: Path) -> None:
    start = time.monotonic()
    with pytest.raises(KubeconfigError) as info:
        files.parse(BOMB, "bomb.yaml")
    assert time.monotonic() - start < 2
    assert "aliases" in info.value.message and "bomb.yaml" in info.value.message


def test_a_few_ordinary_anchors_are_still_read() -> None:
    text = ("apiVersion: v1\nkind: Config\nusers:\n- name: a\n  user: &exec\n    exec: {command: akslogin, "
            "args: [get-token]}\n- name: b\n  user: *exec\n")
    config = files.parse(text, "anchors.yaml")
    assert config.get("users", "b") == config.get("users", "a")


def test_a_huge_integer_in_a_kubeconfig_is_a_clear_error() -> None:
    with pytest.raises(KubeconfigError) as info:
        files.parse("apiVersion: v1\nkind: Config\nx: " + "9" * 100_000 + "\n", "big.yaml")
    assert "big.yaml" in info.value.message
