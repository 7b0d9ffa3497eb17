#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""graphd: a local HTTPS look-alike of Microsoft Graph's mail sending (transport = graph).

It answers what print2mail uses (reference/graph.md): MIME sendMail, a draft message made from
MIME, small attachments, an attachment upload session with Content-Range PUTs on a
pre-authenticated uploadUrl (no Authorization allowed there), send, and deleting a draft.  It
checks the bearer token against tokend.py's STATE/tokens.jsonl (--tokens): unknown, expired or
for another audience (an SMTP token) is refused with Graph's 401 bodies.  A delivered message is
stored as SPOOL/NNNN.eml with SPOOL/NNNN.json (how it came: sendMail or draft, mailbox, scope), as
m365smtp.py does, so tests parse it with Python's email package.  Every request is appended to
SPOOL/requests.jsonl (method, operation, status, whether Authorization was sent; never a token).

The JSON script (--script, re-read on every request) injects Graph's error bodies:
  {"errors": [{"op": "sendMail", "status": 403, "code": "ErrorAccessDenied",
               "message": "Access is denied. Check credentials and try again.",
               "retry_after": "1", "times": 1, "drop": false}],
   "mailboxes": ["scanner@contoso.com"],      # others get 404 ErrorInvalidUser (default: any)
   "max_request": 4194304,                    # request body limit (413 above it)
   "max_message_size": 36700160,              # ErrorMessageSizeExceeded past it while uploading
   "delay": 0,                                # seconds before every answer
   "delays": {"upload": 2},                   # seconds before each upload PUT is answered
   "revoke_tokens": 1}                        # the first N distinct tokens are refused with 401 as
                                              # expired though still valid (revoked, password reset)
op is one of sendMail, draft, attachment, session, upload, send, delete.  "times" limits how
often an entry fires (default: always); "drop" closes the connection after reading the request,
without an answer; "deliver": true carries the request out first (a 504 or a lost answer after
Graph had sent the mail).
Run with /usr/bin/python3.  Binds 127.0.0.1 only.
"""

import argparse
import base64
import binascii
import email
import email.policy
import http.server
import json
import os
import re
import secrets
import sys
import threading
import time
import urllib.parse

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import p2mserver  # noqa: E402

note = p2mserver.logger("graphd")
MAX_BODY = 8 << 20
UPLOAD_MIN = 3 * 1024 * 1024
GRAPH_PREFIX = "https://graph.microsoft.com/"


def gerr(status, code, message, extra=None):
    inner = {"date": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()),
             "request-id": "11111111-2222-3333-4444-%012x" % secrets.randbits(48),
             "client-request-id": "11111111-2222-3333-4444-000000000000"}
    return status, {"error": {"code": code, "message": message, "innerError": inner}}, extra or {}


class State:
    def __init__(self, args):
        self.args = args
        self.spool = os.path.abspath(args.spool)
        os.makedirs(self.spool, exist_ok=True)
        self.lock = threading.Lock()
        self.drafts = {}
        self.sessions = {}
        self.fired = {}
        self.revoked = set()
        self.count = len([n for n in os.listdir(self.spool) if n.endswith(".eml")])

    def script(self):
        return p2mserver.read_json_object(self.args.script) if self.args.script else {}

    def token(self, value):
        now = time.time()
        found = None
        try:
            with open(self.args.tokens, encoding="utf-8") as f:
                for line in f:
                    try:
                        rec = json.loads(line)
                    except ValueError:
                        continue
                    if rec.get("access_token") == value:
                        found = rec
        except OSError:
            pass
        return found, now

    def store(self, raw, meta):
        with self.lock:
            self.count += 1
            base = os.path.join(self.spool, "%04d" % self.count)
        p2mserver.write_atomic(base + ".json", json.dumps(meta, indent=1))
        p2mserver.write_atomic(base + ".eml", raw)


class Drop(Exception):
    pass


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "graphd"
    sys_version = ""
    timeout = 30

    def log_message(self, fmt, *args):
        pass

    # ---- plumbing --------------------------------------------------------------------------

    def answer(self, status, body=None, extra=None):
        data = b"" if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
        self.send_response(status)
        if body is not None:
            self.send_header("Content-Type", "application/json; odata.metadata=minimal; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("request-id", "aaaaaaaa-bbbb-cccc-dddd-%012x" % secrets.randbits(48))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def body(self):
        try:
            n = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            n = -1
        if n < 0 or n > MAX_BODY or self.headers.get("Transfer-Encoding"):
            self.close_connection = True
            return None
        return self.rfile.read(n)

    def do_POST(self):
        self.handle_any("POST")

    def do_PUT(self):
        self.handle_any("PUT")

    def do_DELETE(self):
        self.handle_any("DELETE")

    def do_GET(self):
        self.handle_any("GET")

    def handle_any(self, method):
        st = self.server.state
        data = self.body()
        url = urllib.parse.urlsplit(self.path)
        op, status = "?", 0
        try:
            script = st.script()
            if script.get("delay"):
                time.sleep(float(script["delay"]))
            if data is None:
                status, body, extra = gerr(413, "BadRequest", "The maximum request length supported is 4MB.")
            else:
                op, status, body, extra = self.route(method, url, data, script)
            self.answer(status, body, extra)
        except Drop:
            status = -1
            self.close_connection = True
        except (BrokenPipeError, ConnectionResetError):
            status = -2
        p2mserver.append_jsonl(os.path.join(st.spool, "requests.jsonl"), {
            "method": method, "op": op, "path": url.path, "status": status,
            "authorization": "Authorization" in self.headers,
            "content_type": self.headers.get("Content-Type"),
            "content_range": self.headers.get("Content-Range"), "length": len(data or b"")})

    def injected(self, op, script):
        """The first scripted error for OP that still fires, or None."""
        st = self.server.state
        for i, e in enumerate(script.get("errors") or []):
            if not isinstance(e, dict) or e.get("op") != op:
                continue
            key = json.dumps(e, sort_keys=True) + str(i)
            with st.lock:
                n = st.fired.get(key, 0)
                if e.get("times") is not None and n >= int(e["times"]):
                    continue
                st.fired[key] = n + 1
            if e.get("drop"):
                return "drop", bool(e.get("deliver"))
            extra = {"Retry-After": str(e["retry_after"])} if e.get("retry_after") is not None else {}
            return gerr(int(e.get("status", 500)), e.get("code", "InternalServerError"),
                        e.get("message", "scripted error"), extra), bool(e.get("deliver"))
        return None, False

    def bearer(self):
        """None when the token is good for Graph, else the 401 answer."""
        auth = self.headers.get("Authorization") or ""
        if not auth:
            return gerr(401, "InvalidAuthenticationToken", "Access token is empty.",
                        {"WWW-Authenticate": 'Bearer realm="", client_id="00000003-0000-0000-c000-000000000000"'})
        if not auth.startswith("Bearer ") or auth.count(".") < 2:
            return gerr(401, "InvalidAuthenticationToken", "IDX14100: JWT is not well formed, there are no dots (.).")
        rec, now = self.server.state.token(auth[7:])
        if rec is None:
            return gerr(401, "InvalidAuthenticationToken", "Access token validation failure.")
        if not str(rec.get("scope", "")).startswith(GRAPH_PREFIX):
            return gerr(401, "InvalidAuthenticationToken", "Access token validation failure. Invalid audience.")
        if rec.get("expires_at", 0) <= now:
            return gerr(401, "InvalidAuthenticationToken", "Lifetime validation failed, the token is expired.")
        self.scope = rec.get("scope")
        return None

    def revoked(self, script):
        """The 401 for a token the script revokes before its expiry, else None."""
        st = self.server.state
        token = (self.headers.get("Authorization") or "")[7:]
        with st.lock:
            if token not in st.revoked and len(st.revoked) < int(script.get("revoke_tokens", 0)):
                st.revoked.add(token)
            if token in st.revoked:
                return gerr(401, "InvalidAuthenticationToken", "Lifetime validation failed, the token is expired.")
        return None

    # ---- routes ------------------------------------------------------------------------------

    def route(self, method, url, data, script):
        path = url.path
        m = re.fullmatch(r"/upload/([A-Za-z0-9_-]+)", path)
        if m and method in ("PUT", "DELETE"):
            return ("upload",) + self.upload(method, m.group(1), url, data, script)
        m = re.fullmatch(r"/v1\.0/users/([^/]+)(/.*)", path)
        if not m:
            return ("?",) + gerr(400, "BadRequest", "Invalid version.")
        mailbox, rest = urllib.parse.unquote(m.group(1)), m.group(2)
        routes = [("POST", r"/sendMail", "sendMail"), ("POST", r"/messages", "draft"),
                  ("POST", r"/messages/([^/]+)/attachments", "attachment"),
                  ("POST", r"/messages/([^/]+)/attachments/createUploadSession", "session"),
                  ("POST", r"/messages/([^/]+)/send", "send"), ("DELETE", r"/messages/([^/]+)", "delete")]
        for meth, pat, op in routes:
            mm = re.fullmatch(pat, rest)
            if meth == method and mm:
                break
        else:
            return ("?",) + gerr(400, "BadRequest", "Resource not found for the segment '%s'." % rest)
        bad = self.bearer() or self.revoked(script)
        if bad:
            return (op,) + bad
        inj, deliver = self.injected(op, script)
        if inj and deliver:
            # QA-504: Graph's front end gave up but the backend sent it anyway.
            self.route_op(op, mailbox, mm, data, script)
        if inj == "drop":
            raise Drop()
        if inj:
            return (op,) + inj
        return (op,) + self.route_op(op, mailbox, mm, data, script)

    def route_op(self, op, mailbox, mm, data, script):
        boxes = script.get("mailboxes")
        if boxes and mailbox.lower() not in [b.lower() for b in boxes]:
            return gerr(404, "ErrorInvalidUser", "The requested user '%s' is invalid." % mailbox)
        if len(data) > int(script.get("max_request", 4 * 1024 * 1024)):
            return gerr(413, "BadRequest", "The maximum request length supported is 4MB.")
        msg_id = urllib.parse.unquote(mm.group(1)) if mm.groups() else None
        return getattr(self, "op_" + op.lower())(mailbox, msg_id, data, script)

    def mime(self, data):
        if not (self.headers.get("Content-Type") or "").startswith("text/plain"):
            return None, gerr(400, "BadRequest", "Unable to read JSON request payload. Please ensure "
                              "Content-Type header is set and payload is of valid JSON format.")
        try:
            raw = base64.b64decode(data, validate=False)
            if not raw or not re.fullmatch(rb"[A-Za-z0-9+/=\r\n]*", data):
                raise binascii.Error()
        except (binascii.Error, ValueError):
            return None, gerr(400, "ErrorMimeContentInvalidBase64String", "Invalid base64 string for MIME content.")
        return raw, None

    def check_sender(self, mailbox, raw):
        head = raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
        m = re.search(rb"^From:(.*(?:\r?\n[ \t].*)*)", head, re.M | re.I)
        frm = re.sub(r"\s+", " ", m.group(1).decode("utf-8", "replace")).strip() if m else ""
        addrs = re.findall(r"<([^<>@\s]+@[^<>\s]+)>", frm) or [frm.strip()]
        name = frm.split("<")[0].strip() if "<" in frm else ""
        if name and "@" in name and not name.startswith('"'):
            # SMTP2Graph/SMTP2Graph#28: Graph is confused by an unquoted @ in the display name.
            return gerr(403, "ErrorSendAsDenied", "The user account which was used to submit this request does "
                        "not have the right to send mail on behalf of the specified sending account., Cannot "
                        "submit message.")
        if addrs[0].lower() != mailbox.lower():
            return gerr(403, "ErrorSendAsDenied", "The user account which was used to submit this request does "
                        "not have the right to send mail on behalf of the specified sending account., Cannot "
                        "submit message.")
        return None

    def op_sendmail(self, mailbox, _id, data, script):
        raw, bad = self.mime(data)
        if bad:
            return bad
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        if not any(msg.get(h) for h in ("To", "Cc", "Bcc")):
            return gerr(400, "ErrorInvalidRecipients", "At least one recipient isn't valid., A message can't be "
                        "sent because it contains no recipients.")
        bad = self.check_sender(mailbox, raw)
        if bad:
            return bad
        self.server.state.store(raw, {"via": "sendMail", "mailbox": mailbox, "scope": self.scope,
                                      "request_bytes": len(data)})
        return 202, None, {}

    def op_draft(self, mailbox, _id, data, script):
        raw, bad = self.mime(data)
        if bad:
            return bad
        bad = self.check_sender(mailbox, raw)
        if bad:
            return bad
        mid = "AAMkAD" + secrets.token_urlsafe(24) + "="
        with self.server.state.lock:
            self.server.state.drafts[mid] = {"mailbox": mailbox, "mime": raw, "attachments": [],
                                             "size": len(raw)}
        return 201, {"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users('%s')/messages/$entity"
                     % mailbox, "id": mid, "isDraft": True,
                     "internetMessageId": "<%s@graphd.prod.outlook.com>" % secrets.token_hex(8)}, {}

    def draft(self, mailbox, mid):
        d = self.server.state.drafts.get(mid)
        return d if d and d["mailbox"].lower() == mailbox.lower() else None

    def op_attachment(self, mailbox, mid, data, script):
        d = self.draft(mailbox, mid)
        if d is None:
            return gerr(404, "ErrorItemNotFound", "The specified object was not found in the store.")
        try:
            j = json.loads(data)
            content = base64.b64decode(j["contentBytes"], validate=True)
            name, ctype = j["name"], j.get("contentType", "application/octet-stream")
        except (ValueError, KeyError, TypeError, binascii.Error):
            return gerr(400, "BadRequest", "Unable to read JSON request payload.")
        d["attachments"].append((name, ctype, content))
        return 201, {"id": "AAMkAtt" + secrets.token_urlsafe(8), "name": name, "size": len(content)}, {}

    def op_session(self, mailbox, mid, data, script):
        d = self.draft(mailbox, mid)
        if d is None:
            return gerr(404, "ErrorItemNotFound", "The specified object was not found in the store.")
        try:
            item = json.loads(data)["AttachmentItem"]
            size, name = int(item["size"]), item["name"]
            ctype = item.get("contentType", "application/octet-stream")
            if item.get("attachmentType") != "file":
                raise ValueError()
        except (ValueError, KeyError, TypeError):
            return gerr(400, "BadRequest", "Unable to read JSON request payload.")
        if size < UPLOAD_MIN:
            return gerr(400, "ErrorAttachmentSizeShouldNotBeLessThanMinimumSize",
                        "Attachment size should not be less than the minimum size.")
        sid = secrets.token_urlsafe(16)
        with self.server.state.lock:
            self.server.state.sessions[sid] = {"draft": mid, "size": size, "name": name, "type": ctype,
                                               "data": bytearray(), "auth": secrets.token_urlsafe(12)}
        host = self.headers.get("Host") or "127.0.0.1:%d" % self.server.server_address[1]
        s = self.server.state.sessions[sid]
        return 201, {"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#microsoft.graph.uploadSession",
                     "uploadUrl": "https://%s/upload/%s?authtoken=%s" % (host, sid, s["auth"]),
                     "expirationDateTime": "2099-01-01T00:00:00.0000000Z", "nextExpectedRanges": ["0-"]}, {}

    def upload(self, method, sid, url, data, script):
        st = self.server.state
        s = st.sessions.get(sid)
        q = urllib.parse.parse_qs(url.query)
        if s is None or q.get("authtoken") != [s["auth"]]:
            return gerr(401, "InvalidAuthenticationToken", "Access token validation failure.")
        if "Authorization" in self.headers:
            return gerr(401, "InvalidAudienceForResource", "The audience claim value is invalid for current "
                        "resource. Audience claim is 'https://graph.microsoft.com/', request url is "
                        "'https://outlook.office.com' and resource type is 'Exchange'.")
        if method == "DELETE":
            st.sessions.pop(sid, None)
            return 204, None, {}
        if (script.get("delays") or {}).get("upload"):
            time.sleep(float(script["delays"]["upload"]))
        inj, _ = self.injected("upload", script)
        if inj == "drop":
            raise Drop()
        if inj:
            return inj
        m = re.fullmatch(r"bytes (\d+)-(\d+)/(\d+)", self.headers.get("Content-Range") or "")
        if not m:
            return gerr(400, "invalidRange", "The Content-Range header is missing or malformed.")
        a, b, total = int(m.group(1)), int(m.group(2)), int(m.group(3))
        if total != s["size"]:
            return gerr(400, "invalidRange", "Declared total size for this fragment is different from that of "
                        "the upload session.")
        if a != len(s["data"]):
            return gerr(400, "invalidRange", "Uploaded fragment is out of order." if a > len(s["data"])
                        else "Uploaded fragment overlaps with existing data.")
        if b < a or b - a + 1 != len(data) or b >= total:
            return gerr(400, "invalidRange", "The Content-Range header length does not match the provided "
                        "number of bytes.")
        if len(data) > 4 * 1024 * 1024:
            return gerr(413, "BadRequest", "The maximum request length supported is 4MB.")
        limit = script.get("max_message_size")
        d = st.drafts.get(s["draft"])
        if limit and d and (d["size"] + (b + 1) * 4 // 3) > int(limit):
            return gerr(400, "ErrorMessageSizeExceeded", "The message exceeds the maximum supported size.")
        s["data"] += data
        if len(s["data"]) < total:
            return 200, {"@odata.context": "https://outlook.office.com/api/v2.0/$metadata#AttachmentSessions/$entity",
                         "ExpirationDateTime": "2099-01-01T00:00:00.0000000Z",
                         "NextExpectedRanges": ["%d" % len(s["data"])]}, {}
        if d is not None:
            d["attachments"].append((s["name"], s["type"], bytes(s["data"])))
        st.sessions.pop(sid, None)
        return 201, None, {"Location": "https://outlook.office.com/api/v2.0/Users('x')/Messages('%s')/"
                                       "Attachments('AAMkAtt%s')" % (s["draft"], secrets.token_urlsafe(6))}

    def op_send(self, mailbox, mid, data, script):
        st = self.server.state
        d = self.draft(mailbox, mid)
        if d is None:
            return gerr(404, "ErrorItemNotFound", "The specified object was not found in the store.")
        msg = email.message_from_bytes(d["mime"], policy=email.policy.default)
        for name, ctype, content in d["attachments"]:
            maintype, _, subtype = ctype.partition("/")
            if not msg.is_multipart():
                msg.make_mixed()
            msg.add_attachment(content, maintype=maintype, subtype=subtype or "octet-stream", filename=name)
        with st.lock:
            st.drafts.pop(mid, None)
        st.store(msg.as_bytes(), {"via": "draft", "mailbox": mailbox, "scope": self.scope,
                                  "attachments": len(d["attachments"])})
        return 202, None, {}

    def op_delete(self, mailbox, mid, data, script):
        st = self.server.state
        with st.lock:
            d = st.drafts.pop(mid, None)
        if d is None:
            return gerr(404, "ErrorItemNotFound", "The specified object was not found in the store.")
        return 204, None, {}


def main():
    ap = argparse.ArgumentParser(description="Local HTTPS look-alike of Microsoft Graph sendMail.")
    p2mserver.add_listen_args(ap, "written atomically with the port once listening")
    ap.add_argument("--spool", required=True, help="delivered messages and requests.jsonl")
    ap.add_argument("--tokens", required=True, help="tokend.py's tokens.jsonl")
    ap.add_argument("--script", help="JSON script, re-read on every request")
    p2mserver.add_run_args(ap)
    args = ap.parse_args()

    def configure(httpd):
        httpd.state = State(args)

    return p2mserver.serve_https(args, Handler, configure, lambda httpd: "listening on https://127.0.0.1:%d/, spool %s"
                                 % (httpd.server_address[1], httpd.state.spool), note)


if __name__ == "__main__":
    sys.exit(main())
