# SPDX-License-Identifier: Apache-2.0
"""p2mserver: the plumbing m365smtp.py, tokend.py and graphd.py share.

Both are run as scripts (from any directory) and import this module from their own directory:
the command line they have in common, their port and pid files, the signals that stop them,
the JSON script or config they re-read for every connection or request, files written
atomically, JSON-lines logs and "NAME: text" lines on stderr.  Standard library only.
"""

import http.server
import json
import os
import signal
import ssl
import sys
import threading
import time

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)

# A JSON script or config caught half-written is read again this many times, this far apart.
CONFIG_TRIES = 5
CONFIG_RETRY_SECONDS = 0.05


def logger(name):
    """A function log(fmt, *args) writing 'NAME: text' and a newline to stderr in one write."""
    def log(fmt, *args):
        sys.stderr.write("%s: %s\n" % (name, fmt % args if args else fmt))
    return log


# ---- command line -------------------------------------------------------------------------------

def add_listen_args(ap, port_file_help):
    """--cert, --key and --port-file, which both servers require."""
    ap.add_argument("--cert", required=True, help="server certificate (PEM)")
    ap.add_argument("--key", required=True, help="server private key (PEM)")
    ap.add_argument("--port-file", required=True, help=port_file_help)


def add_run_args(ap):
    """--pid-file and --port, which both servers take."""
    ap.add_argument("--pid-file", help="written with this process id once listening")
    ap.add_argument("--port", type=int, default=0, help="fixed port (default 0: the kernel picks one)")


def tls_context(cert, key):
    """A TLS server context as Microsoft's servers offer: TLS 1.2 at least."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(cert, key)
    return ctx


# ---- files --------------------------------------------------------------------------------------

def write_atomic(path, data, mode=0o644):
    """Write DATA (bytes, or text written as UTF-8) to PATH through a hidden temp file and
    rename: readers see all or nothing.  The temp name carries the process and thread, so
    threads writing the same file never share one."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    d, base = os.path.split(path)
    tmp = os.path.join(d, ".%s.%d.%d.tmp" % (base, os.getpid(), threading.get_ident()))
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        view = memoryview(data)
        while view:
            n = os.write(fd, view)
            view = view[n:]
    finally:
        os.close(fd)
    os.replace(tmp, path)


def append_jsonl(path, obj, mode=0o644):
    """Append one JSON line with a single O_APPEND write, so concurrent writers never interleave."""
    line = (json.dumps(obj, separators=(",", ":")) + "\n").encode()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, mode)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)


def read_json_object(path):
    """The JSON object in PATH, or {} when it is missing, unreadable or not an object."""
    try:
        with open(path, encoding="utf-8") as f:
            d = json.load(f)
        return d if isinstance(d, dict) else {}
    except (OSError, ValueError):
        return {}


def json_attempts(path, build, retry_on, give_up):
    """Read the JSON script or config at PATH, as a generator for sync and asyncio callers alike:
    it yields the seconds to pause before the next try and returns (StopIteration.value)
    build(object, its directory).  No PATH or a missing file is build({}, "."), an empty file
    is {}.  When parsing or build raises one of RETRY_ON, the file may be half-written: it is
    read again (CONFIG_TRIES times in all), then give_up(last error) is raised.  Drive it with
    load_json, or in a coroutine:
        try:
            while True:
                await asyncio.sleep(next(attempts))
        except StopIteration as done:
            return done.value
    """
    if not path:
        return build({}, ".")
    err = None
    for _ in range(CONFIG_TRIES):
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read()
        except FileNotFoundError:
            return build({}, ".")
        try:
            return build(json.loads(text) if text.strip() else {}, os.path.dirname(os.path.abspath(path)))
        except retry_on as e:
            err = e
            yield CONFIG_RETRY_SECONDS
    raise give_up(err)


def load_json(path, build, retry_on, give_up):
    """json_attempts, pausing with time.sleep (blocks only the calling thread)."""
    attempts = json_attempts(path, build, retry_on, give_up)
    try:
        while True:
            time.sleep(next(attempts))
    except StopIteration as done:
        return done.value


# ---- life cycle ---------------------------------------------------------------------------------

def clear_run_files(args):
    """At start-up: delete a stale --port-file and --pid-file, so a waiter sees only ours."""
    for path in (args.port_file, args.pid_file):
        if path:
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass


def publish(args, port, mode=0o644):
    """Once listening: the pid file (when asked for), then the port file, each atomically."""
    if args.pid_file:
        write_atomic(args.pid_file, "%d\n" % os.getpid(), mode)
    write_atomic(args.port_file, "%d\n" % port, mode)


def remove_run_files(args):
    """At exit: remove the port and pid files, whatever is in the way."""
    for path in (args.port_file, args.pid_file):
        if path:
            try:
                os.unlink(path)
            except OSError:
                pass


def on_stop_signal(callback, loop=None):
    """Call CALLBACK() on SIGTERM or SIGINT: through LOOP's signal handling for an asyncio
    server, through signal.signal otherwise."""
    for sig in STOP_SIGNALS:
        if loop is not None:
            loop.add_signal_handler(sig, callback)
        else:
            signal.signal(sig, lambda *_: callback())


# ---- HTTPS servers (tokend.py, graphd.py) --------------------------------------------------------

class TLSHTTPServer(http.server.ThreadingHTTPServer):
    """Accepts plain TCP and does the TLS handshake in the request's own thread, with the
    handler's timeout, so one stalled client cannot block the accept loop."""

    daemon_threads = True
    allow_reuse_address = True
    ssl_ctx = None

    def finish_request(self, request, client_address):
        request.settimeout(self.RequestHandlerClass.timeout)
        try:
            tls = self.ssl_ctx.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return
        try:
            self.RequestHandlerClass(tls, client_address, self)
        except (ssl.SSLError, OSError):
            pass
        finally:
            try:
                tls.close()
            except OSError:
                pass


def serve_https(args, handler, configure, banner, log, mode=0o644):
    """Serve HANDLER over HTTPS on 127.0.0.1 (add_listen_args/add_run_args) until a stop signal:
    CONFIGURE(httpd) sets the server's state, the port and pid files are published with MODE,
    then BANNER(httpd) is logged.  Returns the exit status."""
    clear_run_files(args)
    try:
        ctx = tls_context(args.cert, args.key)
        httpd = TLSHTTPServer(("127.0.0.1", args.port), handler)
    except (OSError, ssl.SSLError) as e:
        log("%s", e)
        return 1
    httpd.ssl_ctx = ctx
    configure(httpd)
    stop = threading.Event()
    on_stop_signal(stop.set)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)
    thread.start()
    publish(args, httpd.server_address[1], mode)
    log("%s", banner(httpd))
    while not stop.wait(0.1):
        pass
    httpd.shutdown()
    httpd.server_close()
    remove_run_files(args)
    return 0
