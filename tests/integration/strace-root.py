#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# strace-root.py FILE [PATH-PART] - read `strace -f -o FILE` output (each line
# starts with the pid) of a process tree started as root, and print one line
# per AF_INET/AF_INET6 connect(): "root" when the process still held uid 0
# (real, effective or saved) at that moment, else "user", with pid and port;
# with PATH-PART, also one per successful open/openat of a path containing
# it (trace openat too), with pid and path.
# A child starts with the uids its parent had when it entered clone/fork
# (the child's own lines can come before the parent's clone returns, hence
# two passes); setuid/setresuid change them only when they returned 0.
import re
import sys

LINE = re.compile(r'^(\d+)\s+(.*)$')
CALL = re.compile(r'^(\w+)\((.*)$')
RESUMED = re.compile(r'^<\.\.\. (\w+) resumed>(.*)$')
RET = re.compile(r'\)\s+=\s+(-?\d+)')
FORKS = ('clone', 'clone3', 'fork', 'vfork')


def events(path):
    """(index, pid, syscall, entry-line index, full args text, return value)
    for every completed call; entry index is where the call started."""
    started = {}
    with open(path, errors='replace') as f:
        for i, raw in enumerate(f):
            m = LINE.match(raw.rstrip('\n'))
            if not m:
                continue
            pid, body = int(m.group(1)), m.group(2)
            r = RESUMED.match(body)
            if r:
                name, entry, head = started.pop(pid, (r.group(1), i, ''))
                args = head + r.group(2)
            else:
                c = CALL.match(body)
                if not c:
                    continue
                name, args, entry = c.group(1), c.group(2), i
                if '<unfinished ...>' in args:
                    started[pid] = (name, i, args.replace('<unfinished ...>', ''))
                    yield (i, pid, name + '/entry', i, args, None)
                    continue
                yield (i, pid, name + '/entry', i, args, None)
            m2 = RET.search(args)
            yield (i, pid, name, entry, args, int(m2.group(1)) if m2 else None)


def main(path, part=None):
    evs = list(events(path))
    # pass 1: which clone entry line made each child
    born_at = {}
    for _, pid, name, entry, _, ret in evs:
        if name in FORKS and ret is not None and ret > 0:
            born_at[ret] = entry
    # pass 2: simulate
    uids, snap, out = {}, {}, []
    for i, pid, name, entry, args, ret in evs:
        if pid not in uids:
            uids[pid] = list(snap.get(born_at.get(pid), [0, 0, 0]))
        if name.endswith('/entry'):
            if name[:-6] in FORKS:
                snap[i] = list(uids[pid])
            continue
        opened = part is not None and name in ('open', 'openat') and ret is not None and ret >= 0
        if ret != 0 and name != 'connect' and not opened:
            continue
        if name == 'setuid':
            u = int(re.match(r'\s*(\d+)', args).group(1))
            uids[pid] = [u, u, u] if uids[pid][1] == 0 else [uids[pid][0], u, uids[pid][2]]
        elif name == 'setresuid':
            vals = [int(v) for v in re.findall(r'-?\d+', args)[:3]]
            uids[pid] = [o if v == -1 else v for o, v in zip(uids[pid], vals)]
        elif name == 'connect' and re.search(r'sa_family=AF_INET6?\b', args):
            port = re.search(r'htons\((\d+)\)', args)
            out.append('%s pid=%d port=%s' % ('root' if 0 in uids[pid] else 'user', pid,
                                               port.group(1) if port else '?'))
        elif opened:
            f = re.search(r'"([^"]*)"', args)
            if f and part in f.group(1):
                out.append('%s pid=%d open=%s' % ('root' if 0 in uids[pid] else 'user', pid, f.group(1)))
    for line in out:
        print(line)


if __name__ == '__main__':
    main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None)
