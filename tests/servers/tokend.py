#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""tokend: a local HTTPS look-alike of the Microsoft identity platform token endpoints.

print2mail's helper gets OAuth tokens for SMTP XOAUTH2 from login.microsoftonline.com: client
credentials with a secret or a PS256 certificate assertion, the device code flow, and refresh
tokens.  Its tests point `oauth_authority` here instead.  This server checks requests the way
Entra ID does (scope, client secret, JWT assertion header/claims/signature/replay, tenant) and
answers with Entra's JSON, including AADSTS error codes and texts, so that the helper's error
classification is tested against the real shapes.  A JSON config, re-read on every request,
lets a test force errors, HTTP failures, delays and device-flow timing without a restart.

Every access token issued is appended to STATE/tokens.jsonl, which m365smtp.py reads as its
"token_db", so a token from here works for AUTH XOAUTH2 there until it expires.  Every token
or device code request is appended to STATE/requests.jsonl (no secrets), so tests can count
what the client asked for.

Run with Debian's /usr/bin/python3 (python3-cryptography).  Binds 127.0.0.1 only.
See README.md beside this file for every option and config key.
"""

import argparse
import base64
import datetime
import hashlib
import http.server
import json
import os
import re
import secrets
import sys
import threading
import time
import urllib.parse
import uuid

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

sys.dont_write_bytecode = True      # no __pycache__ beside the sources
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import p2mserver  # noqa: E402  (found beside this script, whatever the cwd)

note = p2mserver.logger("tokend")   # "tokend: ..." lines on stderr
FILE_MODE = 0o666                   # as open() makes files: what the umask leaves

CC_SCOPE = "https://outlook.office365.com/.default"
SMTP_SCOPE = "https://outlook.office.com/SMTP.Send"
# Microsoft Graph (transport = graph): another audience, so other scopes; graphd.py checks them.
GRAPH_CC_SCOPE = "https://graph.microsoft.com/.default"
GRAPH_SCOPE = "https://graph.microsoft.com/Mail.Send"
CC_SCOPES = (CC_SCOPE, GRAPH_CC_SCOPE)
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
EXO_RESOURCE = "00000002-0000-0ff1-ce00-000000000000"   # Office 365 Exchange Online app id
MAX_BODY = 1 << 20
USER_CODE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ"                # no vowels: no words by accident

# AADSTS code -> (error, HTTP status, description).  Texts follow Entra's wording; {name}
# placeholders are filled per request.  Codes are the ones in m365-replies.md section 4.
AADSTS = {
    7000215: ("invalid_client", 401, "Invalid client secret provided. Ensure the secret being sent in the "
              "request is the client secret value, not the client secret ID, for a secret added to app "
              "'{client_id}'."),
    7000222: ("invalid_client", 401, "The provided client secret keys for app '{client_id}' are expired. "
              "Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or "
              "consider using certificate credentials for added security: https://aka.ms/certCreds."),
    7000218: ("invalid_client", 401, "The request body must contain the following parameter: "
              "'client_assertion' or 'client_secret'."),
    700016: ("unauthorized_client", 400, "Application with identifier '{client_id}' was not found in the "
             "directory '{tenant}'. This can happen if the application has not been installed by the "
             "administrator of the tenant or consented to by any user in the tenant. You may have sent your "
             "authentication request to the wrong tenant."),
    700027: ("invalid_client", 401, "Client assertion failed signature validation. [Reason - {reason}]"),
    65001: ("invalid_grant", 400, "The user or administrator has not consented to use the application with "
            "ID '{client_id}' named 'print2mail'. Send an interactive authorization request for this user "
            "and resource."),
    65004: ("authorization_declined", 400, "User declined to consent to access the app."),
    70000: ("invalid_grant", 400, "Provided grant is invalid or malformed."),
    70003: ("unsupported_grant_type", 400, "The app requested an unsupported grant type '{grant_type}'."),
    70008: ("invalid_grant", 400, "The provided authorization code or refresh token has expired due to "
            "inactivity. Send a new interactive authorization request for this user and resource."),
    70011: ("invalid_scope", 400, "The provided request must include a 'scope' input parameter. The provided "
            "value for the input parameter 'scope' is not valid. The scope {scope} is not valid."),
    70016: ("authorization_pending", 400, "OAuth 2.0 device flow error. Authorization is pending. "
            "Continue polling."),
    70018: ("bad_verification_code", 400, "Invalid verification code entered."),
    70019: ("expired_token", 400, "Verification code expired."),
    70043: ("invalid_grant", 400, "The refresh token has expired or is invalid due to sign-in frequency "
            "checks by conditional access. The token was issued on {issued} and the maximum allowed "
            "lifetime for this request is 86400."),
    700082: ("invalid_grant", 400, "The refresh token has expired due to inactivity. The token was issued "
             "on {issued} and was inactive for 90.00:00:00."),
    50053: ("invalid_grant", 400, "The account is locked, you've tried to sign in too many times with an "
            "incorrect user ID or password."),
    50076: ("invalid_grant", 400, "Due to a configuration change made by your administrator, or because you "
            "moved to a new location, you must use multi-factor authentication to access "
            "'" + EXO_RESOURCE + "'."),
    50079: ("invalid_grant", 400, "Due to a configuration change made by your administrator, or because you "
            "moved to a new location, you must enroll in multi-factor authentication to access "
            "'" + EXO_RESOURCE + "'."),
    53003: ("invalid_grant", 400, "Access has been blocked by Conditional Access policies. The access policy "
            "does not allow token issuance."),
    54005: ("invalid_grant", 400, "OAuth2 Authorization code was already redeemed, please retry with a new "
            "valid code or use an existing refresh token."),
    90002: ("invalid_request", 400, "Tenant '{tenant}' not found. Check to make sure you have the correct "
            "tenant ID and are signing into the correct cloud. Check with your subscription administrator, "
            "this may happen if there are no active subscriptions for the tenant."),
    90033: ("temporarily_unavailable", 503, "A transient error has occurred. Please try again."),
    900144: ("invalid_request", 400, "The request body must contain the following parameter: '{param}'."),
    900561: ("invalid_request", 400, "The endpoint only accepts POST requests. Received a {method} request."),
}
# A forced error given only by name gets this code.
ERROR_NAME_CODES = {"temporarily_unavailable": 90033, "invalid_client": 7000215,
                    "unauthorized_client": 700016, "invalid_grant": 70000, "invalid_scope": 70011,
                    "invalid_request": 900144, "authorization_pending": 70016,
                    "expired_token": 70019, "authorization_declined": 65004,
                    "bad_verification_code": 70018}


class AADError(Exception):
    """An Entra error reply: error name, AADSTS code (or None), HTTP status, description."""

    def __init__(self, code, error=None, status=None, description=None, **fill):
        known = AADSTS.get(code, ("invalid_request", 400, "Test error."))
        self.code = code
        self.error = error or known[0]
        self.status = status or (401 if self.error == "invalid_client" else
                                 503 if self.error == "temporarily_unavailable" else known[1])
        text = description if description is not None else known[2]
        self.text = re.sub(r"\{(\w+)\}", lambda m: str(fill.get(m.group(1), m.group(0))), text)
        super().__init__(self.text)

    def body(self):
        """Entra's error JSON.  The description carries the same trace/correlation/time lines."""
        trace, corr = str(uuid.uuid4()), str(uuid.uuid4())
        ts = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ")
        desc = self.text
        if self.code is not None and not desc.startswith("AADSTS"):
            desc = "AADSTS%d: %s" % (self.code, desc)
        if "Trace ID:" not in desc:
            desc += "\r\nTrace ID: %s\r\nCorrelation ID: %s\r\nTimestamp: %s" % (trace, corr, ts)
        out = {"error": self.error, "error_description": desc,
               "error_codes": [self.code] if self.code is not None else [],
               "timestamp": ts, "trace_id": trace, "correlation_id": corr}
        if self.code is not None:
            out["error_uri"] = "https://login.microsoftonline.com/error?code=%d" % self.code
        return out


class HTTPFail(Exception):
    """Config 'fail_http': answer with a bare HTTP status and an HTML page, like a broken proxy."""

    def __init__(self, status):
        super().__init__(status)
        self.status = status


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text):
    if not isinstance(text, str) or not re.fullmatch(r"[A-Za-z0-9_-]*", text):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def iso_utc(ts):
    return datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.0000000Z")


class State:
    """Everything tokend remembers, under one lock (ThreadingHTTPServer runs requests in threads).
    Refresh tokens, seen assertion ids and 'times' counters persist in STATE so a restart keeps
    them; device codes are short-lived and kept in memory."""

    def __init__(self, state_dir):
        self.dir = os.path.abspath(state_dir)
        os.makedirs(self.dir, exist_ok=True)
        self.lock = threading.RLock()
        self.devices = {}
        self.refresh = self._load("refresh.json")
        self.jti = self._load("jti.json")
        self.counters = self._load("counters.json")

    def path(self, name):
        return os.path.join(self.dir, name)

    def _load(self, name):
        return p2mserver.read_json_object(self.path(name))

    def save(self, name, obj):
        p2mserver.write_atomic(self.path(name), json.dumps(obj, indent=1, sort_keys=True), FILE_MODE)

    def append(self, name, obj):
        with self.lock:
            p2mserver.append_jsonl(self.path(name), obj, FILE_MODE)

    def take(self, key, times):
        """True when a 'times'-limited behaviour may fire once more (and counts it)."""
        with self.lock:
            if times is None:
                return True
            n = int(self.counters.get(key, 0))
            if n >= int(times):
                return False
            self.counters[key] = n + 1
            self.save("counters.json", self.counters)
            return True


def load_config(path):
    """Re-read the config for this request; a file caught half-written is retried briefly."""
    def build(cfg, cfg_dir):
        if not isinstance(cfg, dict):
            raise ValueError("config must be a JSON object")
        return cfg, cfg_dir
    return p2mserver.load_json(path, build, ValueError, lambda err: ValueError("config %s: %s" % (path, err)))


class Request:
    """One token-endpoint request: the parsed form plus the config in force for it."""

    def __init__(self, server, handler, tenant, endpoint, form, cfg, cfg_dir):
        self.server = server
        self.state = server.state
        self.handler = handler
        self.tenant = tenant
        self.endpoint = endpoint
        self.form = form
        self.cfg = cfg
        self.cfg_dir = cfg_dir
        self.client_id = form.get("client_id") or None
        self.grant_type = form.get("grant_type") or None
        self.auth_kind = None

    def fill(self, **extra):
        d = {"client_id": self.client_id or "", "tenant": self.tenant,
             "grant_type": self.grant_type or ""}
        d.update(extra)
        return d

    def err(self, code, **extra):
        return AADError(code, **self.fill(**extra))

    def need(self, name):
        v = self.form.get(name)
        if not v:
            raise self.err(900144, param=name)
        return v

    # ---- checks shared by all grants --------------------------------------------------------

    def check_tenant_and_client(self):
        tenants = self.cfg.get("tenants")
        if tenants is not None and self.tenant.lower() not in [str(t).lower() for t in tenants]:
            raise self.err(90002)
        clients = self.cfg.get("clients") or {}
        client = clients.get(self.client_id)
        if not isinstance(client, dict):
            raise self.err(700016)
        want = client.get("tenant")
        if want is not None:
            allowed = want if isinstance(want, list) else [want]
            if self.tenant.lower() not in [str(t).lower() for t in allowed]:
                raise self.err(700016)
        return client

    def forced_error(self):
        """Config 'errors' keyed by client id (or '*'): answer with that error instead."""
        errors = self.cfg.get("errors") or {}
        spec = errors.get(self.client_id) if self.client_id in errors else errors.get("*")
        if not isinstance(spec, dict):
            return
        where = spec.get("endpoint", "token")
        if where != "any" and where != self.endpoint:
            return
        grants = spec.get("grant_type")
        if grants is not None and self.grant_type not in (grants if isinstance(grants, list) else [grants]):
            return
        key = "errors:" + hashlib.sha256(json.dumps([self.client_id, spec], sort_keys=True)
                                         .encode()).hexdigest()[:20]
        if not self.state.take(key, spec.get("times")):
            return
        code = spec.get("code")
        if code is None:
            code = ERROR_NAME_CODES.get(spec.get("error"), None)
        issued = iso_utc(time.time() - 90 * 86400)
        raise AADError(code, error=spec.get("error"), status=spec.get("status"),
                       description=spec.get("description"),
                       **self.fill(issued=issued, scope=self.form.get("scope", ""),
                                   reason="The provided signature value did not match the expected "
                                          "signature value."))

    def client_auth(self, client, required):
        """Verify client_secret or client_assertion.  Public-client grants may send neither."""
        assertion = self.form.get("client_assertion")
        secret = self.form.get("client_secret")
        if assertion or self.form.get("client_assertion_type"):
            self.auth_kind = "assertion"
            if self.form.get("client_assertion_type") != JWT_BEARER:
                raise self.err(700027, reason="client_assertion_type must be '%s'." % JWT_BEARER)
            if not assertion:
                raise self.err(900144, param="client_assertion")
            self.verify_assertion(client, assertion)
        elif secret:
            self.auth_kind = "secret"
            want = client.get("secret")
            wants = want if isinstance(want, list) else [want] if want else []
            if not any(isinstance(w, str) and secrets.compare_digest(w.encode(), secret.encode())
                       for w in wants):
                raise self.err(7000215)
        else:
            self.auth_kind = "none"
            if required or client.get("public_client") is False:
                raise self.err(7000218)

    def client_certs(self, client):
        cert = client.get("certificate")
        paths = cert if isinstance(cert, list) else [cert] if cert else []
        out = []
        for p in paths:
            with open(os.path.join(self.cfg_dir, p), "rb") as f:
                c = x509.load_pem_x509_certificate(f.read())
            der = c.public_bytes(serialization.Encoding.DER)
            out.append((c, b64url(hashlib.sha256(der).digest()), b64url(hashlib.sha1(der).digest())))
        return out

    def verify_assertion(self, client, assertion):
        """The checks Entra documents for certificate credentials (certificate-credentials page):
        PS256 (RS256 only if allowed), typ JWT, x5t#S256 of a registered certificate, a valid
        signature, aud = this endpoint's URL, iss = sub = client_id, a fresh jti, and a
        nbf/exp window of at most 10 minutes."""
        def bad(reason):
            return self.err(700027, reason=reason)
        if len(assertion) > 16384:
            raise bad("The client assertion is too long.")
        parts = assertion.split(".")
        if len(parts) != 3:
            raise bad("The client assertion is not a well-formed JWT.")
        try:
            header = json.loads(b64url_decode(parts[0]))
            claims = json.loads(b64url_decode(parts[1]))
            sig = b64url_decode(parts[2])
        except ValueError:
            raise bad("The client assertion is not a well-formed JWT.")
        if not isinstance(header, dict) or not isinstance(claims, dict):
            raise bad("The client assertion is not a well-formed JWT.")
        alg = header.get("alg")
        if alg == "RS256" and not self.cfg.get("accept_rs256"):
            raise bad("The signing algorithm 'RS256' is not accepted; use PS256.")
        if alg not in ("PS256", "RS256"):
            raise bad("The signing algorithm '%s' is not supported." % alg)
        if header.get("typ") != "JWT":
            raise bad("The JWT header 'typ' must be 'JWT'.")
        thumb = header.get("x5t#S256")
        certs = self.client_certs(client)
        match = [c for c in certs if thumb and c[1] == thumb]
        if not match and not thumb and self.cfg.get("accept_x5t_sha1") and header.get("x5t"):
            match = [c for c in certs if c[2] == header.get("x5t")]
        if not match:
            raise bad("The certificate with identifier used to sign the client assertion is not registered "
                      "on application. The key was not found., Thumbprint of key used by client: '%s'"
                      % (thumb or header.get("x5t") or ""))
        cert = match[0][0]
        now = time.time()
        try:
            not_after = cert.not_valid_after_utc.timestamp()
        except AttributeError:   # cryptography < 42
            not_after = cert.not_valid_after.replace(tzinfo=datetime.timezone.utc).timestamp()
        if not_after < now:
            raise bad("The certificate used to sign the client assertion has expired.")
        key = cert.public_key()
        if not isinstance(key, rsa.RSAPublicKey):
            raise bad("The certificate key must be RSA.")
        signed = (parts[0] + "." + parts[1]).encode("ascii")
        try:
            if alg == "PS256":
                try:
                    key.verify(sig, signed, padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32),
                               hashes.SHA256())
                except InvalidSignature:
                    key.verify(sig, signed, padding.PSS(mgf=padding.MGF1(hashes.SHA256()),
                                                        salt_length=padding.PSS.AUTO), hashes.SHA256())
            else:
                key.verify(sig, signed, padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            raise bad("The provided signature value did not match the expected signature value.")
        aud = self.handler.endpoint_url()
        if claims.get("aud") != aud:
            raise bad("The audience claim '%s' does not match the token endpoint '%s'." % (claims.get("aud"), aud))
        if claims.get("iss") != self.client_id or claims.get("sub") != self.client_id:
            raise bad("The 'iss' and 'sub' claims must both be the client id '%s'." % self.client_id)
        nbf, exp = claims.get("nbf"), claims.get("exp")
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (nbf, exp)):
            raise bad("The 'nbf' and 'exp' claims are required numbers.")
        skew = float(self.cfg.get("clock_skew", 60))
        if nbf > now + skew:
            raise bad("The client assertion is not yet valid (nbf is in the future).")
        if exp <= now:
            raise bad("The client assertion has expired.")
        if exp - nbf > float(self.cfg.get("assertion_max_lifetime", 600)):
            raise bad("The client assertion lifetime (exp - nbf) is longer than 10 minutes.")
        jti = claims.get("jti")
        if not isinstance(jti, str) or not jti:
            raise bad("The 'jti' claim is required.")
        with self.state.lock:
            if jti in self.state.jti:
                raise bad("The client assertion with this 'jti' was already used (replay).")
            for k in [k for k, v in self.state.jti.items() if v < now - 3600]:
                del self.state.jti[k]
            self.state.jti[jti] = exp
            self.state.save("jti.json", self.state.jti)

    # ---- issuing --------------------------------------------------------------------------------

    def issue(self, mailbox, scope, with_refresh, rt_record=None):
        """Mint an access token (JWT-shaped, signature meaningless), record it for m365smtp, and
        optionally a refresh token."""
        lifetime = int(self.cfg.get("token_lifetime", 3599))
        now = int(time.time())
        head = b64url(json.dumps({"typ": "JWT", "alg": "RS256", "x5t": "tokend-test"}, separators=(",", ":")).encode())
        graph = scope.startswith("https://graph.microsoft.com/")
        payload = {"aud": "https://graph.microsoft.com" if graph else "https://outlook.office.com", "iss": "https://sts.windows.net/%s/" % self.tenant,
                   "iat": now, "nbf": now, "exp": now + lifetime, "appid": self.client_id,
                   "tid": self.tenant, "uti": secrets.token_urlsafe(16)}
        if mailbox:
            payload["upn"] = mailbox
        if scope in CC_SCOPES:
            payload["roles"] = ["Mail.Send"] if graph else ["SMTP.SendAsApp"]
        else:
            payload["scp"] = "Mail.Send" if graph else "SMTP.Send"
        access = "%s.%s.%s" % (head, b64url(json.dumps(payload, separators=(",", ":")).encode()),
                               b64url(secrets.token_bytes(48)))
        self.state.append("tokens.jsonl", {"access_token": access, "mailbox": mailbox,
                                           "client_id": self.client_id, "expires_at": now + lifetime,
                                           "tenant": self.tenant, "grant_type": self.grant_type,
                                           "scope": scope})
        body = {"token_type": "Bearer"}
        if scope not in CC_SCOPES:
            body["scope"] = scope
        body.update({"expires_in": lifetime, "ext_expires_in": lifetime, "access_token": access})
        if with_refresh and not self.cfg.get("omit_refresh_token"):
            rt = "0.A" + secrets.token_urlsafe(96)
            with self.state.lock:
                self.state.refresh[rt] = {
                    "client_id": self.client_id, "mailbox": mailbox, "scope": scope, "tenant": self.tenant,
                    "issued_at": (rt_record or {}).get("issued_at", now), "last_used": now, "revoked": False}
                self.state.save("refresh.json", self.state.refresh)
            body["refresh_token"] = rt
        return body

    # ---- grants -----------------------------------------------------------------------------------

    def token(self):
        self.need("grant_type")
        self.need("client_id")
        self.forced_error()
        client = self.check_tenant_and_client()
        g = self.grant_type
        if g == "client_credentials":
            scope = self.need("scope")
            self.client_auth(client, required=True)
            if scope not in CC_SCOPES:
                raise self.err(70011, scope=scope)
            return self.issue(client.get("mailbox"), scope, with_refresh=False)
        if g == DEVICE_GRANT:
            self.client_auth(client, required=False)
            return self.device_poll(self.need("device_code"))
        if g == "refresh_token":
            self.client_auth(client, required=False)
            return self.refresh(self.need("refresh_token"))
        raise self.err(70003)

    def devicecode(self):
        self.need("client_id")
        self.forced_error()
        client = self.check_tenant_and_client()
        self.client_auth(client, required=False)
        scope = self.need("scope")
        scopes = scope.split()
        if SMTP_SCOPE not in scopes and GRAPH_SCOPE not in scopes:
            raise self.err(70011, scope=scope)
        now = time.time()
        user_code = "%s-%s" % tuple("".join(secrets.choice(USER_CODE_ALPHABET) for _ in range(4))
                                    for _ in range(2))
        device_code = "DAQABIQEAAAB" + secrets.token_urlsafe(96)
        expires_in = int(self.cfg.get("device_expires_in", 900))
        interval = int(self.cfg.get("device_interval", 5))
        with self.state.lock:
            for k in [k for k, d in self.state.devices.items() if d["expires_at"] < now - 3600]:
                del self.state.devices[k]
            self.state.devices[device_code] = {
                "client_id": self.client_id, "tenant": self.tenant, "user_code": user_code,
                "offline": "offline_access" in scopes, "scope": GRAPH_SCOPE if GRAPH_SCOPE in scopes else SMTP_SCOPE,
                "created": now, "expires_at": now + expires_in,
                "interval": interval, "last_poll": now, "polls": 0, "user": None,
                "declined": False, "redeemed": False}
        return {"user_code": user_code, "device_code": device_code,
                "verification_uri": "https://microsoft.com/devicelogin", "expires_in": expires_in,
                "interval": interval,
                "message": "To sign in, use a web browser to open the page https://microsoft.com/devicelogin "
                           "and enter the code %s to authenticate." % user_code}

    def device_poll(self, device_code):
        """RFC 8628 polling as Entra answers it.  Poll n (counting from 1) is pending until
        n > device_approve_after, unless /_test/approve came first; slow_down on the poll
        numbers in slow_down_on, or when polled faster than the interval (enforce_interval)."""
        now = time.time()
        with self.state.lock:
            d = self.state.devices.get(device_code)
            if d is None or d["client_id"] != self.client_id:
                raise self.err(70018)
            if d["redeemed"]:
                raise self.err(54005)
            d["polls"] += 1
            n = d["polls"]
            since, d["last_poll"] = now - d["last_poll"], now
            if now >= d["expires_at"]:
                raise self.err(70019)
            if d["declined"]:
                raise self.err(65004)
            slow = n in (self.cfg.get("slow_down_on") or [])
            if self.cfg.get("enforce_interval") and since < d["interval"]:
                slow = True
            if slow:
                if self.cfg.get("enforce_interval"):
                    d["interval"] += int(self.cfg.get("slow_down_increment", 5))
                raise AADError(None, error="slow_down",
                               description="slow_down: The client is polling too frequently. "
                                           "Increase the polling interval by 5 seconds (RFC 8628 3.5).")
            after = self.cfg.get("device_approve_after")
            if d["user"] is None and after is not None and n > int(after):
                d["user"] = self.cfg.get("device_user", "bob@contoso.com")
            if d["user"] is None:
                raise self.err(70016)
            d["redeemed"] = True
            user, offline, granted = d["user"], d["offline"], d.get("scope", SMTP_SCOPE)
        return self.issue(user, granted, with_refresh=offline)

    def refresh(self, rt):
        now = time.time()
        with self.state.lock:
            rec = self.state.refresh.get(rt)
            if not rec or rec.get("revoked") or rec.get("client_id") != self.client_id:
                raise self.err(70000)
            inactive = self.cfg.get("refresh_inactive_after")
            if inactive is not None and now - rec.get("last_used", 0) > float(inactive):
                raise self.err(700082, issued=iso_utc(rec.get("issued_at", now)))
            scope = self.form.get("scope")
            if scope and not any(s.startswith(("https://outlook.office.com/", "https://graph.microsoft.com/"))
                                 for s in scope.split()):
                raise self.err(70011, scope=scope)
            rec["last_used"] = now
            if self.cfg.get("rotate_revokes") and not self.cfg.get("omit_refresh_token"):
                rec["revoked"] = True
            self.state.save("refresh.json", self.state.refresh)
            rec = dict(rec)
        # One refresh token serves any resource it was consented for: the scope asked now wins.
        asked = [s for s in (self.form.get("scope") or "").split() if s != "offline_access"]
        return self.issue(rec.get("mailbox"), asked[0] if asked else rec.get("scope") or SMTP_SCOPE,
                          with_refresh=True, rt_record=rec)


class Handler(http.server.BaseHTTPRequestHandler):
    """HTTP/1.1 with Content-Length on every answer, so libcurl can keep connections alive."""

    protocol_version = "HTTP/1.1"
    server_version = "tokend"
    sys_version = ""
    timeout = 15

    def log_message(self, fmt, *args):
        if self.server.verbose:
            note("%s - %s", self.address_string(), fmt % args)

    def endpoint_url(self):
        """The URL this request came to, as the client wrote it (Host header), without query."""
        host = self.headers.get("Host") or "127.0.0.1:%d" % self.server.server_address[1]
        return "https://%s%s" % (host, urllib.parse.urlsplit(self.path).path)

    def send(self, status, body, ctype="application/json; charset=utf-8", extra=None):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store, no-cache")
        self.send_header("Pragma", "no-cache")
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def read_body(self):
        if self.headers.get("Transfer-Encoding"):
            self.close_connection = True
            return None
        try:
            n = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            return None
        if n < 0 or n > MAX_BODY:
            self.close_connection = True
            return None
        return self.rfile.read(n)

    def do_GET(self):
        path = urllib.parse.urlsplit(self.path).path
        if path == "/_test/health":
            return self.send(200, {"status": "ok"})
        if path.startswith("/_test/"):
            return self.send(404, {"error": "unknown test hook"})
        self.endpoint(path, "GET")

    def do_PUT(self):
        self.endpoint(urllib.parse.urlsplit(self.path).path, "PUT")

    def do_POST(self):
        path = urllib.parse.urlsplit(self.path).path
        if path.startswith("/_test/"):
            return self.test_hook(path)
        self.endpoint(path, "POST")

    def test_hook(self, path):
        """Plain test hooks (not logged in requests.jsonl): approve/decline a device login by its
        user code, revoke refresh tokens."""
        raw = self.read_body()
        try:
            text = (raw or b"").decode("utf-8")
            args = json.loads(text) if text.lstrip().startswith("{") else dict(urllib.parse.parse_qsl(text))
        except ValueError:
            return self.send(400, {"error": "bad JSON"})
        st = self.server.state
        if path in ("/_test/approve", "/_test/decline"):
            want = re.sub(r"[^A-Z0-9]", "", str(args.get("user_code", "")).upper())
            try:
                cfg, _ = load_config(self.server.config)
            except ValueError:
                cfg = {}
            with st.lock:
                for code, d in st.devices.items():
                    if (want and re.sub(r"[^A-Z0-9]", "", d["user_code"]) == want) \
                            or args.get("device_code") == code:
                        if path == "/_test/approve":
                            d["user"] = args.get("user") or cfg.get("device_user", "bob@contoso.com")
                        else:
                            d["declined"] = True
                        return self.send(200, {"ok": True, "user": d["user"]})
            return self.send(404, {"error": "unknown user_code"})
        if path == "/_test/revoke":
            n = 0
            with st.lock:
                for rt, rec in st.refresh.items():
                    if args.get("refresh_token") not in (None, rt):
                        continue
                    if args.get("mailbox") not in (None, rec.get("mailbox")):
                        continue
                    if args.get("client_id") not in (None, rec.get("client_id")):
                        continue
                    if not rec.get("revoked"):
                        rec["revoked"] = True
                        n += 1
                st.save("refresh.json", st.refresh)
            return self.send(200, {"ok": True, "revoked": n})
        return self.send(404, {"error": "unknown test hook"})

    def endpoint(self, path, method):
        m = re.fullmatch(r"/([^/]{1,200})/oauth2/v2\.0/(token|devicecode)", path)
        log = {"time": round(time.time(), 3), "method": method, "path": path,
               "tenant": m.group(1) if m else None, "grant_type": None, "client_id": None,
               "auth": None, "status": None, "error": None, "error_code": None}
        try:
            if not m:
                log["status"] = 404
                return self.send(404, b"<html><body><h2>404 Not Found</h2></body></html>", "text/html")
            raw = self.read_body() if method == "POST" else b""
            if raw is None:
                raise AADError(900144, param="grant_type")
            form = {}
            for k, v in urllib.parse.parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True,
                                               max_num_fields=64):
                form.setdefault(k, v)
            log["grant_type"] = form.get("grant_type")
            log["client_id"] = form.get("client_id")
            try:
                cfg, cfg_dir = load_config(self.server.config)
            except ValueError as e:
                note("%s", e)
                log["status"], log["error"] = 500, "config_error"
                return self.send(500, {"error": "server_error", "error_description": "tokend: %s" % e})
            delay = cfg.get("delay")
            if delay:
                time.sleep(float(delay))
            fail = cfg.get("fail_http")
            if fail and self.server.state.take("fail_http:%s" % fail, cfg.get("fail_http_times")):
                raise HTTPFail(int(fail))
            if method != "POST":
                raise AADError(900561, method=method)
            req = Request(self.server, self, m.group(1), m.group(2), form, cfg, cfg_dir)
            try:
                body = req.token() if m.group(2) == "token" else req.devicecode()
            finally:
                log["auth"] = req.auth_kind
            log["status"] = 200
            self.send(200, body)
        except AADError as e:
            log.update(status=e.status, error=e.error, error_code=e.code)
            self.send(e.status, e.body())
        except HTTPFail as e:
            log["status"] = e.status
            page = ("<html><head><title>%d Service Unavailable</title></head><body><h2>The service is "
                    "temporarily unavailable.</h2></body></html>" % e.status).encode()
            self.send(e.status, page, "text/html; charset=utf-8", {"Retry-After": "1"})
        except (OSError, ValueError) as e:   # unreadable certificate file and the like
            note("%s: %s", type(e).__name__, e)
            log.update(status=500, error="server_error")
            self.send(500, {"error": "server_error", "error_description": "tokend: %s" % e})
        finally:
            if log["status"] is not None:
                self.server.state.append("requests.jsonl", log)


def main():
    ap = argparse.ArgumentParser(description="Local HTTPS look-alike of the Microsoft identity platform.")
    p2mserver.add_listen_args(ap, "written atomically with the port once listening")
    ap.add_argument("--state-dir", required=True, help="tokens.jsonl, requests.jsonl, refresh.json, ...")
    ap.add_argument("--config", help="JSON config, re-read on every request")
    p2mserver.add_run_args(ap)
    ap.add_argument("--verbose", action="store_true", help="log each HTTP request to stderr")
    args = ap.parse_args()

    def configure(httpd):
        httpd.state = State(args.state_dir)
        httpd.config = args.config
        httpd.verbose = args.verbose

    return p2mserver.serve_https(args, Handler, configure, lambda httpd: "listening on https://127.0.0.1:%d/, state %s"
                                 % (httpd.server_address[1], httpd.state.dir), note, FILE_MODE)


if __name__ == "__main__":
    sys.exit(main())
