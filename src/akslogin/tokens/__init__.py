"""Tokens: the one source of "the token kubectl would get for these options", below the commands.

:mod:`source` gives it to every caller (get-token's slow path, login, get-credentials' ARM token, whoami,
doctor, the Python API); :mod:`acquire` is the single-flight sign-in under the per-identity lock;
:mod:`refresh_ahead` renews a token shortly before kubectl would wait, from a process of its own. Above the
login modes (:mod:`akslogin.credentials`) and the cache (:mod:`akslogin.tokencache`); nothing here imports a
command.
"""
