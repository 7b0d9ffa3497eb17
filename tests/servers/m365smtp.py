#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""m365smtp: a local SMTP submission server that answers like smtp.office365.com:587.

print2mail's whole job is to turn Microsoft 365's refusals into fixes, so its tests need a
server that speaks Exchange Online's dialect byte for byte: the same EHLO lists before and
after STARTTLS, the same 504/451/530/535 texts, the same bracketed host suffix, refusals at
the end of DATA.  This server gives exactly that, plus a JSON "script" (re-read at the start
of every connection) with which a test makes it refuse, stall or drop at any stage without
restarting it.  It records what it saw in a spool directory: one .eml/.json pair per accepted
message and one JSON line per session, so tests check what the client really sent.

Built on aiosmtpd: the connection, timeout and TLS-upgrade machinery of aiosmtpd.smtp.SMTP
is reused; the command loop is replaced because Exchange's texts, per-stage scripting, bounded
AUTH lines (RFC 4954 allows 12288 octets, longer than aiosmtpd's 1001-byte reader) and a fast
DATA reader for 100 MB messages are not reachable through aiosmtpd's hooks.

Run with Debian's /usr/bin/python3 (it has python3-aiosmtpd).  Binds 127.0.0.1 only.
See README.md beside this file for every option and script key.
"""

import argparse
import asyncio
import asyncio.sslproto as sslproto
import base64
import binascii
import datetime
import email.utils
import hashlib
import json
import os
import re
import secrets
import ssl
import sys
import time
import traceback

from aiosmtpd.smtp import SMTP as AioSMTP

sys.dont_write_bytecode = True      # no __pycache__ beside the sources
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import p2mserver  # noqa: E402  (found beside this script, whatever the cwd)
from p2mserver import append_jsonl, write_atomic  # noqa: E402

note = p2mserver.logger("m365smtp")   # "m365smtp: ..." lines on stderr

# Defaults that make every reply look like Exchange Online.  The suffix is fixed (not the
# current time) so that tests can compare whole reply lines.
DEFAULT_HOST = "SN2PR00CA0018"
DEFAULT_SUFFIX = "[SN2PR00CA0018.namprd00.prod.outlook.com 2026-11-23T10:00:00.000Z 08DE0123456789AB]"
MAILBOX_SERVER = "SN2PR00MB0123.namprd00.prod.outlook.com"
DEFAULT_MAX_SIZE = 157286400

# Bounds that keep a misbehaving client from growing memory or hanging the server.
COMMAND_LINE_LIMIT = 2048     # RFC 5321 says 512 plus extension parameters; be lenient
AUTH_LINE_LIMIT = 12288       # RFC 4954 section 4: AUTH lines may be this long
READER_LIMIT = 16384          # StreamReader buffer bound (pauses the socket beyond twice this)
CHUNK = 262144                # read size for DATA/BDAT bodies
MAX_COMMANDS = 10000          # per connection
MAX_BAD_COMMANDS = 20         # unrecognised commands before the server hangs up

STAGES = ("connect", "ehlo", "starttls", "auth", "mail", "rcpt", "data", "data_end", "quit")
STATE_FILE = ".m365smtp-state.json"   # hidden, so *.json / *.eml globs in tests never see it

# Reply texts.  Those marked (ref) are quoted from shared/reference/m365-replies.md; the others
# are Exchange's usual wording for plain protocol errors, which the classifier does not key on.
R_GREETING = "220 {fqdn} Microsoft ESMTP MAIL Service ready at {date}"
R_HELLO = "{fqdn} Hello [{ip}]"
R_STARTTLS_GO = "220 2.0.0 SMTP server ready"
R_AUTH_OK = "235 2.7.0 Authentication successful"                       # (ref)
R_AUTH_FAIL = "535 5.7.3 Authentication unsuccessful"                   # (ref) + suffix
R_AUTH_TYPE = "504 5.7.4 Unrecognized authentication type"              # (ref) + suffix
R_NEED_TLS = "451 5.7.3 STARTTLS is required to send mail"              # (ref) + suffix
R_NOT_AUTH = "530 5.7.57 Client not authenticated to send mail."        # (ref) + suffix
R_SENDER_OK = "250 2.1.0 Sender OK"                                     # (ref)
R_RCPT_OK = "250 2.1.5 Recipient OK"                                    # (ref)
R_DATA_GO = "354 Start mail input; end with <CRLF>.<CRLF>"              # (ref)
R_QUEUED = "250 2.6.0 {msgid} [InternalId={iid}, Hostname={mbx}] Queued mail for delivery"
R_TOO_BIG = "552 5.3.4 Message size exceeds fixed maximum message size"
R_QUOTA = "554 5.2.0 STOREDRV.Submission.Exception:SubmissionQuotaExceededException; Failed to process message due to a permanent exception with message [BeginDiagnosticData]Cannot submit message.[Hostname={mbx}]"  # (ref: 554 5.2.0 quota)
R_THREADS = "432 4.3.2 STOREDRV.ClientSubmit; sender thread limit exceeded [Hostname={mbx}]"  # (ref)
R_QUIT = "221 2.0.0 Service closing transmission channel"
R_RSET = "250 2.0.0 Resetting"
R_NOOP = "250 2.0.0 OK"
R_VRFY = "252 2.1.5 Cannot VRFY user"
R_HELLO_FIRST = "503 5.5.2 Send hello first"
R_NEED_MAIL = "503 5.5.2 Need mail command"
R_NEED_RCPT = "503 5.5.2 Need rcpt command"
R_NESTED_MAIL = "503 5.5.2 Sender already specified"
R_ALREADY_AUTH = "503 5.5.2 Already authenticated"
R_ALREADY_TLS = "503 5.5.2 Already in TLS"
R_BAD_ARGS = "501 5.5.4 Invalid arguments"
R_BAD_SENDER = "501 5.1.7 Invalid address"
R_BAD_RCPT = "501 5.1.3 Invalid address"
R_BAD_B64 = "501 5.5.2 Cannot Decode response"
R_AUTH_ABORT = "501 5.0.0 Authentication aborted"
R_UNKNOWN = "500 5.3.3 Unrecognized command"
R_TOO_LONG = "500 5.5.6 Line too long"
R_TOO_MANY = "421 4.7.0 Too many errors on this connection, closing transmission channel"
R_BDAT_OK = "250 2.0.0 {n} bytes received"
R_SCRIPT_BROKEN = "421 4.3.2 Service not active (m365smtp: test script error: {err})"
R_HELP = ["214-This server supports the following commands:",
          "214 HELO EHLO STARTTLS RCPT DATA RSET MAIL QUIT HELP AUTH BDAT"]


class ScriptError(Exception):
    """The test script is not valid JSON or does not have the documented shape."""


class Drop(Exception):
    """End the connection now, without a reply (scripted network failure or 421)."""


class ClientGone(Exception):
    """The client closed its side (EOF) or the idle timeout fired."""


class LineTooLong(Exception):
    """A command line went past its bound; the rest of it was read and discarded."""


def now_iso():
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds")


class Rule:
    """One scripted behaviour at one stage: reply (reject entry), close (close_after) or delay."""

    CONDITIONS = ("when_user", "when_rcpt", "when_from", "when_mech", "when_tls")

    def __init__(self, kind, stage, entry):
        if stage not in STAGES:
            raise ScriptError("unknown stage %r (use one of %s)" % (stage, ", ".join(STAGES)))
        if kind == "reply" and stage == "quit":
            raise ScriptError("'reject' cannot use stage 'quit' (the 221 is always sent)")
        self.kind = kind
        self.stage = stage
        self.times = entry.get("times")
        if self.times is not None and (not isinstance(self.times, int) or self.times < 0):
            raise ScriptError("'times' must be a non-negative integer")
        self.cond = {k: entry.get(k) for k in self.CONDITIONS if entry.get(k) is not None}
        self.seconds = 0.0
        self.lines = None
        self.suffix = entry.get("suffix", True)
        if kind == "reply":
            self.lines = self._reply_lines(entry.get("reply"))
        elif kind == "delay":
            try:
                self.seconds = float(entry.get("seconds"))
            except (TypeError, ValueError):
                raise ScriptError("delay for stage %r needs a number of seconds" % stage)
        # Counting key: kind + stage + the whole entry, so editing an entry restarts its count.
        canon = json.dumps([kind, stage, entry], sort_keys=True, default=str)
        self.key = hashlib.sha256(canon.encode()).hexdigest()[:24]

    @staticmethod
    def _reply_lines(reply):
        lines = reply if isinstance(reply, list) else [reply]
        if not lines or not all(isinstance(x, str) and x for x in lines):
            raise ScriptError("'reply' must be a reply line or a non-empty list of lines")
        if not re.match(r"^[2-5]\d\d([ -]|$)", lines[0]):
            raise ScriptError("reply %r does not start with a 3-digit code" % lines[0])
        if any("\r" in x or "\n" in x for x in lines):
            raise ScriptError("reply lines must not contain CR or LF (give a list for multi-line)")
        return lines

    def formatted(self, suffix):
        """The wire lines: the first line's code on every line, '-' continuations, suffix last."""
        code = self.lines[0][:3]
        texts = [re.sub(r"^\d\d\d(?:[ -]|$)", "", x) for x in self.lines]
        if self.suffix and not any("[" in x for x in self.lines):
            texts[-1] = (texts[-1] + " " + suffix) if texts[-1] else suffix
        out = []
        for i, t in enumerate(texts):
            sep = " " if i == len(texts) - 1 else "-"
            out.append(code + sep + t if t else code + sep.rstrip())
        return out


class Script:
    """The parsed test script (see README.md: users, tokens, token_db, reject, close_after, ...)."""

    def __init__(self, data, base_dir):
        if not isinstance(data, dict):
            raise ScriptError("script must be a JSON object")
        self.data = data
        self.users = {str(k).lower(): v for k, v in (data.get("users") or {}).items()}
        self.tokens = dict(data.get("tokens") or {})
        db = data.get("token_db")
        self.token_db = os.path.join(base_dir, db) if db else None
        self.host = str(data.get("host") or DEFAULT_HOST)
        self.suffix = str(data.get("suffix") or DEFAULT_SUFFIX)
        self.max_size = data.get("max_size", DEFAULT_MAX_SIZE)
        if not isinstance(self.max_size, int) or self.max_size <= 0:
            raise ScriptError("max_size must be a positive integer")
        self.embed_auth_error = bool(data.get("embed_auth_error", False))
        self.xoauth2_challenge = bool(data.get("xoauth2_challenge", False))
        self.ehlo_lowercase = bool(data.get("ehlo_lowercase", False))
        self.max_conn_per_user = data.get("max_connections_per_user")
        # Submission quota: more than N messages of one user accepted within the last
        # quota_window seconds (default 60) are refused with 554 5.2.0 at the end of DATA.
        self.quota = data.get("messages_per_window")
        self.quota_window = float(data.get("quota_window", 60))
        if self.quota is not None and (not isinstance(self.quota, int) or self.quota < 1):
            raise ScriptError("messages_per_window must be a positive integer")
        self.rules = []
        rej = data.get("reject") or []
        if not isinstance(rej, list):
            raise ScriptError("'reject' must be a list")
        for e in rej:
            if not isinstance(e, dict) or "stage" not in e or "reply" not in e:
                raise ScriptError("each 'reject' entry needs 'stage' and 'reply'")
            self.rules.append(Rule("reply", e["stage"], e))
        ca = data.get("close_after")
        for e in (ca if isinstance(ca, list) else [ca] if ca else []):
            e = {"stage": e} if isinstance(e, str) else e
            if not isinstance(e, dict) or "stage" not in e:
                raise ScriptError("'close_after' is a stage name, an object with 'stage', or a list of them")
            self.rules.append(Rule("close", e["stage"], e))
        dl = data.get("delay") or {}
        if isinstance(dl, dict):
            dl = [{"stage": k, "seconds": v} for k, v in dl.items()]
        for e in dl:
            if not isinstance(e, dict) or "stage" not in e:
                raise ScriptError("'delay' is {stage: seconds} or a list of {stage, seconds, ...}")
            self.rules.append(Rule("delay", e["stage"], e))


class ServerState:
    """Process-wide state: options, TLS context, spool counter, live sessions, 'times' counts."""

    def __init__(self, args):
        self.args = args
        self.spool = os.path.abspath(args.spool)
        os.makedirs(self.spool, exist_ok=True)
        self.ssl_ctx = p2mserver.tls_context(args.cert, args.key)   # TLS 1.2 up, as Exchange Online
        self.live = set()
        self.quota_times = {}      # user -> monotonic times of accepted messages (messages_per_window)
        self.concurrent = 0        # sessions open now, and the most ever at once
        self.peak = 0
        self.counter = 0
        for name in os.listdir(self.spool):
            m = re.match(r"^(\d+)\.eml$", name)
            if m:
                self.counter = max(self.counter, int(m.group(1)))
        self.state_path = os.path.join(self.spool, STATE_FILE)

    def next_name(self):
        self.counter += 1
        return "%04d" % self.counter

    def _load_counts(self):
        return p2mserver.read_json_object(self.state_path)

    def count(self, key):
        return int(self._load_counts().get(key, 0))

    def bump(self, key):
        """Count one more connection for a 'times' rule.  The event loop is single-threaded, so a
        read-modify-write here cannot race with another session of this process."""
        d = self._load_counts()
        d[key] = int(d.get(key, 0)) + 1
        write_atomic(self.state_path, json.dumps(d, sort_keys=True).encode())

    def sessions_of(self, user):
        return [p for p in self.live if p.authenticated and p.auth_user and p.auth_user.lower() == user.lower()]


class NoHooks:
    """aiosmtpd wants a handler object; all behaviour lives in M365SMTP itself."""


class M365SMTP(AioSMTP):
    """One SMTP connection.  aiosmtpd provides transport, timeout and TLS upgrade plumbing;
    _handle_client below is the Exchange-like command loop."""

    line_length_limit = READER_LIMIT   # aiosmtpd sizes its StreamReader with this

    def __init__(self, state, loop):
        super().__init__(NoHooks(), hostname=DEFAULT_HOST + ".outlook.office365.com",
                         tls_context=state.ssl_ctx, timeout=state.args.idle_timeout,
                         data_size_limit=DEFAULT_MAX_SIZE, loop=loop)
        self.state = state
        self.script = None
        self.pending = bytearray()          # bytes read from the socket but not yet consumed
        self.tls = False
        self.tls_version = None
        self.helo = None
        self.extended = False
        self.authenticated = False
        self.auth_user = None
        self.auth_mech = None
        self.last_auth_error = None
        self.mail_from = None
        self.mail_options = []
        self.rcpt_tos = []
        self.bdat = None                    # bytearray while a BDAT transaction is open
        self.bdat_total = 0
        self.bdat_overflow = False
        self.fired = set()                  # rule keys already counted for this connection
        self.log = {"peer": None, "tls": False, "tls_version": None, "auth_mech": None,
                    "auth_user": None, "auth_ok": False, "commands": [], "replies": [],
                    "delivered": None, "delivered_all": [], "start": now_iso(), "end": None,
                    "closed": None, "error": None}
        self.logged = False

    # ---- plumbing -------------------------------------------------------------------------

    @property
    def fqdn(self):
        return (self.script.host if self.script else DEFAULT_HOST) + ".outlook.office365.com"

    @property
    def suffix(self):
        return self.script.suffix if self.script else DEFAULT_SUFFIX

    def with_suffix(self, text):
        return text + " " + self.suffix

    async def reply(self, lines, close=False):
        """Send one reply (a line or a list of lines), record it, and hang up after a 421."""
        if isinstance(lines, str):
            lines = [lines]
        self.log["replies"].extend(lines)
        if lines[-1].startswith("421"):
            close = True
        if close:
            self.write_session_log("server")
        self._writer.write("".join(x + "\r\n" for x in lines).encode("utf-8"))
        await self._writer.drain()
        if close:
            raise Drop("closed after " + lines[-1][:3])

    async def read_chunk(self):
        chunk = await self._reader.read(CHUNK)
        if not chunk:
            raise ClientGone()
        self._reset_timeout()
        return chunk

    async def read_line(self, limit):
        """One line without its line ending.  Over-long lines are read to their end and dropped."""
        too_long = False
        while True:
            i = self.pending.find(b"\n")
            if i >= 0:
                line = bytes(self.pending[:i + 1])
                del self.pending[:i + 1]
                if too_long or len(line) > limit + 2:
                    raise LineTooLong()
                return line.rstrip(b"\r\n")
            if len(self.pending) > limit + 2:
                too_long = True
                self.pending.clear()
            self.pending += await self.read_chunk()

    async def read_exact(self, n):
        out = bytearray()
        while len(out) < n:
            if not self.pending:
                self.pending += await self.read_chunk()
            take = min(n - len(out), len(self.pending))
            out += self.pending[:take]
            del self.pending[:take]
        return out

    async def read_data_body(self, limit):
        """Read a DATA body up to the final CRLF.CRLF in large chunks (not line by line, so that
        100 MB arrive quickly), undo dot-stuffing, keep CRLFs.  Returns (bytes, or None when the
        body is over LIMIT; octets received on the wire before the final '.')."""
        acc = bytearray(b"\r\n")     # a virtual CRLF lets a '.' on the first line match too
        acc += self.pending
        received = len(self.pending)
        self.pending = bytearray()
        start = 0
        overflow = False
        while True:
            idx = acc.find(b"\r\n.\r\n", start)
            if idx >= 0:
                self.pending = acc[idx + 5:]       # pipelined commands after the body
                del acc[idx + 2:]
                break
            if len(acc) > 2 * limit + 8:
                # Surely too big (dot-stuffing at most doubles a body; the exact check on the
                # unstuffed size is below): read on to the terminator, keeping only its start.
                overflow = True
                acc = acc[-4:]
                start = 0
            else:
                start = max(0, len(acc) - 4)
            chunk = await self.read_chunk()
            received += len(chunk)
            acc += chunk
        received -= len(self.pending) + 3      # the final ".\r\n" and what followed it
        if overflow:
            return None, received
        body = acc.replace(b"\r\n.", b"\r\n")
        del body[:2]
        if len(body) > limit:
            return None, received
        return bytes(body), received

    async def start_tls(self):
        """Put TLS under the running SMTP protocol, as aiosmtpd's own STARTTLS does, and wait
        for the handshake.  Used for STARTTLS and, before the greeting, for --implicit-tls."""
        self.pending.clear()           # RFC 3207 4.2: nothing sent before TLS may be acted on
        waiter = self.loop.create_future()
        self._tls_protocol = sslproto.SSLProtocol(self.loop, self, self.state.ssl_ctx, waiter,
                                                  server_side=True, ssl_handshake_timeout=15)
        self._original_transport = self.transport
        self._original_transport.set_protocol(self._tls_protocol)
        self.transport = self._tls_protocol._app_transport
        self._tls_protocol.connection_made(self._original_transport)
        try:
            await waiter
        except asyncio.CancelledError:
            raise
        except Exception as e:
            self.log["error"] = "TLS handshake failed: %r" % (e,)
            raise Drop("tls")
        self.tls = True
        sslobj = self.transport.get_extra_info("ssl_object")
        self.tls_version = sslobj.version() if sslobj else None
        self.log["tls"] = True
        self.log["tls_version"] = self.tls_version
        self.pending.clear()

    def drop_now(self):
        """Cut the TCP connection without a TLS close_notify, like a network failure."""
        t = self._original_transport or self.transport
        if t is not None:
            t.abort()

    def write_session_log(self, closed):
        """Append this session to sessions.jsonl once.  Called before the last reply of a session
        the server ends (so a client that saw it can read the line) or when the session ends."""
        if self.logged:
            return
        self.logged = True
        self.log["closed"] = self.log["closed"] or closed
        self.log["end"] = now_iso()
        self.log["auth_mech"] = self.auth_mech
        self.log["auth_user"] = self.auth_user
        self.log["auth_ok"] = self.authenticated
        try:
            append_jsonl(os.path.join(self.state.spool, "sessions.jsonl"), self.log)
        except OSError as e:
            note("cannot write sessions.jsonl: %s", e)

    # ---- scripting -------------------------------------------------------------------------

    async def load_script(self):
        """Re-read the script for this connection.  A file caught half-written is retried.
        No await unless it is: with --implicit-tls the TLS upgrade must follow at once."""
        attempts = p2mserver.json_attempts(self.state.args.script, Script, (ValueError, ScriptError),
                                           lambda err: ScriptError(str(err)))
        try:
            while True:
                await asyncio.sleep(next(attempts))
        except StopIteration as done:
            return done.value

    def _matches(self, rule, rcpt, sender):
        c = rule.cond
        if "when_user" in c and (not self.auth_user or self.auth_user.lower() != str(c["when_user"]).lower()):
            return False
        if "when_mech" in c and (self.auth_mech or "").upper() != str(c["when_mech"]).upper():
            return False
        if "when_tls" in c and bool(c["when_tls"]) != self.tls:
            return False
        if "when_from" in c:
            frm = sender if sender is not None else self.mail_from
            if frm is None or frm.lower() != str(c["when_from"]).lower():
                return False
        if "when_rcpt" in c:
            want = str(c["when_rcpt"]).lower()
            pool = [rcpt] if rcpt is not None else self.rcpt_tos
            if want not in [r.lower() for r in pool]:
                return False
        return True

    def match(self, stage, kind, rcpt=None, sender=None):
        """First rule of KIND at STAGE whose conditions hold and whose 'times' is not used up.
        A rule counts once per connection, however often it fires within it."""
        for rule in self.script.rules:
            if rule.kind != kind or rule.stage != stage or not self._matches(rule, rcpt, sender):
                continue
            if rule.key in self.fired:
                return rule
            if rule.times is not None and self.state.count(rule.key) >= rule.times:
                continue
            if rule.times is not None:
                self.state.bump(rule.key)
            self.fired.add(rule.key)
            return rule
        return None

    async def stage(self, stage, rcpt=None, sender=None):
        """Apply scripted delay, drop and reply for STAGE.  Returns the scripted reply lines, or
        None when the server should answer on its own."""
        d = self.match(stage, "delay", rcpt, sender)
        if d:
            self._reset_timeout(d.seconds + self.state.args.idle_timeout)
            await asyncio.sleep(d.seconds)
            self._reset_timeout()
        if self.match(stage, "close", rcpt, sender):
            self.log["closed"] = "dropped at " + stage
            self.write_session_log("dropped")
            self.drop_now()
            raise Drop("scripted drop at " + stage)
        r = self.match(stage, "reply", rcpt, sender)
        return r.formatted(self.suffix) if r else None

    # ---- the session -----------------------------------------------------------------------

    async def _handle_client(self):
        peer = self.transport.get_extra_info("peername")
        self.log["peer"] = "%s:%s" % (peer[0], peer[1]) if peer else None
        self.state.live.add(self)
        self.state.concurrent += 1
        if self.state.concurrent > self.state.peak:
            self.state.peak = self.state.concurrent
            # connections.json: the most sessions ever open at once (load tests read it)
            write_atomic(os.path.join(self.state.spool, "connections.json"),
                         (json.dumps({"peak": self.state.peak}) + "\n").encode())
        self.log["concurrent"] = self.state.concurrent
        try:
            await self.session_main()
        except (Drop, ClientGone, ConnectionError, BrokenPipeError):
            pass
        except asyncio.CancelledError:
            # connection_lost/eof_received cancel us when the client goes away.
            self.log["closed"] = self.log["closed"] or "client"
        except Exception as e:  # a bug here must not kill the server, but must be visible
            self.log["error"] = "%s: %s" % (type(e).__name__, e)
            traceback.print_exc()
        finally:
            self.state.live.discard(self)
            self.state.concurrent -= 1
            self.write_session_log("client")
            if self.transport is not None and not self.transport.is_closing():
                self.transport.close()

    async def session_main(self):
        try:
            self.script = await self.load_script()
        except ScriptError as e:
            self.log["error"] = "script: %s" % e
            note("script error: %s", e)
            await self.reply(R_SCRIPT_BROKEN.format(err=str(e)[:200]))
            return
        self.data_size_limit = self.script.max_size
        if self.state.args.implicit_tls:
            await self.start_tls()
        scripted = await self.stage("connect")
        if scripted:
            await self.reply(scripted, close=True)
        date = email.utils.format_datetime(datetime.datetime.now(datetime.timezone.utc))
        await self.reply(R_GREETING.format(fqdn=self.fqdn, date=date))
        handlers = {
            "EHLO": self.cmd_ehlo, "HELO": self.cmd_helo, "STARTTLS": self.cmd_starttls,
            "AUTH": self.cmd_auth, "MAIL": self.cmd_mail, "RCPT": self.cmd_rcpt,
            "DATA": self.cmd_data, "BDAT": self.cmd_bdat, "RSET": self.cmd_rset,
            "NOOP": self.cmd_noop, "QUIT": self.cmd_quit, "VRFY": self.cmd_vrfy,
            "HELP": self.cmd_help,
        }
        bad = 0
        for _ in range(MAX_COMMANDS):
            try:
                line = await self.read_line(AUTH_LINE_LIMIT)
            except LineTooLong:
                self.log["commands"].append("?")
                await self.reply(R_TOO_LONG)
                continue
            verb, _, arg = line.partition(b" ")
            try:
                verb = verb.decode("ascii").upper()
                arg = arg.decode("utf-8").strip()
            except UnicodeDecodeError:
                verb, arg = "?", ""
            if not re.fullmatch(r"[A-Z0-9]{1,16}", verb):
                verb = "?"
            self.log["commands"].append(verb)
            handler = handlers.get(verb)
            if handler is None:
                bad += 1
                await self.reply(R_TOO_MANY if bad >= MAX_BAD_COMMANDS else R_UNKNOWN)
                continue
            if verb != "AUTH" and len(line) > COMMAND_LINE_LIMIT:
                await self.reply(R_TOO_LONG)
                continue
            if verb != "BDAT" and self.bdat is not None:
                # RFC 3030: any command but BDAT inside a BDAT transaction ends it unfinished.
                self.reset_transaction()
            if await handler(arg) == "quit":
                return
        await self.reply(R_TOO_MANY)

    def reset_transaction(self):
        self.mail_from = None
        self.mail_options = []
        self.rcpt_tos = []
        self.bdat = None

    # ---- commands ----------------------------------------------------------------------------

    def ehlo_lines(self):
        lines = [R_HELLO.format(fqdn=self.fqdn, ip=self.log["peer"].rsplit(":", 1)[0]),
                 "SIZE %d" % self.script.max_size, "PIPELINING", "DSN", "ENHANCEDSTATUSCODES"]
        lines.append("AUTH LOGIN XOAUTH2" if self.tls else "STARTTLS")
        lines += ["8BITMIME", "BINARYMIME", "CHUNKING", "SMTPUTF8"]
        if self.script.ehlo_lowercase:
            # RFC 5321 2.4: keywords are case-insensitive; some servers send them in lower case
            lines = lines[:1] + [x.lower() for x in lines[1:]]
        return ["250-" + x for x in lines[:-1]] + ["250 " + lines[-1]]

    async def cmd_ehlo(self, arg, extended=True):
        if not arg:
            return await self.reply(R_BAD_ARGS)
        scripted = await self.stage("ehlo")
        if scripted:
            if scripted[-1].startswith("2"):
                self.helo, self.extended = arg, extended
            return await self.reply(scripted)
        self.reset_transaction()
        self.helo, self.extended = arg, extended
        if extended:
            await self.reply(self.ehlo_lines())
        else:
            await self.reply("250 " + R_HELLO.format(fqdn=self.fqdn, ip=self.log["peer"].rsplit(":", 1)[0]))

    async def cmd_helo(self, arg):
        await self.cmd_ehlo(arg, extended=False)

    async def cmd_starttls(self, arg):
        if arg:
            return await self.reply(R_BAD_ARGS)
        if self.tls:
            return await self.reply(R_ALREADY_TLS)
        scripted = await self.stage("starttls")
        if scripted:
            return await self.reply(scripted)
        # Written without awaiting drain, and the protocol swapped at once, so the client's
        # ClientHello cannot reach the plain-text reader in between.
        self.log["replies"].append(R_STARTTLS_GO)
        self._writer.write((R_STARTTLS_GO + "\r\n").encode())
        await self.start_tls()
        # RFC 3207 4.2: forget everything learnt before TLS.
        self.helo = None
        self.extended = False
        self.reset_transaction()

    async def cmd_auth(self, arg):
        if not self.helo:
            return await self.reply(R_HELLO_FIRST)
        mech, _, initial = arg.partition(" ")
        mech = mech.upper()
        initial = initial.strip()
        if not mech:
            return await self.reply(R_BAD_ARGS)
        if not self.tls or mech not in ("LOGIN", "XOAUTH2"):
            # Exchange offers no AUTH before STARTTLS and only LOGIN/XOAUTH2 after it.
            self.auth_mech = mech
            return await self.reply(self.with_suffix(R_AUTH_TYPE))
        if self.authenticated:
            return await self.reply(R_ALREADY_AUTH)
        self.auth_mech = mech
        self.auth_user = None
        if mech == "LOGIN":
            creds = await self.auth_login(initial)
            if creds is None:
                return
            user, password = creds
            self.auth_user = user
            want = self.script.users.get(user.lower())
            ok = isinstance(want, str) and bool(user) and want == password
        else:
            res = await self.auth_xoauth2(initial)
            if res is None:
                return
            user, ok = res
            self.auth_user = user or None
        scripted = await self.stage("auth")
        if scripted:
            lines, ok = scripted, scripted[-1].startswith("2")
        else:
            lines = [R_AUTH_OK if ok else self.with_suffix(R_AUTH_FAIL)]
        if ok:
            self.authenticated = True
            if self.script.max_conn_per_user is not None:
                self.log["concurrent_same_user"] = len(self.state.sessions_of(self.auth_user or ""))
        else:
            self.last_auth_error = lines[-1]
        await self.reply(lines)

    async def challenge(self, text):
        """Send a 334 challenge and return the decoded answer, or None after replying 501."""
        await self.reply("334 " + text)
        try:
            blob = await self.read_line(AUTH_LINE_LIMIT)
        except LineTooLong:
            await self.reply(R_TOO_LONG)
            return None
        return await self.decode_b64(blob)

    async def decode_b64(self, blob):
        if isinstance(blob, str):
            blob = blob.encode("ascii", "replace")
        blob = blob.strip()
        if blob == b"*":
            await self.reply(R_AUTH_ABORT)
            return None
        if blob == b"=":
            return b""
        try:
            return base64.b64decode(blob, validate=True)
        except (binascii.Error, ValueError):
            await self.reply(R_BAD_B64)
            return None

    async def auth_login(self, initial):
        """AUTH LOGIN with or without an initial response.  Returns (user, password) or None."""
        if initial:
            user = await self.decode_b64(initial)
        else:
            user = await self.challenge("VXNlcm5hbWU6")          # "Username:"
        if user is None:
            return None
        password = await self.challenge("UGFzc3dvcmQ6")          # "Password:"
        if password is None:
            return None
        return user.decode("utf-8", "replace"), password.decode("utf-8", "replace")

    async def auth_xoauth2(self, initial):
        """AUTH XOAUTH2: 'user=<mailbox>^Aauth=Bearer <token>^A^A'.  Returns (user, ok) or None."""
        if initial:
            raw = await self.decode_b64(initial)
        else:
            raw = await self.challenge("")
        if raw is None:
            return None
        user, token = parse_xoauth2(raw)
        ok = bool(user) and token is not None and self.token_ok(token, user)
        if not ok and self.script.xoauth2_challenge:
            # Gmail's shape (a 334 with a JSON error, then the final reply after the client's
            # empty line); Exchange does not do this, but clients must survive it.
            j = json.dumps({"status": "401", "schemes": "bearer",
                            "scope": "https://outlook.office.com/SMTP.Send"})
            await self.reply("334 " + base64.b64encode(j.encode()).decode())
            try:
                await self.read_line(AUTH_LINE_LIMIT)
            except LineTooLong:
                pass
        return user, ok

    def token_ok(self, token, user):
        """A token is good if the script lists it, or tokend issued it and it has not expired;
        a token bound to a mailbox only works with user= that mailbox."""
        if token in self.script.tokens:
            mbx = self.script.tokens[token]
            return mbx is None or str(mbx).lower() == user.lower()
        if not self.script.token_db:
            return False
        now = time.time()
        try:
            with open(self.script.token_db, encoding="utf-8") as f:
                for line in f:
                    try:
                        rec = json.loads(line)
                    except ValueError:
                        continue
                    if not isinstance(rec, dict) or rec.get("access_token") != token:
                        continue
                    exp = rec.get("expires_at")
                    if not isinstance(exp, (int, float)) or exp <= now:
                        continue
                    mbx = rec.get("mailbox")
                    if mbx is None or str(mbx).lower() == user.lower():
                        return True
        except OSError:
            return False
        return False

    def gate_mail(self):
        """Exchange's own answer to MAIL FROM before TLS or AUTH, or None when it may go on."""
        if not self.tls:
            return self.with_suffix(R_NEED_TLS)
        if not self.authenticated:
            if self.script.embed_auth_error and self.last_auth_error:
                cause = self.last_auth_error.split(" [", 1)[0].rstrip()
                return self.with_suffix(R_NOT_AUTH + " Error: " + cause)
            return self.with_suffix(R_NOT_AUTH)
        return None

    async def cmd_mail(self, arg):
        if not self.helo:
            return await self.reply(R_HELLO_FIRST)
        if self.mail_from is not None:
            return await self.reply(R_NESTED_MAIL)
        m = re.match(r"^FROM:\s*(<[^<>]*>|[^\s<>]+)\s*(.*)$", arg, re.I)
        if not m:
            return await self.reply(R_BAD_SENDER)
        addr = m.group(1).strip("<>")
        params = m.group(2).split()
        size = None
        for p in params:
            k, _, v = p.partition("=")
            if k.upper() == "SIZE":
                if not v.isdigit():
                    return await self.reply(R_BAD_ARGS)
                size = int(v)
        scripted = await self.stage("mail", sender=addr)
        if scripted:
            if scripted[-1].startswith("2"):
                self.mail_from, self.mail_options = addr, params
            return await self.reply(scripted)
        gate = self.gate_mail()
        if gate:
            return await self.reply(gate)
        if size is not None and size > self.script.max_size:
            return await self.reply(R_TOO_BIG)
        self.mail_from, self.mail_options = addr, params
        await self.reply(R_SENDER_OK)

    async def cmd_rcpt(self, arg):
        if self.mail_from is None:
            return await self.reply(R_NEED_MAIL)
        m = re.match(r"^TO:\s*(<[^<>]*>|[^\s<>]+)\s*(.*)$", arg, re.I)
        addr = m.group(1).strip("<>") if m else ""
        if not addr:
            return await self.reply(R_BAD_RCPT)
        scripted = await self.stage("rcpt", rcpt=addr)
        if scripted:
            if scripted[-1].startswith("2"):
                self.rcpt_tos.append(addr)
            return await self.reply(scripted)
        self.rcpt_tos.append(addr)
        await self.reply(R_RCPT_OK)

    def check_sequence(self):
        if self.mail_from is None:
            return R_NEED_MAIL
        if not self.rcpt_tos:
            return R_NEED_RCPT
        return None

    async def cmd_data(self, arg):
        if arg:
            return await self.reply(R_BAD_ARGS)
        seq = self.check_sequence()
        if seq:
            return await self.reply(seq)
        scripted = await self.stage("data")
        if scripted:
            if not scripted[-1].startswith("3"):
                return await self.reply(scripted)
            await self.reply(scripted)
        else:
            await self.reply(R_DATA_GO)
        body, total = await self.read_data_body(self.script.max_size)
        await self.finish_message(body, total)

    async def cmd_bdat(self, arg):
        """RFC 3030 CHUNKING, because Exchange advertises it (libcurl never uses it)."""
        m = re.fullmatch(r"(\d{1,12})(\s+LAST)?", arg or "", re.I)
        if not m:
            return await self.reply(R_BAD_ARGS)
        n, last = int(m.group(1)), bool(m.group(2))
        seq = self.check_sequence()
        if seq:
            await self.read_exact(n)          # the chunk is on the wire either way
            return await self.reply(seq)
        if self.bdat is None:
            self.bdat = bytearray()
            self.bdat_total = 0
            self.bdat_overflow = False
        self.bdat_total += n
        if self.bdat_overflow or self.bdat_total > self.script.max_size:
            # Too big: read the chunk off the wire in pieces, keep nothing.
            self.bdat_overflow = True
            self.bdat = bytearray()
            left = n
            while left:
                k = min(left, CHUNK)
                await self.read_exact(k)
                left -= k
        else:
            self.bdat += await self.read_exact(n)
        if not last:
            return await self.reply(R_BDAT_OK.format(n=n))
        body = None if self.bdat_overflow else bytes(self.bdat)
        await self.finish_message(body, self.bdat_total)

    async def finish_message(self, body, total):
        """End of DATA (or BDAT LAST): scripted data_end answer, size and thread limits, or
        delivery into the spool before the 250 goes out."""
        self.log["size_received"] = total
        try:
            scripted = await self.stage("data_end")
            if scripted and not scripted[-1].startswith("2"):
                return await self.reply(scripted)
            if body is None:
                return await self.reply(R_TOO_BIG)
            limit = self.script.max_conn_per_user
            if not scripted and limit is not None and self.auth_user \
                    and len(self.state.sessions_of(self.auth_user)) > int(limit):
                return await self.reply(R_THREADS.format(mbx=MAILBOX_SERVER))
            if not scripted and self.script.quota is not None and self.auth_user:
                now = time.monotonic()
                sent = [t for t in self.state.quota_times.get(self.auth_user.lower(), [])
                        if t > now - self.script.quota_window]
                if len(sent) >= self.script.quota:
                    self.state.quota_times[self.auth_user.lower()] = sent
                    self.log["quota_refused"] = True
                    return await self.reply(R_QUOTA.format(mbx=MAILBOX_SERVER))
                self.state.quota_times[self.auth_user.lower()] = sent + [now]
            name = self.deliver(body)
            if scripted:
                return await self.reply(scripted)
            msgid = message_id(body) or "<%s@%s>" % (secrets.token_hex(12).upper(), self.fqdn)
            await self.reply(R_QUEUED.format(msgid=msgid, iid=secrets.randbelow(10 ** 14),
                                             mbx=MAILBOX_SERVER))
            return name
        finally:
            self.reset_transaction()

    def deliver(self, body):
        """NNNN.json first, then NNNN.eml, each through a temp file and rename, so a reader that
        sees the .eml also finds its .json and never a partial message."""
        name = self.state.next_name()
        meta = {"mail_from": self.mail_from, "rcpt_tos": list(self.rcpt_tos),
                "auth_mech": self.auth_mech, "auth_user": self.auth_user,
                "tls_version": self.tls_version, "size": len(body),
                "mail_options": self.mail_options, "peer": self.log["peer"],
                "received": now_iso()}
        write_atomic(os.path.join(self.state.spool, name + ".json"),
                     (json.dumps(meta, indent=1) + "\n").encode())
        write_atomic(os.path.join(self.state.spool, name + ".eml"), body)
        self.log["delivered"] = name + ".eml"
        self.log["delivered_all"].append(name + ".eml")
        return name

    async def cmd_rset(self, arg):
        self.reset_transaction()
        await self.reply(R_RSET)

    async def cmd_noop(self, arg):
        await self.reply(R_NOOP)

    async def cmd_vrfy(self, arg):
        await self.reply(R_VRFY)

    async def cmd_help(self, arg):
        await self.reply(R_HELP)

    async def cmd_quit(self, arg):
        await self.stage("quit")
        self.log["replies"].append(R_QUIT)
        self.write_session_log("quit")
        self._writer.write((R_QUIT + "\r\n").encode())
        try:
            await self._writer.drain()
        finally:
            self.transport.close()
        return "quit"

    def shutdown(self):
        """SIGTERM: end this session now."""
        self.log["closed"] = self.log["closed"] or "server shutdown"
        self.drop_now()


def parse_xoauth2(raw):
    """Split 'user=X\\x01auth=Bearer T\\x01\\x01' into (X, T); T is None when malformed."""
    text = raw.decode("utf-8", "replace")
    user, token = "", None
    for part in text.split("\x01"):
        k, _, v = part.partition("=")
        if k == "user":
            user = v
        elif k == "auth" and v[:7].lower() == "bearer ":
            token = v[7:]
    return user, token


def message_id(body):
    """The Message-ID header of the message, which Exchange echoes in its 250 2.6.0 reply."""
    head = body.split(b"\r\n\r\n", 1)[0][:65536]
    m = re.search(rb"(?im)^Message-ID:[ \t]*(<[^>\r\n]{1,400}>)", head)
    return m.group(1).decode("ascii", "replace") if m else None


async def serve(args):
    state = ServerState(args)
    loop = asyncio.get_running_loop()
    p2mserver.clear_run_files(args)
    server = await loop.create_server(lambda: M365SMTP(state, loop), host="127.0.0.1",
                                      port=args.port, reuse_address=True)
    port = server.sockets[0].getsockname()[1]
    stop = asyncio.Event()
    p2mserver.on_stop_signal(stop.set, loop)
    p2mserver.publish(args, port)
    note("listening on 127.0.0.1:%d (%s), spool %s",
         port, "implicit TLS" if args.implicit_tls else "STARTTLS", state.spool)
    await stop.wait()
    server.close()
    for proto in list(state.live):
        proto.shutdown()
    tasks = [p._handler_coroutine for p in list(state.live) if p._handler_coroutine]
    if tasks:
        await asyncio.wait(tasks, timeout=3)
    p2mserver.remove_run_files(args)


def main():
    ap = argparse.ArgumentParser(description="Local SMTP server that answers like smtp.office365.com.")
    p2mserver.add_listen_args(ap, "written atomically with the port number once listening")
    ap.add_argument("--spool", required=True, help="directory for NNNN.eml/.json and sessions.jsonl")
    ap.add_argument("--script", help="JSON test script, re-read at the start of every connection")
    ap.add_argument("--implicit-tls", action="store_true", help="TLS from the first byte (like port 465)")
    p2mserver.add_run_args(ap)
    ap.add_argument("--idle-timeout", type=float, default=120,
                    help="seconds a client may stay silent before it is dropped (default 120)")
    args = ap.parse_args()
    try:
        asyncio.run(serve(args))
    except (OSError, ssl.SSLError) as e:
        note("%s", e)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
