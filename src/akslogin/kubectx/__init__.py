"""What kubectl would do with a kubeconfig context, done in process by the diagnostic commands.

:mod:`.plan` (what the context's user entry presents, before doing it) → :mod:`.environment` (the exec ``env`` on
top of ours, the one merge) → :mod:`.signin` (the token: in process for akslogin/kubelogin get-token, through
:mod:`.execplugin` for any other plugin, as kubectl runs it) → :mod:`.target` (the cluster to call with it).
:mod:`.user` answers the narrower question login/logout and the Python API ask: which get-token arguments sign
this context in. whoami, doctor, explain-forbidden and rbac bind all see what kubectl sees.
"""

from akslogin.kubectx.environment import with_exec_env
from akslogin.kubectx.plan import (
    AUTH_PROVIDER,
    BASIC,
    CERTIFICATE,
    EXEC,
    GET_TOKEN,
    NONE,
    TOKEN,
    CredentialPlan,
    ExecSpec,
    PlanKind,
    PresentedToken,
    missing_plugin,
    plan_credential,
    set_verbosity,
    unusable,
    validated_options,
)
from akslogin.kubectx.presented import obtain_token, token_in_process
from akslogin.kubectx.target import Target, api_client, open_context, request_timeout

__all__ = [
    "AUTH_PROVIDER", "BASIC", "CERTIFICATE", "EXEC", "GET_TOKEN", "NONE", "TOKEN", "CredentialPlan",
    "ExecSpec", "PlanKind", "PresentedToken", "Target", "api_client", "missing_plugin", "obtain_token",
    "open_context", "plan_credential", "request_timeout", "set_verbosity", "token_in_process", "unusable",
    "validated_options", "with_exec_env",
]
