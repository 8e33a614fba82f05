"""The cached get-token path stays import-light, and its hand-written parts equal what they replaced.

Nothing here is timed: the imports a cache hit pays for are checked with ``python -X importtime`` on the
installed console script, and the stdlib-free replacements (JSON, key hashing, durations, URL check) are
compared with the json/hashlib/re versions on generated input.

Here: the unit tier (in process; no emulator, process or socket).
"""

from __future__ import annotations

import pytest

from akslogin import options


def test_token_options_replace_copies_and_masks() -> None:
    opts = options.TokenOptions(login="spn", client_secret="s3cr3t", certificate_authority=["a.pem"])
    copy = opts.replace(tenant_id="t")
    assert copy.tenant_id == "t" and copy.client_secret == "s3cr3t" and opts.tenant_id == ""
    copy.certificate_authority.append("b.pem")
    assert opts.certificate_authority == ["a.pem"]
    assert "s3cr3t" not in repr(opts) and copy != opts and opts.replace() == opts
    with pytest.raises(TypeError):
        opts.replace(no_such_field=1)


def test_token_options_fields_match_the_constructor() -> None:
    """TokenOptions is a plain class: FIELDS, __slots__ and __init__ must list the same fields in order (the
    slots add from_env, which records where environment values came from and is not an option)."""
    import inspect

    params = list(inspect.signature(options.TokenOptions.__init__).parameters)[1:]
    assert params == list(options.FIELDS) == list(options.TokenOptions.__slots__)[:-1]
    assert options.TokenOptions.__slots__[-1] == "from_env"
    defaults = options.TokenOptions()
    assert all(hasattr(defaults, name) for name in options.FIELDS)
