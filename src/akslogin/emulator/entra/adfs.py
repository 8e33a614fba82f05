"""Federated sign-in: user realm discovery, and an emulated on-premises IdP (ADFS) speaking WS-Trust.

ESTS side: ``GET /common/userrealm/<upn>`` says Managed, Federated (with the IdP's MEX and active
endpoints) or Unknown; the ``saml1_1-bearer`` / ``saml2-bearer`` grants exchange an IdP assertion for tokens.
IdP side (its own HTTPS server, service "adfs"): the MEX WSDL, and WS-Trust 1.3 and 2005 ``usernamemixed``
endpoints that check the user's on-premises password and answer with a SAML 1.1 or 2.0 assertion, or a
SOAP fault (ID3242) as ADFS does.

Simplification: assertions are not XML-signed. The IdP records each assertion it issues and ESTS accepts
only those (once, within their validity), which is what a signature check establishes in the real system.
"""

from __future__ import annotations

import base64
import binascii
import html
import re
import secrets
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from akslogin.emulator.entra import userflows
from akslogin.emulator.entra.endpoints import EntraService, TokenError
from akslogin.emulator.net.httpbase import Request, Response, Router

if TYPE_CHECKING:
    from akslogin.emulator.host import EmulatorHost

KEY = "adfs"
SERVICE = "adfs"
SAML11 = "urn:oasis:names:tc:SAML:1.0:assertion"
SAML20 = "urn:oasis:names:tc:SAML:2.0:assertion"
GRANT_SAML11 = "urn:ietf:params:oauth:grant-type:saml1_1-bearer"
GRANT_SAML20 = "urn:ietf:params:oauth:grant-type:saml2-bearer"
AUDIENCE = "urn:federation:MicrosoftOnline"
ASSERTION_LIFETIME = 3600
MEX_PATH = "/adfs/services/trust/mex"
WST13_PATH = "/adfs/services/trust/13/usernamemixed"
WST2005_PATH = "/adfs/services/trust/2005/usernamemixed"


@dataclass
class IssuedAssertion:
    upn: str
    token_type: str
    not_after: float
    used: bool = False


class Federation:
    def __init__(self, emu: EmulatorHost, flows: userflows.UserFlows) -> None:
        self.emu = emu
        self.entra: EntraService = emu.entra
        self.flows = flows
        self._lock = threading.Lock()
        self._assertions: dict[str, IssuedAssertion] = {}
        #: Requests the IdP answered, for tests: (path, outcome).
        self.idp_log: list[tuple[str, str]] = []

    @property
    def idp_url(self) -> str:
        return self.emu.server_url(SERVICE)

    # -- ESTS: user realm ------------------------------------------------------------------------
    def user_realm(self, req: Request) -> Response:
        upn = req.params["upn"]
        domain = upn.rpartition("@")[2]
        tenant = self.entra.world.tenant_for_upn(upn)
        body: dict[str, str] = {"ver": "1.0", "cloud_instance_name": "microsoftonline.com"}
        if tenant is None:
            body["account_type"] = "Unknown"
            return Response.json(200, body)
        body.update({"domain_name": domain, "cloud_audience_urn": AUDIENCE})
        fed = tenant.federation_for(upn)
        if fed is None:
            body["account_type"] = "Managed"
            return Response.json(200, body)
        body.update({"account_type": "Federated", "federation_protocol": "WSTrust",
                     "federation_active_auth_url": self.idp_url + WST2005_PATH})
        if fed.mex:
            body["federation_metadata_url"] = self.idp_url + MEX_PATH
        return Response.json(200, body)

    # -- ESTS: SAML bearer grants ----------------------------------------------------------------
    def saml_grant(self, req: Request, form: dict[str, str], v1: bool) -> Response:
        tenant = self.entra.tenant_for_token(req.params["tenant"])
        app = self.flows.public_app(tenant, form.get("client_id", ""))
        raw = form.get("assertion", "")
        try:
            xml = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode("utf-8")
        except (ValueError, binascii.Error):
            raise TokenError(50008, detail="The assertion is not base64url-encoded XML.") from None
        match = re.search(r'\s(?:AssertionID|ID)="([^"]+)"', xml)
        issuer = re.search(r'Issuer="([^"]+)"|<(?:\w+:)?Issuer>([^<]+)<', xml)
        with self._lock:
            issued = self._assertions.get(match.group(1)) if match else None
            if issued is None:
                name = (issuer.group(1) or issuer.group(2)) if issuer else "unknown"
                raise TokenError(50107, issuer=name)
            if issued.used or self.entra.clock.now() > issued.not_after:
                raise TokenError(50008, detail="The assertion has expired or was already used.")
            issued.used = True
        wanted = GRANT_SAML11 if issued.token_type == SAML11 else GRANT_SAML20
        if form.get("grant_type") != wanted:
            raise TokenError(50008, detail="The grant type does not match the assertion's SAML version.")
        user = self.flows.user_in(tenant, issued.upn)
        resource, _ = self.entra.resource_for(tenant, form, req, v1, client_credentials=False)
        amr = self.flows.check_user(tenant, user, app, "ropc", resource)
        return self.flows.issue(req, form, v1, userflows.SignIn(tenant, user, app, self.entra.clock.now(), amr))

    # -- the IdP ---------------------------------------------------------------------------------
    def idp_router(self) -> Router:
        router = Router()
        router.add("GET", MEX_PATH, self.mex)
        router.add("POST", WST13_PATH, lambda req: self.wstrust(req, wst13=True))
        router.add("POST", WST2005_PATH, lambda req: self.wstrust(req, wst13=False))
        return router

    def mex(self, req: Request) -> Response:
        return Response(200, _mex_document(self.idp_url).encode(), {"Content-Type": "application/soap+xml"})

    def wstrust(self, req: Request, wst13: bool) -> Response:
        text = req.body.decode("utf-8", "replace")
        username = _element(text, "Username")
        password = _element(text, "Password")
        tenant = self.entra.world.tenant_for_upn(username) if username else None
        user = tenant.user_by_upn(username) if tenant is not None else None
        fed = tenant.federation_for(username) if tenant is not None else None
        if (user is None or fed is None or user.password is None
                or not secrets.compare_digest(user.password.encode(), password.encode())):
            self.idp_log.append((req.path, "fault"))
            return Response(500, _fault(wst13).encode(), {"Content-Type": "application/soap+xml; charset=utf-8"})
        token_type = SAML11 if fed.token_type == "saml1.1" else SAML20
        assertion_id = "_" + secrets.token_hex(16)
        now = self.entra.clock.now()
        with self._lock:
            self._assertions[assertion_id] = IssuedAssertion(user.upn, token_type, now + ASSERTION_LIFETIME)
        self.idp_log.append((req.path, token_type))
        assertion = _assertion(token_type, assertion_id, self.idp_url, user.upn, user.object_id, now)
        return Response(200, _rstr(wst13, token_type, assertion, now).encode(),
                        {"Content-Type": "application/soap+xml; charset=utf-8"})


def _element(text: str, tag: str) -> str:
    match = re.search(rf"<(?:\w+:)?{tag}(?:\s[^>]*)?>(.*?)</(?:\w+:)?{tag}>", text, re.DOTALL)
    return html.unescape(match.group(1)) if match else ""


def _iso(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(epoch))


def _assertion(token_type: str, assertion_id: str, idp: str, upn: str, oid: str, now: float) -> str:
    issuer = f"{idp}/adfs/services/trust"
    immutable = base64.b64encode(oid.encode()).decode()
    start, end = _iso(now), _iso(now + ASSERTION_LIFETIME)
    if token_type == SAML11:
        subject = ("<saml:Subject>"
                   '<saml:NameIdentifier Format="urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified">'
                   f"{immutable}</saml:NameIdentifier><saml:SubjectConfirmation><saml:ConfirmationMethod>"
                   "urn:oasis:names:tc:SAML:1.0:cm:bearer</saml:ConfirmationMethod></saml:SubjectConfirmation>"
                   "</saml:Subject>")
        return (
            f'<saml:Assertion MajorVersion="1" MinorVersion="1" AssertionID="{assertion_id}" Issuer="{issuer}" '
            f'IssueInstant="{start}" xmlns:saml="{SAML11}">'
            f'<saml:Conditions NotBefore="{start}" NotOnOrAfter="{end}"><saml:AudienceRestrictionCondition>'
            f"<saml:Audience>{AUDIENCE}</saml:Audience></saml:AudienceRestrictionCondition></saml:Conditions>"
            f"<saml:AttributeStatement>{subject}"
            '<saml:Attribute AttributeName="UPN" AttributeNamespace="http://schemas.xmlsoap.org/claims">'
            f"<saml:AttributeValue>{html.escape(upn)}</saml:AttributeValue></saml:Attribute>"
            '<saml:Attribute AttributeName="ImmutableID" '
            'AttributeNamespace="http://schemas.microsoft.com/LiveID/Federation/2008/05">'
            f"<saml:AttributeValue>{immutable}</saml:AttributeValue></saml:Attribute></saml:AttributeStatement>"
            f'<saml:AuthenticationStatement AuthenticationMethod="urn:oasis:names:tc:SAML:1.0:am:password" '
            f'AuthenticationInstant="{start}">{subject}</saml:AuthenticationStatement></saml:Assertion>'
        )
    return (
        f'<Assertion ID="{assertion_id}" IssueInstant="{start}" Version="2.0" xmlns="{SAML20}">'
        f"<Issuer>{issuer}</Issuer><Subject><NameID>{immutable}</NameID>"
        '<SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"/></Subject>'
        f'<Conditions NotBefore="{start}" NotOnOrAfter="{end}"><AudienceRestriction>'
        f"<Audience>{AUDIENCE}</Audience></AudienceRestriction></Conditions>"
        '<AttributeStatement><Attribute Name="http://schemas.xmlsoap.org/claims/UPN">'
        f"<AttributeValue>{html.escape(upn)}</AttributeValue></Attribute></AttributeStatement>"
        f'<AuthnStatement AuthnInstant="{start}"><AuthnContext><AuthnContextClassRef>'
        "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</AuthnContextClassRef></AuthnContext>"
        "</AuthnStatement></Assertion>"
    )


def _rstr(wst13: bool, token_type: str, assertion: str, now: float) -> str:
    if wst13:
        ns, action = "http://docs.oasis-open.org/ws-sx/ws-trust/200512", (
            "http://docs.oasis-open.org/ws-sx/ws-trust/200512/RSTRC/IssueFinal")
        open_c, close_c = f'<trust:RequestSecurityTokenResponseCollection xmlns:trust="{ns}">', (
            "</trust:RequestSecurityTokenResponseCollection>")
    else:
        ns, action = "http://schemas.xmlsoap.org/ws/2005/02/trust", (
            "http://schemas.xmlsoap.org/ws/2005/02/trust/RSTR/Issue")
        open_c, close_c = "", ""
    xmlns = "" if wst13 else f' xmlns:trust="{ns}"'
    return (
        '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" '
        'xmlns:a="http://www.w3.org/2005/08/addressing" '
        'xmlns:u="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd">'
        f'<s:Header><a:Action s:mustUnderstand="1">{action}</a:Action></s:Header><s:Body>{open_c}'
        f"<trust:RequestSecurityTokenResponse{xmlns}><trust:Lifetime><u:Created>{_iso(now)}</u:Created>"
        f"<u:Expires>{_iso(now + ASSERTION_LIFETIME)}</u:Expires></trust:Lifetime>"
        '<wsp:AppliesTo xmlns:wsp="http://schemas.xmlsoap.org/ws/2004/09/policy">'
        '<wsa:EndpointReference xmlns:wsa="http://www.w3.org/2005/08/addressing">'
        f"<wsa:Address>{AUDIENCE}</wsa:Address></wsa:EndpointReference></wsp:AppliesTo>"
        f"<trust:RequestedSecurityToken>{assertion}</trust:RequestedSecurityToken>"
        f"<trust:TokenType>{token_type}</trust:TokenType>"
        "</trust:RequestSecurityTokenResponse>"
        f"{close_c}</s:Body></s:Envelope>"
    )


def _fault(wst13: bool) -> str:
    return (
        '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" '
        'xmlns:a="http://www.w3.org/2005/08/addressing"><s:Header>'
        '<a:Action s:mustUnderstand="1">http://www.w3.org/2005/08/addressing/soap/fault</a:Action></s:Header>'
        "<s:Body><s:Fault><s:Code><s:Value>s:Sender</s:Value><s:Subcode>"
        '<s:Value xmlns:a="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd">'
        "a:FailedAuthentication</s:Value></s:Subcode></s:Code><s:Reason>"
        '<s:Text xml:lang="en-US">ID3242: The security token could not be authenticated or authorized.</s:Text>'
        "</s:Reason></s:Fault></s:Body></s:Envelope>"
    )


def _mex_document(idp: str) -> str:
    """A WS-MetadataExchange WSDL with username/password endpoints for WS-Trust 1.3 and 2005."""
    sp13 = "http://docs.oasis-open.org/ws-sx/ws-securitypolicy/200702"
    sp05 = "http://schemas.xmlsoap.org/ws/2005/07/securitypolicy"

    def policy(pid: str, prefix: str, supporting: str) -> str:
        return (
            f'<wsp:Policy wsu:Id="{pid}"><wsp:ExactlyOne><wsp:All>'
            f"<{prefix}:TransportBinding><wsp:Policy><{prefix}:TransportToken><wsp:Policy><{prefix}:HttpsToken/>"
            f"</wsp:Policy></{prefix}:TransportToken></wsp:Policy></{prefix}:TransportBinding>"
            f"<{prefix}:{supporting}><wsp:Policy><{prefix}:UsernameToken><wsp:Policy>"
            f"<{prefix}:WssUsernameToken10/></wsp:Policy></{prefix}:UsernameToken></wsp:Policy>"
            f"</{prefix}:{supporting}></wsp:All></wsp:ExactlyOne></wsp:Policy>"
        )

    def binding(name: str, pid: str, action: str) -> str:
        return (
            f'<wsdl:binding name="{name}" type="tns:IWSTrust"><wsp:PolicyReference URI="#{pid}"/>'
            '<soap12:binding transport="http://schemas.xmlsoap.org/soap/http"/>'
            f'<wsdl:operation name="Issue"><soap12:operation soapAction="{action}" style="document"/>'
            "</wsdl:operation></wsdl:binding>"
        )

    def port(name: str, binding_name: str, path: str) -> str:
        return (
            f'<wsdl:port name="{name}" binding="tns:{binding_name}"><soap12:address location="{idp}{path}"/>'
            f"<wsa10:EndpointReference><wsa10:Address>{idp}{path}</wsa10:Address></wsa10:EndpointReference>"
            "</wsdl:port>"
        )

    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<wsdl:definitions name="SecurityTokenService" targetNamespace="http://tempuri.org/" '
        'xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/" xmlns:tns="http://tempuri.org/" '
        'xmlns:soap12="http://schemas.xmlsoap.org/wsdl/soap12/" '
        'xmlns:wsu="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd" '
        'xmlns:wsp="http://schemas.xmlsoap.org/ws/2004/09/policy" '
        'xmlns:wsa10="http://www.w3.org/2005/08/addressing" '
        f'xmlns:sp="{sp13}" xmlns:sp2005="{sp05}">'
        + policy("UserNameWSTrustBinding_IWSTrust13Async_policy", "sp", "SignedEncryptedSupportingTokens")
        + policy("UserNameWSTrustBinding_IWSTrustFeb2005Async_policy", "sp2005", "SignedSupportingTokens")
        + binding("UserNameWSTrustBinding_IWSTrust13Async", "UserNameWSTrustBinding_IWSTrust13Async_policy",
                  "http://docs.oasis-open.org/ws-sx/ws-trust/200512/RST/Issue")
        + binding("UserNameWSTrustBinding_IWSTrustFeb2005Async",
                  "UserNameWSTrustBinding_IWSTrustFeb2005Async_policy",
                  "http://schemas.xmlsoap.org/ws/2005/02/trust/RST/Issue")
        + '<wsdl:service name="SecurityTokenService">'
        + port("UserNameWSTrustBinding_IWSTrust13Async", "UserNameWSTrustBinding_IWSTrust13Async", WST13_PATH)
        + port("UserNameWSTrustBinding_IWSTrustFeb2005Async", "UserNameWSTrustBinding_IWSTrustFeb2005Async",
               WST2005_PATH)
        + "</wsdl:service></wsdl:definitions>"
    )


def of(emu: EmulatorHost) -> Federation:
    return emu.service(KEY, Federation)


def install(emu: EmulatorHost) -> None:
    fed = Federation(emu, userflows.of(emu))
    emu.services[KEY] = fed
    # Entra answers the realm in any case of the path: MSAL Go (kubelogin) asks /common/UserRealm/<upn>.
    emu.entra.add_route("GET", r"/common/(?i:userrealm)/(?P<upn>[^/]+)", fed.user_realm)
    emu.entra.register_grant(GRANT_SAML11, fed.saml_grant)
    emu.entra.register_grant(GRANT_SAML20, fed.saml_grant)
    emu.add_server(SERVICE, fed.idp_router())
