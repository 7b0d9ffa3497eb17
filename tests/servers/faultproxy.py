#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""faultproxy: a TCP proxy on 127.0.0.1 that breaks the connection to a server on purpose.

Tests put it between the backend and the local mail server (or the token endpoint) to see
what print2mail does when the network fails: connections refused, dropped during the TLS
handshake, after AUTH or in the middle of DATA, stalled for a while.  It never looks inside
TLS: it counts bytes and TLS records, which is all a network in the middle can do.

The behaviour comes from a JSON control file, re-read for every new connection and every
0.1 s (so a test changes it at run time with an atomic rename), for example:

  {}                                      pass everything through
  {"refuse": true}                        stop listening: connect() is refused
  {"drop": {"tls_handshake": true}}       close both sides when the client's TLS ClientHello
                                          arrives (nothing of it is forwarded)
  {"drop": {"client_record": 6}}          close when the client's 6th TLS application-data
                                          record arrives (TLS 1.3, AUTH LOGIN: 1 Finished,
                                          2 EHLO, 3 AUTH, 4 user, 5 password: 6 = MAIL FROM,
                                          so the drop comes right after AUTH succeeded)
  {"drop": {"client_bytes": 300000}}      close once the client has sent that many bytes (in
                                          the middle of DATA for a message of a few hundred KB)
  {"stall": {"client_bytes": N, "seconds": S}}
                                          after N client bytes, forward nothing either way for
                                          S seconds, then go on (S large = a hung server)
  "times": K                              at the top level: apply drop/stall to the first K
                                          connections only (counted from the control file's
                                          last change), pass the others

Statistics (connections now, peak, total, drops, stalls) are written atomically to the
--stats file after every change, so a test can assert "never more than 3 at once"; the
peak starts again from the connections open whenever the control file changes.
Standard library only.
"""

import argparse
import asyncio
import json
import os
import signal
import sys
import time

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
CHUNK = 65536


def note(fmt, *args):
    sys.stderr.write("faultproxy: %s\n" % (fmt % args if args else fmt))


def write_atomic(path, text):
    tmp = "%s.%d.tmp" % (path, os.getpid())
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


class Proxy:
    def __init__(self, args):
        self.args = args
        self.control = {}
        self.control_mtime = None
        self.applied = 0           # connections the current control applied to
        self.server = None
        self.port = args.port
        self.stats = {"now": 0, "peak": 0, "total": 0, "refused_periods": 0, "drops": 0, "stalls": 0}
        self.writers = set()

    def read_control(self):
        try:
            st = os.stat(self.args.control)
        except FileNotFoundError:
            if self.control_mtime is not None:
                self.control, self.control_mtime, self.applied = {}, None, 0
            return
        key = (st.st_mtime_ns, st.st_ino, st.st_size)
        if key == self.control_mtime:
            return
        try:
            with open(self.args.control) as f:
                c = json.load(f)
        except (OSError, ValueError) as e:
            note("control file unreadable (%s); keeping the last one", e)
            return
        self.control, self.control_mtime, self.applied = c if isinstance(c, dict) else {}, key, 0
        self.stats["peak"] = self.stats["now"]     # a new phase of the test: its own peak
        note("control: %s", json.dumps(self.control, sort_keys=True))

    def save_stats(self):
        if self.args.stats:
            write_atomic(self.args.stats, json.dumps(self.stats, sort_keys=True) + "\n")

    async def listen(self):
        self.server = await asyncio.start_server(self.handle, host="127.0.0.1", port=self.port,
                                                 reuse_address=True)
        self.port = self.server.sockets[0].getsockname()[1]

    async def watch(self):
        """Follow the control file: stop and resume listening for 'refuse'."""
        while True:
            self.read_control()
            refuse = bool(self.control.get("refuse"))
            if refuse and self.server is not None:
                self.server.close()
                await self.server.wait_closed()
                self.server = None
                self.stats["refused_periods"] += 1
                self.save_stats()
                note("refusing connections")
            elif not refuse and self.server is None:
                while True:
                    try:
                        await self.listen()
                        break
                    except OSError:      # the port is briefly in TIME_WAIT: try again
                        await asyncio.sleep(0.1)
                note("listening again on 127.0.0.1:%d", self.port)
            await asyncio.sleep(0.1)

    def plan(self):
        """What to do to this connection: (drop, stall) dicts from the control, or empty."""
        c = self.control
        times = c.get("times")
        if times is not None and self.applied >= int(times):
            return {}, {}
        self.applied += 1
        return dict(c.get("drop") or {}), dict(c.get("stall") or {})

    async def handle(self, creader, cwriter):
        self.read_control()
        drop, stall = self.plan()
        self.stats["now"] += 1
        self.stats["total"] += 1
        self.stats["peak"] = max(self.stats["peak"], self.stats["now"])
        self.save_stats()
        conn = {"client_bytes": 0, "records": 0, "rec_buf": b"", "stalled": False, "dropped": False,
                "resume": 0.0}
        try:
            sreader, swriter = await asyncio.open_connection("127.0.0.1", self.args.target)
        except OSError as e:
            note("target unreachable: %s", e)
            cwriter.close()
            self.stats["now"] -= 1
            self.save_stats()
            return
        self.writers.update((cwriter, swriter))
        up = asyncio.ensure_future(self.pump(creader, swriter, conn, drop, stall, True))
        down = asyncio.ensure_future(self.pump(sreader, cwriter, conn, drop, stall, False))
        await asyncio.wait([up, down], return_when=asyncio.FIRST_COMPLETED)
        for t in (up, down):
            t.cancel()
        for w in (cwriter, swriter):
            self.writers.discard(w)
            try:
                w.close()
            except Exception:
                pass
        self.stats["now"] -= 1
        self.save_stats()
        note("closed after %d client bytes, %d client TLS application records", conn["client_bytes"],
             conn["records"])

    def count_records(self, conn, data):
        """Count the client's TLS application-data records (content type 23)."""
        buf = conn["rec_buf"] + data
        while len(buf) >= 5:
            length = (buf[3] << 8) | buf[4]
            if len(buf) < 5 + length:
                break
            if buf[0] == 23:
                conn["records"] += 1
            buf = buf[5 + length:]
        conn["rec_buf"] = buf

    def should_drop(self, conn, drop, data):
        conn["records_before"] = conn["records"]
        # Plain SMTP until the ClientHello after STARTTLS; TLS records from there on.
        if not conn.get("tls") and data[:2] == b"\x16\x03":
            conn["tls"] = True
        if conn.get("tls"):
            self.count_records(conn, data)
        if not drop:
            return False
        if drop.get("tls_handshake") and data[:1] == b"\x16" and data[1:2] == b"\x03":
            return True
        if "client_record" in drop and conn["records_before"] < int(drop["client_record"]) <= conn["records"]:
            return True
        if "client_bytes" in drop and conn["client_bytes"] + len(data) >= int(drop["client_bytes"]):
            return True
        return False

    async def pump(self, reader, writer, conn, drop, stall, upstream):
        """Forward one direction.  During a stall nothing is forwarded either way, but the
        client side is still read (and held back), so a client that gives up and closes
        ends the connection at once, as a real stalled server would see it."""
        held = []
        while True:
            wait = conn["resume"] - time.monotonic()
            if wait > 0 and not upstream:
                await asyncio.sleep(wait)
                continue
            if wait > 0:
                try:
                    data = await asyncio.wait_for(reader.read(CHUNK), timeout=wait)
                except asyncio.TimeoutError:
                    continue
                if not data:
                    return
                held.append(data)
                continue
            if held:
                writer.write(b"".join(held))
                held = []
                await writer.drain()
            data = await reader.read(CHUNK)
            if not data:
                return
            if upstream:
                if self.should_drop(conn, drop, data):
                    conn["dropped"] = True
                    self.stats["drops"] += 1
                    self.save_stats()
                    note("dropping a connection after %d client bytes", conn["client_bytes"])
                    return
                conn["client_bytes"] += len(data)
                if stall and not conn["stalled"] and conn["client_bytes"] >= int(stall.get("client_bytes", 0)):
                    conn["stalled"] = True
                    conn["resume"] = time.monotonic() + float(stall.get("seconds", 0))
                    self.stats["stalls"] += 1
                    self.save_stats()
                    note("stalling %s s after %d client bytes", stall.get("seconds"), conn["client_bytes"])
                    held.append(data)
                    continue
            elif conn["resume"] > time.monotonic():
                await asyncio.sleep(conn["resume"] - time.monotonic())
            writer.write(data)
            await writer.drain()


async def serve(args):
    proxy = Proxy(args)
    proxy.read_control()
    await proxy.listen()
    if proxy.control.get("refuse"):
        proxy.server.close()
        proxy.server = None
    write_atomic(args.port_file, "%d\n" % proxy.port)
    proxy.save_stats()
    note("127.0.0.1:%d -> 127.0.0.1:%d", proxy.port, args.target)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for s in STOP_SIGNALS:
        loop.add_signal_handler(s, stop.set)
    watcher = asyncio.ensure_future(proxy.watch())
    await stop.wait()
    watcher.cancel()
    if proxy.server is not None:
        proxy.server.close()


def main():
    ap = argparse.ArgumentParser(description="TCP proxy on 127.0.0.1 that refuses, drops and stalls on command.")
    ap.add_argument("--target", type=int, required=True, help="port of the real server on 127.0.0.1")
    ap.add_argument("--port", type=int, default=0, help="port to listen on (default 0: the kernel picks one)")
    ap.add_argument("--port-file", required=True, help="written with the port once listening")
    ap.add_argument("--control", required=True, help="JSON control file (see the module docstring)")
    ap.add_argument("--stats", help="JSON statistics file, rewritten after every change")
    args = ap.parse_args()
    asyncio.run(serve(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
