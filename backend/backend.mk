## SPDX-License-Identifier: Apache-2.0
## backend/backend.mk - the CUPS backend (fragment of Makefile.am).
## Installed 0700 root (see conf/conf.mk): cupsd then runs it as root, so it can read the 0600
## secrets and the state directory; it drops to lp before the network (a token
## it fetches itself comes from a child that is already lp: lib/p2m-unpriv.c).
backend_PROGRAMS += backend/print2mail
backend_print2mail_SOURCES = backend/print2mail.c \
	backend/deliver.c backend/deliver.h \
	backend/credential.c backend/credential.h \
	backend/source.c backend/source.h \
	backend/privs.c backend/privs.h \
	backend/attempt.c backend/attempt.h \
	backend/report.c backend/report.h
backend_print2mail_LDADD = $(P2M_LIBS)

## conf/conf.mk's install-data hook sets the 0700 mode: automake installs
## backend_PROGRAMS during install-data, after the exec hooks have run.

## Integration tests: the real backend run as cupsd runs it, against tests/servers.
TESTS += tests/integration/backend-store-busy.sh tests/integration/backend-truncated.sh
TESTS += tests/integration/backend-deliver.sh tests/integration/backend-refusals.sh \
	tests/integration/backend-xoauth2.sh tests/integration/backend-peruser.sh \
	tests/integration/backend-cancel.sh tests/integration/backend-replies.sh \
	tests/integration/backend-size.sh
EXTRA_DIST += tests/integration/backend-lib.sh \
	tests/integration/backend-deliver.sh tests/integration/backend-refusals.sh \
	tests/integration/backend-xoauth2.sh tests/integration/backend-peruser.sh \
	tests/integration/backend-cancel.sh tests/integration/backend-replies.sh \
	tests/integration/backend-size.sh bench/bench.sh

## Issue 13: failures classified where they are known, the debug transcript.
TESTS += tests/integration/backend-rules.sh
EXTRA_DIST += tests/integration/backend-rules.sh

## The server's replies as hostile input; the wire form of dot lines.
TESTS += tests/integration/backend-hostile.sh
EXTRA_DIST += tests/integration/backend-hostile.sh
