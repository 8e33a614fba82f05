"""YAML as kubectl reads it: every string written so that a YAML 1.1 reader takes it back as that string, and
every document read within a budget.

kubectl (client-go, through go-yaml v2) resolves plain scalars with a wider table than PyYAML's: ``y``/``N``
are booleans, ``1e3``/``0o17``/``0X1F``/``1_000`` numbers, ``~``/``null`` nothing. PyYAML writes several of
those bare, and kubectl then refuses the whole file ("cannot unmarshal bool into ... namespace") or reads an
empty value. The dumper here knows go-yaml's table (plus every casing of the words, and anything that starts
like a number or a date) and quotes such strings; real numbers, booleans and nulls stay plain.

Reading: PyYAML shares an aliased node instead of copying it, so a few kilobytes of nested aliases (an "alias
bomb") load fast and then explode in whatever walks the result (a deep copy, a JSON dump, a comparison).
:func:`load` measures the document as it would be expanded and refuses one over the budget, as kubectl
refuses it ("excessive aliasing"); an integer too long to convert is a clear error too.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

#: PyYAML's safe loader and dumper, in libyaml's C version when PyYAML was built with it (the wheels are):
#: the same documents, about 10x faster, which matters when --all writes hundreds of clusters at once.
_BASE_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_BASE_DUMPER: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)

#: A tag no document uses: a plain string that resolves to it is one a YAML 1.1 reader would not read as a
#: string, so the emitter quotes it (it quotes every string whose plain form resolves to another type).
_NOT_A_STRING = "tag:akslogin,2026:yaml11-not-a-string"
_WORDS = re.compile(r"(?i:y|n|yes|no|on|off|true|false|null|~)\Z")
#: Anything that starts like a number, a special float or a date (go-yaml strips "_" and accepts every base
#: prefix and exponent form of Go's strconv): quoting a name such as "2fa" costs nothing, reading it wrong does.
_NUMBERISH = re.compile(r"[-+]?(?:[0-9]|\.[0-9]|\.(?i:inf|nan)\Z)")


class Dumper(_BASE_DUMPER):  # type: ignore[misc]
    """The safe dumper, with strings a YAML 1.1 reader would take for another type quoted."""


# Appended after PyYAML's own resolvers, so real ints, floats, booleans and nulls still resolve to their own tags
# first and stay plain; only strings fall through to these.
for _first in "yYnNoOtTfF~":
    Dumper.add_implicit_resolver(_NOT_A_STRING, _WORDS, [_first])
for _first in "-+.0123456789":
    Dumper.add_implicit_resolver(_NOT_A_STRING, _NUMBERISH, [_first])
Dumper.add_implicit_resolver(_NOT_A_STRING, re.compile(r"(?:<<)?\Z"), ["<", ""])  # the merge key, ""


def dump(data: Any, *, width: float | None = None) -> str:
    """``data`` as block-style YAML, key order kept, non-ASCII text as it is, ambiguous strings quoted."""
    kwargs: dict[str, Any] = {"default_flow_style": False, "sort_keys": False, "allow_unicode": True}
    if width is not None:
        kwargs["width"] = width
    text: str = yaml.dump(data, Dumper=Dumper, **kwargs)
    if Dumper is not _PureDumper and "\\U" in text:
        # libyaml escapes characters beyond the BMP (emoji) even with allow_unicode; kubectl writes them as they
        # are, and so does PyYAML's own emitter. Rare enough that the slower emitter costs nothing.
        text = yaml.dump(data, Dumper=_PureDumper, **kwargs)
    return text


class _PureDumper(yaml.SafeDumper):
    """PyYAML's own emitter with the same quoting (for what libyaml escapes)."""


_PureDumper.yaml_implicit_resolvers = {k: list(v) for k, v in Dumper.yaml_implicit_resolvers.items()}


class DocumentTooLarge(ValueError):
    """A document over the reading budget: its aliases expand past it, or a number is too long."""


#: Nodes a document may expand to through its aliases (a 5000-context kubeconfig is about 150,000).
MAX_EXPANDED_NODES = 2_000_000


def load(text: str) -> Any:
    """A YAML document with the safe loader, refused (DocumentTooLarge) when its aliases expand past the budget
    or an integer is too long to convert; yaml.YAMLError for a document that is not YAML."""
    try:
        data = yaml.load(text, Loader=_BASE_LOADER)  # noqa: S506 (a safe loader)
    except ValueError as exc:  # PyYAML converting an integer of thousands of digits
        raise DocumentTooLarge(f"a number in it is too long to read ({str(exc)[:60]})") from None
    if "*" in text:  # no alias without an asterisk: ordinary files skip the walk
        expanded = expanded_size(data, MAX_EXPANDED_NODES)
        if expanded > MAX_EXPANDED_NODES:
            raise DocumentTooLarge(f"its aliases expand to more than {MAX_EXPANDED_NODES:,} values")
    return data


def expanded_size(data: Any, limit: int) -> int:
    """How many values ``data`` holds once every shared (aliased) part is counted each time it is used;
    linear in the distinct containers, and it stops counting past ``limit``."""
    sizes: dict[int, int] = {}
    # Post-order without recursion (a deep document must not exhaust the stack): (node, children counted?)
    stack: list[tuple[Any, bool]] = [(data, False)]
    while stack:
        node, counted = stack.pop()
        if not isinstance(node, (dict, list)) or id(node) in sizes:
            continue
        children = [*node.keys(), *node.values()] if isinstance(node, dict) else node
        if counted:
            total = 1
            for child in children:
                total += sizes.get(id(child), 1) if isinstance(child, (dict, list)) else 1
                if total > limit:
                    break
            sizes[id(node)] = min(total, limit + 1)
        else:
            stack.append((node, True))
            stack.extend((child, False) for child in children if isinstance(child, (dict, list)))
    return sizes.get(id(data), 1)
