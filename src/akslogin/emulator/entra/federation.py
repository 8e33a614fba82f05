"""Federated credentials: the emulator as the OIDC issuer of Kubernetes service-account tokens, GitHub
Actions and Azure Pipelines, and ESTS's checks of the federated assertions an app presents.

Servers (TLS, on their own ports):
- ``oidc``: one issuer per name at ``/<name>`` with ``/.well-known/openid-configuration`` and a JWKS;
- ``github``: the ``ACTIONS_ID_TOKEN_REQUEST_URL`` endpoint of a job (bearer request token → ``{"value"}``);
- ``pipelines``: the ``SYSTEM_OIDCREQUESTURI`` endpoint of a job (bearer ``SYSTEM_ACCESSTOKEN`` →
  ``{"oidcToken"}``).

ESTS matches an assertion against the app's federated credentials by issuer, subject and audience, after
checking its signature with the issuer's keys and its time window (AADSTS70021/700213/700212/50013/700024).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from akslogin.emulator.entra.endpoints import ASSERTION_SKEW, TokenError, _stamp
from akslogin.emulator.net.httpbase import Request, Response, Router
from akslogin.emulator.net.tlsmaterial import new_rsa_key
from akslogin.emulator.world import TOKEN_EXCHANGE_AUDIENCE, App, Tenant

if TYPE_CHECKING:
    from akslogin.emulator.host import EmulatorHost

#: Issuers every emulator hosts; a world may name more in its federated credentials.
HOSTED_ISSUERS = ("kubernetes", "github", "azure-pipelines")
GITHUB_TOKEN_LIFETIME = 300
PIPELINES_TOKEN_LIFETIME = 600
ISSUER = r"/(?P<issuer>[A-Za-z0-9][A-Za-z0-9._-]*)"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class OidcIssuer:
    """One external identity provider: an RSA key (made on first use) published as discovery + JWKS."""

    def __init__(self, name: str, base_url: Any) -> None:
        self.name = name
        self._base_url = base_url  # callable: the oidc server's URL is known only once it listens
        self._key: rsa.RSAPrivateKey | None = None
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"{self._base_url()}/{self.name}"

    @property
    def key(self) -> rsa.RSAPrivateKey:
        with self._lock:
            if self._key is None:
                self._key = new_rsa_key()
            return self._key

    @property
    def kid(self) -> str:
        der = self.key.public_key().public_bytes(serialization.Encoding.DER,
                                                 serialization.PublicFormat.SubjectPublicKeyInfo)
        return _b64url(hashlib.sha256(der).digest())[:43]

    def jwks(self) -> dict[str, Any]:
        numbers = self.key.public_key().public_numbers()

        def b64int(value: int) -> str:
            return _b64url(value.to_bytes((value.bit_length() + 7) // 8, "big"))

        return {"keys": [{"kty": "RSA", "use": "sig", "alg": "RS256", "kid": self.kid,
                          "n": b64int(numbers.n), "e": b64int(numbers.e)}]}

    def discovery(self) -> dict[str, Any]:
        return {
            "issuer": self.url,
            "jwks_uri": f"{self.url}/openid/v1/jwks",
            "response_types_supported": ["id_token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
        }

    def mint(self, claims: dict[str, Any]) -> str:
        return jwt.encode({"iss": self.url, **claims}, self.key, algorithm="RS256",
                          headers={"kid": self.kid, "typ": "JWT"})

    def verify(self, token: str) -> dict[str, Any]:
        """Signature only; times and audience are ESTS's business (checked by the caller)."""
        header = jwt.get_unverified_header(token)
        if header.get("kid") not in (None, self.kid):
            raise jwt.InvalidKeyError("The key was not found.")
        claims: dict[str, Any] = jwt.decode(
            token, self.key.public_key(), algorithms=["RS256"],
            options={"verify_aud": False, "verify_exp": False, "verify_nbf": False, "verify_iat": False},
        )
        return claims


@dataclass
class GitHubJob:
    request_token: str
    repository: str
    ref: str
    environment: str | None

    @property
    def subject(self) -> str:
        if self.environment:
            return f"repo:{self.repository}:environment:{self.environment}"
        return f"repo:{self.repository}:ref:{self.ref}"


@dataclass
class PipelinesJob:
    access_token: str
    organization: str
    project: str
    service_connections: dict[str, str] = field(default_factory=dict)  # id → name


class FederationService:
    """Hosted issuers, CI token endpoints, and the federated-assertion check plugged into the token endpoint."""

    def __init__(self, emulator: EmulatorHost) -> None:
        self._emu = emulator
        names = set(HOSTED_ISSUERS)
        for tenant in emulator.world.tenants:
            for app in tenant.apps:
                names.update(f.issuer for f in app.federated_credentials)
        self.issuers = {name: OidcIssuer(name, lambda: self._emu.server_url("oidc")) for name in sorted(names)}
        self._github_jobs: dict[str, GitHubJob] = {}
        self._pipelines_jobs: dict[str, PipelinesJob] = {}
        self._lock = threading.Lock()

    # -- minting, for tests and the demo ---------------------------------------------------------
    def issuer(self, name: str) -> OidcIssuer:
        try:
            return self.issuers[name]
        except KeyError:
            raise KeyError(f"the emulator hosts no issuer named {name!r}; known: {', '.join(self.issuers)}") from None

    def issue(self, issuer: str, subject: str, audience: str = TOKEN_EXCHANGE_AUDIENCE, lifetime: int = 3600,
              extra: dict[str, Any] | None = None) -> str:
        """A token from a hosted issuer, with times from the emulator's clock (negative lifetime: expired)."""
        now = int(self._emu.clock.now())
        start = min(now, now + lifetime - 60)
        claims = {"sub": subject, "aud": audience, "iat": start, "nbf": start, "exp": now + lifetime,
                  "jti": str(uuid.uuid4()), **(extra or {})}
        return self.issuer(issuer).mint(claims)

    def service_account_token(self, namespace: str, name: str, *, issuer: str = "kubernetes",
                              audience: str = TOKEN_EXCHANGE_AUDIENCE, lifetime: int = 3600) -> str:
        """What the kubelet projects into a pod for the workload identity webhook."""
        return self.issue(issuer, f"system:serviceaccount:{namespace}:{name}", audience, lifetime, {
            "aud": [audience],
            "kubernetes.io": {"namespace": namespace,
                              "serviceaccount": {"name": name, "uid": str(uuid.uuid4())}},
        })

    def github_job(self, repository: str, ref: str = "refs/heads/main", environment: str | None = None
                   ) -> dict[str, str]:
        """Start a GitHub Actions job with ``permissions: id-token: write``; returns the variables the runner
        sets for it."""
        plan, job = str(uuid.uuid4()), str(uuid.uuid4())
        state = GitHubJob(secrets.token_urlsafe(32), repository, ref, environment)
        with self._lock:
            self._github_jobs[job] = state
        url = (f"{self._emu.server_url('github')}/_apis/distributedtask/hubs/Actions/plans/{plan}/jobs/{job}/idtoken"
               "?api-version=2.0")
        return {"ACTIONS_ID_TOKEN_REQUEST_URL": url, "ACTIONS_ID_TOKEN_REQUEST_TOKEN": state.request_token}

    def pipelines_job(self, organization: str, project: str, service_connections: dict[str, str]
                      ) -> dict[str, str]:
        """Start an Azure Pipelines job that may use ``service_connections`` (id → name); returns the
        variables the agent sets (SYSTEM_ACCESSTOKEN only when mapped into the step's env)."""
        plan, job = str(uuid.uuid4()), str(uuid.uuid4())
        state = PipelinesJob(secrets.token_urlsafe(32), organization, project,
                             {k.lower(): v for k, v in service_connections.items()})
        with self._lock:
            self._pipelines_jobs[job] = state
        uri = (f"{self._emu.server_url('pipelines')}/{organization}/{project}/_apis/distributedtask/hubs/build/"
               f"plans/{plan}/jobs/{job}/oidctoken")
        return {"SYSTEM_OIDCREQUESTURI": uri, "SYSTEM_ACCESSTOKEN": state.access_token}

    # -- ESTS: checking a federated assertion --------------------------------------------------
    def verify_assertion(self, app: App, tenant: Tenant, assertion: str) -> None:
        try:
            claims = jwt.decode(assertion, options={"verify_signature": False})
        except jwt.PyJWTError:
            raise TokenError(50027, detail="The client assertion is not a JWT.") from None
        iss, sub = str(claims.get("iss") or ""), str(claims.get("sub") or "")
        aud = claims.get("aud")
        audiences = [str(a) for a in aud] if isinstance(aud, list) else [str(aud or "")]
        issuer = next((i for i in self.issuers.values() if i.url == iss), None)
        by_issuer = [f for f in app.federated_credentials if issuer is not None and f.issuer == issuer.name]
        if issuer is None or not by_issuer:
            raise TokenError(70021, issuer=iss, subject=sub, audience=",".join(audiences))
        try:
            issuer.verify(assertion)
        except jwt.InvalidKeyError:
            raise TokenError(50013, reason="The key was not found.") from None
        except jwt.PyJWTError:
            raise TokenError(50013, reason="The provided signature value did not match the expected signature "
                                           "value.") from None
        now = self._emu.clock.now()
        exp, nbf = claims.get("exp"), claims.get("nbf", claims.get("iat"))
        if not isinstance(exp, (int, float)) or exp + ASSERTION_SKEW < now or (
            isinstance(nbf, (int, float)) and nbf - ASSERTION_SKEW > now
        ):
            raise TokenError(700024, current=_stamp(now), nbf=_stamp(nbf), exp=_stamp(exp))
        by_subject = [f for f in by_issuer if f.subject == sub]
        if not by_subject:
            raise TokenError(700213, subject=sub)
        if not any(a in f.audiences for f in by_subject for a in audiences):
            raise TokenError(700212, audience=",".join(audiences))

    # -- routes ----------------------------------------------------------------------------------
    def oidc_router(self) -> Router:
        r = Router()
        r.add("GET", ISSUER + r"/\.well-known/openid-configuration",
              lambda req: self._with_issuer(req, lambda i: Response.json(200, i.discovery())))
        r.add("GET", ISSUER + r"/openid/v1/jwks",
              lambda req: self._with_issuer(req, lambda i: Response.json(200, i.jwks())))
        return r

    def _with_issuer(self, req: Request, answer: Any) -> Response:
        found = self.issuers.get(req.params["issuer"])
        if found is None:
            return Response.json(404, {"error": "not_found"})
        result: Response = answer(found)
        return result

    def github_router(self) -> Router:
        r = Router()
        r.add("GET", r"/_apis/distributedtask/hubs/Actions/plans/[^/]+/jobs/(?P<job>[^/]+)/idtoken", self._github)
        return r

    def _github(self, req: Request) -> Response:
        with self._lock:
            job = self._github_jobs.get(req.params["job"])
        scheme, _, token = req.header("authorization").partition(" ")
        if job is None or scheme.lower() != "bearer" or not hmac.compare_digest(token.encode(),
                                                                                job.request_token.encode()):
            return Response.json(401, {"message": "The request token is not valid for this job."})
        if req.query.get("api-version") != "2.0":
            return Response.json(400, {"message": "api-version 2.0 is required."})
        owner = job.repository.split("/")[0]
        audience = req.query.get("audience") or f"https://github.com/{owner}"
        extra: dict[str, Any] = {
            "repository": job.repository, "repository_owner": owner, "ref": job.ref, "ref_type": "branch",
            "event_name": "push", "workflow": "deploy", "run_id": "1", "run_attempt": "1", "actor": "octocat",
            "job_workflow_ref": f"{job.repository}/.github/workflows/deploy.yml@{job.ref}",
        }
        if job.environment:
            extra["environment"] = job.environment
        token = self.issue("github", job.subject, audience, GITHUB_TOKEN_LIFETIME, extra)
        return Response.json(200, {"count": len(token), "value": token})

    def pipelines_router(self) -> Router:
        r = Router()
        r.add("POST", r"/(?P<org>[^/]+)/(?P<project>[^/]+)/_apis/distributedtask/hubs/build/plans/[^/]+/"
                      r"jobs/(?P<job>[^/]+)/oidctoken", self._pipelines)
        return r

    def _pipelines(self, req: Request) -> Response:
        with self._lock:
            job = self._pipelines_jobs.get(req.params["job"])
        scheme, _, token = req.header("authorization").partition(" ")
        if job is None or scheme.lower() != "bearer" or not hmac.compare_digest(token.encode(),
                                                                                job.access_token.encode()):
            return _ado_error(401, "TF400813: The user '' is not authorized to access this resource.",
                              "UnauthorizedRequestException")
        if not req.query.get("api-version"):
            return _ado_error(400, "No api-version was supplied for the POST request.", "VssApiVersionException")
        connection_id = req.query.get("serviceConnectionId", "")
        name = job.service_connections.get(connection_id.lower())
        if name is None:
            return _ado_error(404, f"Service connection {connection_id or '(none)'} was not found or this "
                                   "pipeline is not authorized to use it.", "ServiceEndpointNotFoundException")
        subject = f"sc://{job.organization}/{job.project}/{name}"
        token = self.issue("azure-pipelines", subject, TOKEN_EXCHANGE_AUDIENCE, PIPELINES_TOKEN_LIFETIME)
        return Response.json(200, {"oidcToken": token})

    # -- control API (other processes: the demo, manual testing) -------------------------------------
    def _control_token(self, req: Request) -> Response:
        body = req.json() if req.body else {}
        try:
            token = self.service_account_token(
                str(body.get("namespace", "default")), str(body.get("service_account", "default")),
                issuer=str(body.get("issuer", "kubernetes")),
                audience=str(body.get("audience", TOKEN_EXCHANGE_AUDIENCE)),
                lifetime=int(body.get("lifetime", 3600)),
            )
        except (KeyError, ValueError) as exc:
            return Response.json(400, {"error": str(exc)})
        return Response.json(200, {"token": token})

    def _control_oidc_token(self, req: Request) -> Response:
        """Any hosted issuer, any subject: for CI systems the emulator has no job endpoint for (GitLab's
        ``id_tokens``, Jenkins OIDC plugins, ...). Extra claims may be added; iss/sub/aud/times are set here."""
        body = req.json() if req.body else {}
        if not body.get("issuer") or not body.get("subject"):
            return Response.json(400, {"error": "give issuer (a hosted issuer name) and subject"})
        extra = body.get("claims") or {}
        if not isinstance(extra, dict):
            return Response.json(400, {"error": "claims must be an object"})
        try:
            token = self.issue(str(body["issuer"]), str(body["subject"]),
                               str(body.get("audience", TOKEN_EXCHANGE_AUDIENCE)), int(body.get("lifetime", 3600)),
                               {k: v for k, v in extra.items() if k not in ("iss", "sub", "aud", "iat", "nbf", "exp")})
        except (KeyError, ValueError) as exc:
            return Response.json(400, {"error": str(exc).strip('"')})
        return Response.json(200, {"token": token})

    def _control_github(self, req: Request) -> Response:
        body = req.json() if req.body else {}
        return Response.json(200, self.github_job(str(body.get("repository", "contoso/app")),
                                                  str(body.get("ref", "refs/heads/main")), body.get("environment")))

    def _control_pipelines(self, req: Request) -> Response:
        body = req.json() if req.body else {}
        connections = {str(k): str(v) for k, v in (body.get("service_connections") or {}).items()}
        return Response.json(200, self.pipelines_job(str(body.get("organization", "contoso")),
                                                     str(body.get("project", "aks")), connections))


def _ado_error(status: int, message: str, type_name: str) -> Response:
    return Response.json(status, {"$id": "1", "innerException": None, "message": message,
                                  "typeName": f"Microsoft.TeamFoundation.DistributedTask.WebApi.{type_name}",
                                  "typeKey": type_name, "errorCode": 0, "eventId": 3000})


def federation(emulator: EmulatorHost) -> FederationService:
    """The federation feature of a running emulator (typed accessor for tests)."""
    return emulator.service("federation", FederationService)


def install(emulator: EmulatorHost) -> None:
    service = FederationService(emulator)
    emulator.services["federation"] = service
    emulator.entra.federated_assertion = service.verify_assertion
    emulator.add_server("oidc", service.oidc_router())
    emulator.add_server("github", service.github_router())
    emulator.add_server("pipelines", service.pipelines_router())
    emulator.entra.add_route("POST", "/_emulator/federation/service-account-token", service._control_token)
    emulator.entra.add_route("POST", "/_emulator/federation/token", service._control_oidc_token)
    emulator.entra.add_route("POST", "/_emulator/federation/github-job", service._control_github)
    emulator.entra.add_route("POST", "/_emulator/federation/pipelines-job", service._control_pipelines)
