"""doctor: walk the chain from kubeconfig to an authorized request and stop at the first broken link.

kubeconfig parses → context/cluster/user exist → credential usable (exec command found, certificate or
token not expired) → login mode has its inputs → authority reachable and trusted → token obtained for the
right audience → API server reachable and trusted → authenticated → authorized for a basic read.

Each step is a small method returning ok/warn/fail with a message and, on failure, the fix. The token is
obtained exactly as the context's exec plugin would (see :mod:`akslogin.kubectx`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TextIO

from akslogin import kubectx as ct
from akslogin.clouds import AKS_SERVER_APP_ID
from akslogin.errors import AksloginError
from akslogin.exec_credential import SUPPORTED as EXEC_API_VERSIONS
from akslogin.kubeapi import ApiForbidden, ApiUnauthorized, KubeApiError, KubeClient
from akslogin.kubeconfig import files
from akslogin.kubeconfig.model import MissingKubeconfigError
from akslogin.kubeconfig.resolved import ResolvedContext, resolve
from akslogin.kubeconfig.view import MergedKubeconfig, load_merged
from akslogin.output import human_delta, paragraph, printable, summarize_list, when, write_data
from akslogin.rbac.rules import ResourceRequest
from akslogin.term import Painter
from akslogin.tokeninfo import TokenInfo, decode_token
from akslogin.usecases.explain import Explanation, explain
from akslogin.usecases.explain import render as render_explanation

if TYPE_CHECKING:
    from akslogin.http import MakeHttp

Clock = Callable[[], float]
OK, WARN, FAIL, SKIP = "ok", "warn", "fail", "skip"
#: Clock difference above which doctor calls it skew (API servers tolerate about a minute on exp/nbf).
SKEW_TOLERANCE = 60


@dataclass
class Step:
    name: str
    status: str
    message: str
    fix: str = ""
    warnings: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "status": self.status, "message": self.message, "fix": self.fix or None,
                "warnings": self.warnings, "details": self.details}


@dataclass
class DoctorRequest:
    kubeconfig: str | None = None
    context: str | None = None
    namespace: str | None = None
    verbosity: int | None = None  # -v for the in-process sign-in (None: the context's own)
    output: str = "table"


def _fail(name: str, error: AksloginError, fix: str = "") -> Step:
    return Step(name, FAIL, error.message, fix or error.hint or "")


class Doctor:
    #: The checks in the order they run: each needs what the ones before it found (step name, method).
    CHECKS: tuple[tuple[str, Callable[[Doctor], Step]], ...] = ()

    def __init__(self, req: DoctorRequest, environ: Mapping[str, str], stderr: TextIO, clock: Clock,
                 make_http: MakeHttp | None = None) -> None:
        self.req = req
        self.make_http = make_http
        self.environ = environ
        self.stderr = stderr
        self.clock = clock
        self.merged: MergedKubeconfig | None = None
        self.ctx: ResolvedContext | None = None
        self.target: ct.Target | None = None
        self.token: ct.PresentedToken | None = None
        self.info: TokenInfo | None = None
        self.client: KubeClient | None = None
        self.explanation: Explanation | None = None
        #: The kubeconfig or the context asked for does not exist: bad input (exit 2), as for every command.
        self.missing = False

    def run(self) -> list[Step]:
        steps: list[Step] = []
        for name, check in self.CHECKS:
            if any(s.status == FAIL for s in steps):
                steps.append(Step(name, SKIP, "not checked: an earlier step failed"))
                continue
            try:
                step = check(self)
            except AksloginError as exc:  # anything a step did not anticipate still ends as one clear failure
                step = _fail(name, exc)
                self.missing = self.missing or isinstance(exc, MissingKubeconfigError)
            steps.append(step)
        return steps

    # -- 1. kubeconfig -----------------------------------------------------------------------------
    def check_kubeconfig(self) -> Step:
        try:
            merged = load_merged(self.req.kubeconfig, self.environ)
        except AksloginError as exc:
            self.missing = isinstance(exc, MissingKubeconfigError)
            return _fail("kubeconfig", exc)
        if not merged.configs:
            self.missing = True
            return Step("kubeconfig", FAIL, f"no kubeconfig found (looked at {merged.describe_sources()}).",
                        "Create it with 'akslogin get-credentials --resource-group RG --name CLUSTER', or point "
                        "--kubeconfig / KUBECONFIG at an existing file.")
        self.merged = merged
        step = Step("kubeconfig", OK, f"read {merged.describe_sources()}")
        if merged.missing:
            step.warnings.append("KUBECONFIG lists files that do not exist: " + ", ".join(merged.missing))
        for config in merged.configs:
            step.warnings += config.notes
            stale = files.lock_in_the_way(config.source, self.clock())
            if stale:
                step.warnings.append(stale)
        return step

    # -- 2. context --------------------------------------------------------------------------------
    def check_context(self) -> Step:
        assert self.merged is not None
        ctx = resolve(self.merged, self.req.context)
        self.ctx = ctx
        step = Step("context", OK, f"{ctx.name}: cluster {ctx.cluster.name} at {ctx.cluster.server}, "
                                   f"user {ctx.user_name or '(none)'}, namespace {ctx.namespace}")
        if ctx.cluster.insecure_skip_tls_verify:
            step.status = WARN
            step.warnings.append("insecure-skip-tls-verify is set: the API server's certificate is not checked. "
                                 "Remove it and use certificate-authority-data.")
        return step

    # -- 3. credential -----------------------------------------------------------------------------
    def check_credential(self) -> Step:
        assert self.ctx is not None
        plan = ct.plan_credential(self.ctx, self.environ)
        ct.set_verbosity(plan, self.req.verbosity)
        self.target = ct.Target(self.ctx, plan)
        now = self.clock()
        if plan.exec is not None:
            spec = plan.exec
            if spec.path is None:
                return _fail("credential", ct.missing_plugin(spec, plan, self.ctx))
            if spec.api_version not in EXEC_API_VERSIONS:
                return Step("credential", FAIL, f"exec.apiVersion {spec.api_version!r} is not supported by kubectl.",
                            "Set it to client.authentication.k8s.io/v1.")
            return Step("credential", OK, f"{plan.describe()} — found at {spec.path}")
        if plan.kind == ct.CERTIFICATE and plan.certificate is not None:
            cert = plan.certificate
            if not plan.key_pem:
                return Step("credential", FAIL, "the client certificate has no client-key(-data).",
                            "Re-run 'akslogin get-credentials'.")
            if cert.expired(now):
                return Step("credential", FAIL,
                            f"the client certificate ({cert.subject}) expired {when(cert.not_after, now)}.",
                            "Get credentials again with an Entra login ('akslogin get-credentials'); an expired "
                            "admin certificate means the cluster CA was rotated or the credential is old.")
            if cert.not_before > now + SKEW_TOLERANCE:
                return Step("credential", FAIL, f"the client certificate is not valid before "
                                                f"{when(cert.not_before, now)} (check this machine's clock).")
            step = Step("credential", OK, f"client certificate {cert.subject}, valid until {when(cert.not_after, now)}")
            step.warnings.append("a client certificate cannot be revoked" + (
                "; this one is cluster-admin (system:masters)" if cert.cluster_admin else ""))
            return step
        if plan.kind == ct.TOKEN:
            info = decode_token(plan.token)
            if info is not None and info.expires_at is not None and info.expires_at < now:
                return Step("credential", FAIL, f"the static token in the kubeconfig expired "
                                                f"{when(info.expires_at, now)}.",
                            "Replace it with an exec plugin that renews tokens ('akslogin get-credentials').")
            return Step("credential", OK, plan.describe())
        raise ct.unusable(plan, self.ctx)

    # -- 4. login mode inputs ----------------------------------------------------------------------
    def check_login(self) -> Step:
        assert self.target is not None
        plan = self.target.plan
        if plan.kind != ct.GET_TOKEN:
            return Step("login", SKIP, "not an akslogin/kubelogin get-token context")
        from akslogin.credentials.base import LOGIN_MODES, login_problems

        opts = ct.validated_options(plan)
        if opts.login not in LOGIN_MODES:
            return Step("login", FAIL, f"--login {opts.login} is not available in this version of akslogin.",
                        "Available: " + ", ".join(sorted(LOGIN_MODES)) + ".")
        assert plan.exec is not None
        problems = login_problems(opts, ct.with_exec_env(self.environ, plan.exec.env), preflight=True)
        if problems:
            step = Step("login", FAIL, problems[0].message, problems[0].fix)
            step.details["problems"] = [{"message": p.message, "fix": p.fix} for p in problems]
            return step
        facts = [f"--login {opts.login}"]
        facts += [f"{label} {value}" for label, value in (("client", opts.client_id), ("tenant", opts.tenant_id))
                  if value]
        if opts.client_secret:
            facts.append("client secret set")
        if opts.client_certificate:
            facts.append(f"certificate {opts.client_certificate}")
        return Step("login", OK, ", ".join(facts))

    # -- 5. authority ------------------------------------------------------------------------------
    def check_authority(self) -> Step:
        assert self.target is not None
        plan = self.target.plan
        if plan.kind != ct.GET_TOKEN:
            return Step("authority", SKIP, "the exec plugin talks to its identity provider itself")
        from akslogin.aadsts import describe_idp_error
        from akslogin.credentials.base import AUTHORITY_MODES
        from akslogin.credentials.msal_app import resolve_authority
        from akslogin.http import HttpClient

        opts = ct.validated_options(plan)
        if opts.login not in AUTHORITY_MODES:
            return Step("authority", SKIP, f"--login {opts.login} gets its token without calling the authority "
                                           "directly")
        authority = resolve_authority(opts)
        assert plan.exec is not None
        http = (self.make_http or HttpClient)(opts.timeout_seconds, opts.certificate_authority,
                                              ct.with_exec_env(self.environ, plan.exec.env))
        url = f"{authority.url}/v2.0/.well-known/openid-configuration"
        response = http.get(url)
        if response.status_code >= 400:
            try:
                body = response.json()
            except ValueError:
                body = None
            if isinstance(body, dict) and "error" in body:
                return _fail("authority", describe_idp_error(body))
            return Step("authority", FAIL, f"{url} answered HTTP {response.status_code}.",
                        "Check --tenant-id and --authority-host / --environment.")
        return Step("authority", OK, f"{authority.host} reachable, TLS trusted, tenant {opts.tenant_id} known")

    # -- 6. token ----------------------------------------------------------------------------------
    def check_token(self) -> Step:
        assert self.target is not None and self.ctx is not None
        plan = self.target.plan
        if plan.kind == ct.CERTIFICATE and not plan.token:
            return Step("token", SKIP, "the context uses a client certificate, not a token")
        self.token = ct.obtain_token(plan, self.ctx, self.environ, clock=self.clock, stderr=self.stderr)
        info = decode_token(self.token.token)
        self.info = info
        now = self.clock()
        if info is None:
            return Step("token", OK, f"opaque bearer token from {self.token.origin} (not a JWT: nothing to check)")
        step = Step("token", OK, f"token for {info.aks_username} ({info.identity_type}), audience {info.audience}, "
                                 f"tenant {info.tenant_id}, expires {when(info.expires_at, now)}, from "
                                 f"{self.token.origin}")
        step.details = {"identity_type": info.identity_type, "username": info.aks_username,
                        "audience": info.audience, "tenant": info.tenant_id,
                        "expires_at": int(info.expires_at) if info.expires_at else None}
        opts = plan.opts
        if opts is not None and not info.audience_matches(opts.server_id, opts.legacy):
            return Step("token", FAIL, f"the token's audience {info.audience!r} is not the --server-id "
                                       f"{opts.server_id!r} the context asks for.",
                        "The identity provider issued a token for another resource: check --server-id and "
                        "--legacy in the exec args.", details=step.details)
        if info.expires_at is not None and info.expires_at < now and info.issued_at is not None \
                and self.token.origin.startswith("a new sign-in"):
            return Step("token", FAIL,
                        f"the identity provider just issued a token that expired {when(info.expires_at, now)} by "
                        f"this machine's clock: it was issued {human_delta(now - info.issued_at)} before this "
                        "machine's 'now', so the clocks differ (clock skew).",
                        "Sync this machine's clock (NTP: timedatectl set-ntp true / w32tm /resync).",
                        details=step.details)
        if info.expires_at is not None and info.expires_at < now:
            return Step("token", FAIL, f"the token expired {when(info.expires_at, now)}.",
                        "If it came from a cache or a plugin, clear that cache and retry; check this machine's "
                        "clock.", details=step.details)
        if info.issued_at is not None and info.issued_at - now > 300:
            step.status = WARN
            step.warnings.append(f"the token was issued {human_delta(info.issued_at - now)} in this machine's "
                                 "future: this machine's clock is behind the identity provider's. Sync it (NTP).")
        if info.legacy_audience:
            step.status = WARN
            step.warnings.append("legacy 'spn:' audience (--legacy): AKS-managed Entra ID clusters reject it.")
        elif info.audience.rstrip("/") != AKS_SERVER_APP_ID:
            step.status = WARN
            step.warnings.append(f"the audience is not the AKS server app {AKS_SERVER_APP_ID}; that is only right "
                                 "for clusters with their own server app (legacy AAD integration).")
        return step

    # -- 7. API server -----------------------------------------------------------------------------
    def check_apiserver(self) -> Step:
        assert self.target is not None
        self.client = ct.api_client(self.target, self.token, self.environ, timeout=ct.request_timeout(self.target.plan))
        response = self.client.request("GET", "/version")
        cluster = self.target.ctx.cluster
        trust = ("NOT verified (insecure-skip-tls-verify)" if cluster.insecure_skip_tls_verify
                 else f"verified with {cluster.ca_origin or 'the system trust store'}")
        version = response.body.get("gitVersion") if response.status == 200 and isinstance(response.body, dict) else ""
        step = Step("apiserver", OK, f"{cluster.server} reachable, TLS {trust}"
                    + (f", Kubernetes {version}" if version else ""))
        if cluster.insecure_skip_tls_verify:
            step.status = WARN
            step.warnings.append("TLS is not verified for this cluster.")
        server_time = response.server_time
        if server_time is not None:
            skew = server_time - self.clock()
            step.details["clock_skew_seconds"] = int(skew)
            if abs(skew) > SKEW_TOLERANCE:
                step.status = WARN
                step.warnings.append(f"the API server's clock is {human_delta(skew)} "
                                     f"{'ahead of' if skew > 0 else 'behind'} this machine's.")
        return step

    # -- 8. authenticated --------------------------------------------------------------------------
    def check_authenticated(self) -> Step:
        assert self.client is not None
        try:
            me = self.client.self_subject_review()
        except ApiUnauthorized:
            return self._diagnose_401()
        except ApiForbidden as exc:
            return Step("authenticated", OK, "authenticated (SelfSubjectReview is not allowed here: "
                                             f"{exc.server_message})")
        groups = [str(g) for g in me.get("groups") or []]
        return Step("authenticated", OK, f"the cluster sees you as {me.get('username')} "
                                         f"(groups: {summarize_list(groups, 4)})",
                    details={"username": me.get("username"), "uid": me.get("uid"), "groups": groups})

    def _diagnose_401(self) -> Step:
        assert self.client is not None and self.target is not None
        info = self.info
        server_now = self.client.last_server_time
        local_now = self.clock()
        plan = self.target.plan
        head = "the API server rejected the credential (401 Unauthorized)."
        if plan.kind == ct.CERTIFICATE and self.token is None:
            return Step("authenticated", FAIL, head + " It does not accept this client certificate.",
                        "The certificate was probably issued by a rotated cluster CA; get credentials again with "
                        "an Entra login ('akslogin get-credentials').")
        if info is None:
            return Step("authenticated", FAIL, head + " The static token is not accepted (rotated or revoked).",
                        "Use an exec plugin ('akslogin get-credentials').")
        facts = {"tenant": info.tenant_id, "audience": info.audience, "expires_at": info.expires_at,
                 "server_time": int(server_now) if server_now else None, "local_time": int(local_now)}
        if server_now is not None and info.expires_at is not None and info.expires_at + SKEW_TOLERANCE < server_now:
            skew = server_now - local_now
            return Step("authenticated", FAIL,
                        head + " By the API server's clock the token expired "
                        f"{human_delta(server_now - info.expires_at)} ago; its clock is {human_delta(skew)} "
                        f"{'ahead of' if skew > 0 else 'behind'} this machine's (clock skew).",
                        "Sync this machine's clock (NTP: timedatectl set-ntp true / w32tm /resync); AKS keeps the "
                        "API server's clock right. A token cached while the clock was wrong is renewed after the "
                        "fix.", details=facts)
        if server_now is not None and info.not_before is not None and info.not_before - SKEW_TOLERANCE > server_now:
            skew = server_now - local_now
            return Step("authenticated", FAIL,
                        head + f" By the API server's clock the token is not valid for another "
                        f"{human_delta(info.not_before - server_now)}; the clocks differ by {human_delta(skew)} "
                        "(clock skew).",
                        "Sync this machine's clock (NTP) and get a new token (delete the akslogin cache entry or "
                        "wait until it is valid).", details=facts)
        if info.legacy_audience:
            return Step("authenticated", FAIL, head + f" The token has the legacy audience {info.audience}, "
                                                      "which AKS-managed Entra ID clusters do not accept.",
                        "Remove --legacy from the exec args.", details=facts)
        if info.audience.rstrip("/") != AKS_SERVER_APP_ID:
            return Step("authenticated", FAIL, head + f" The token's audience is {info.audience}, not the AKS "
                                                      f"server app {AKS_SERVER_APP_ID} (wrong server id).",
                        f"Use --server-id {AKS_SERVER_APP_ID} in the exec args (only clusters with their own "
                        "legacy server app use another id).", details=facts)
        return Step("authenticated", FAIL,
                    head + f" The token is valid by the server's clock and has the AKS audience, so the cluster "
                    f"most likely trusts another Entra tenant than {info.tenant_id} (the token's tenant).",
                    "Compare with the cluster's tenant (az aks show -g RG -n NAME --query aadProfile.tenantId -o tsv) "
                    "and fix --tenant-id in the exec args; a guest must sign in to the cluster's tenant. Also check "
                    "that the cluster has Entra ID integration enabled.", details=facts)

    # -- 9. authorized -----------------------------------------------------------------------------
    def check_authorized(self) -> Step:
        assert self.client is not None and self.target is not None
        namespace = self.req.namespace or self.target.ctx.namespace
        request = ResourceRequest(verb="list", resource="pods", namespace=namespace)
        try:
            self.client.call("GET", f"/api/v1/namespaces/{namespace}/pods?limit=1")
        except ApiForbidden as exc:
            self.explanation = explain(self.target, self.client, self.info, request)
            azure = self.explanation.azure
            if azure is not None:  # Azure decides first here: the fix is a role assignment, not a binding
                return Step("authorized", FAIL, f"Forbidden by Azure RBAC for Kubernetes: {exc.server_message}",
                            "Ask someone who may assign roles on the cluster (Owner, User Access Administrator) to "
                            f"run: {azure.command}", details={"explanation": self.explanation.to_json()})
            fix = self.explanation.suggestion.command + " --apply" if self.explanation.suggestion else ""
            return Step("authorized", FAIL, f"Forbidden: {exc.server_message}",
                        f"Ask someone allowed to create bindings to run: {fix}" if fix else "",
                        details={"explanation": self.explanation.to_json()})
        except KubeApiError as exc:
            return _fail("authorized", exc)
        model = self.target.ctx.cluster.azure_rbac
        decides = {True: " (Azure role assignments decide here: Azure RBAC for Kubernetes)",
                   False: " (Kubernetes RBAC decides here)", None: ""}[model]
        return Step("authorized", OK, f"may list pods in namespace {namespace}{decides}",
                    details={"authorization": None if model is None else ("azure-rbac" if model else
                                                                          "kubernetes-rbac")})


# -- output -----------------------------------------------------------------------------------------

MARKS = {OK: "[ok]  ", WARN: "[warn]", FAIL: "[FAIL]", SKIP: "[--]  "}


def render(steps: list[Step], doctor: Doctor) -> str:
    ctx = doctor.ctx
    head = "akslogin doctor" + (f" — context {ctx.name} ({ctx.kubeconfig})" if ctx else "")
    out = [head]
    width = max(len(s.name) for s in steps)
    for step in steps:
        mark = MARKS[step.status]
        out.append(paragraph(step.message, indent=0, width=110, first=f"{mark} {step.name.ljust(width)}  "))
        pad = " " * (len(mark) + width + 3)
        for warning in step.warnings:
            out.append(paragraph(warning, indent=len(pad), width=110, first="! "))
        if step.fix and step.status == FAIL:
            out.append(paragraph(step.fix, indent=len(pad), width=110, first="fix: "))
    if doctor.explanation is not None:
        out += ["", "Why the read was denied:", render_explanation(doctor.explanation).rstrip()]
    ok = not any(s.status == FAIL for s in steps)
    out += ["", "All checks passed." if ok else "A link in the chain is broken: see the FAIL line above."]
    return "\n".join(out) + "\n"


Doctor.CHECKS = (
    ("kubeconfig", Doctor.check_kubeconfig), ("context", Doctor.check_context),
    ("credential", Doctor.check_credential), ("login", Doctor.check_login), ("authority", Doctor.check_authority),
    ("token", Doctor.check_token), ("apiserver", Doctor.check_apiserver),
    ("authenticated", Doctor.check_authenticated), ("authorized", Doctor.check_authorized),
)


def run(req: DoctorRequest, environ: Mapping[str, str], stdout: TextIO, stderr: TextIO,
        clock: Clock = time.time, make_http: MakeHttp | None = None) -> int:
    doctor = Doctor(req, environ, stderr, clock, make_http)
    steps = doctor.run()
    ok = not any(s.status == FAIL for s in steps)
    if req.output != "table":
        write_data(stdout, {"ok": ok, "context": doctor.ctx.name if doctor.ctx else None,
                            "steps": [s.to_json() for s in steps]}, req.output)
    else:
        stdout.write(Painter(stdout).marks(printable(render(steps, doctor), keep_newlines=True), {
            MARKS[OK]: ("green",), MARKS[WARN]: ("yellow",), MARKS[FAIL]: ("bold", "red")}))
    return 0 if ok else 2 if doctor.missing else 1
