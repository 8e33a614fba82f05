"""JSON read within bounds, without importing :mod:`json`: the one JSON reader of akslogin.

Bounds: a document nested deeper than :data:`MAX_DEPTH` or holding an integer longer than
:data:`MAX_INT_DIGITS` digits is refused with :class:`TooLarge` (a ValueError), where :mod:`json` would
exhaust the stack (RecursionError) or spend quadratic time converting digits. Every answer from a server, every
cache file and every tool's output is read through :func:`loads`; the HTTP client applies it to each body.

``import json`` imports and compiles :mod:`re` patterns (json.decoder, json.scanner, json.encoder), which
costs about as much as the rest of a cached get-token together. The C accelerator ``_json`` behind the
json module needs none of that, so the hot path calls it directly: :func:`loads` is ``json.loads`` for
UTF-8 input and :func:`quote` is the string encoder ``json.dumps`` uses by default (``ensure_ascii``).
On an interpreter without ``_json`` both fall back to the json module, with the same results.
"""

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_WHITESPACE = " \t\n\r"  # what JSON (and json.loads) allows around a value
#: Deepest nesting read. Token, ARM, Graph and cache documents are 2-6 levels deep.
MAX_DEPTH = 64
#: Longest integer read: epoch seconds and lifetimes have 10, the largest JSON numbers anyone sends 20.
MAX_INT_DIGITS = 40


class TooLarge(ValueError):
    """Valid JSON over the reading bounds (too deep, too long a number): refused, never half-used."""


def _int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise TooLarge(f"it holds a number of {len(text)} digits, too long to read")
    return int(text)


def _constant(name: str) -> float:
    return float(name)  # "NaN", "Infinity", "-Infinity", as json.loads accepts them


class _ScannerContext:
    """The attributes ``_json.make_scanner`` reads from a ``json.JSONDecoder``, with its defaults."""

    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = staticmethod(_int)
    parse_constant = staticmethod(_constant)


def _c_functions() -> "tuple[Any, Any]":
    try:
        import _json

        # typeshed types the context as make_scanner itself; any object with the decoder attributes works.
        return _json.make_scanner(_ScannerContext()), _json.encode_basestring_ascii  # type: ignore[arg-type]
    except (ImportError, AttributeError, TypeError):  # pragma: no cover - not CPython, or a changed _json
        return None, None


_scan, _c_quote = _c_functions()


def loads(raw: bytes | str) -> "Any":
    """Parse a JSON document; raises ValueError when it is not valid JSON, and its subclass TooLarge when it is
    over the bounds."""
    text = raw.decode("utf-8") if isinstance(raw, bytes) else raw  # UnicodeDecodeError is a ValueError
    if _scan is None:  # pragma: no cover
        import json

        try:
            value = json.loads(text, parse_int=_int)
        except RecursionError:
            raise TooLarge("it is nested too deeply to read") from None
    else:
        start = len(text) - len(text.lstrip(_WHITESPACE))
        try:
            value, end = _scan(text, start)
        except StopIteration:
            raise ValueError("not a JSON document") from None
        except RecursionError:
            raise TooLarge("it is nested too deeply to read") from None
        except SystemError:
            # _json reports a cut-short document through json.decoder, which the hot path does not import:
            # CPython then raises SystemError.
            raise ValueError("not a complete JSON document") from None
        if text[end:].strip(_WHITESPACE):
            raise ValueError("extra data after the JSON document")
    if isinstance(value, (dict, list)) and not _shallow(value):
        raise TooLarge("it is nested too deeply to read")
    return value


def _shallow(value: "Any") -> bool:
    """True when no container in ``value`` is nested deeper than MAX_DEPTH (checked without recursion)."""
    level: list[Any] = [value]
    for _ in range(MAX_DEPTH):
        level = [child for node in level
                 for child in (node.values() if isinstance(node, dict) else node)
                 if isinstance(child, (dict, list))]
        if not level:
            return True
    return False


def quote(text: str) -> str:
    """``text`` as a JSON string literal, exactly as ``json.dumps`` writes it (ASCII, escaped)."""
    if _c_quote is None:  # pragma: no cover
        import json

        return json.dumps(text)
    result: str = _c_quote(text)
    return result


def dumps_flat(obj: dict[str, str]) -> str:
    """A ``dict[str, str]`` as ``json.dumps(obj, sort_keys=True, separators=(",", ":"))`` writes it."""
    return "{" + ",".join(quote(k) + ":" + quote(obj[k]) for k in sorted(obj)) + "}"
