## SPDX-License-Identifier: Apache-2.0
## helper/helper.mk - OAuth tokens, the IPC framing, print2mail-helper and print2mailctl (fragment of Makefile.am).

## Tokens: endpoint requests, JWT client assertions, cache and status files (GLib).
lib_libp2m_la_SOURCES += \
	lib/p2m-oauth.c lib/p2m-oauth.h \
	lib/p2m-jwt.c lib/p2m-jwt.h \
	lib/p2m-tokstate.c lib/p2m-tokstate.h \
	lib/p2m-token.c lib/p2m-token.h \
	lib/p2m-tokframe.c lib/p2m-tokframe.h \
	lib/p2m-unpriv.c lib/p2m-unpriv.h

## The helper socket's framing: plain C, linked by the PAM module too.
lib_libp2mcore_la_SOURCES += lib/p2m-ipc.c lib/p2m-ipc.h

## Unit tests and fuzz replays.
check_PROGRAMS += tests/unit/test-token tests/unit/test-ipc tests/unit/test-jwt
tests_unit_test_jwt_LDADD = $(P2M_LIBS)
tests_unit_test_token_LDADD = $(P2M_LIBS)
tests_unit_test_ipc_LDADD = $(P2M_LIBS)
TESTS += tests/unit/test-token tests/unit/test-ipc tests/unit/test-jwt

check_PROGRAMS += tests/fuzz/replay-token tests/fuzz/replay-ipc
tests_fuzz_replay_token_SOURCES = tests/fuzz/fuzz-token.c $(FUZZ_REPLAY_MAIN)
tests_fuzz_replay_token_LDADD = $(P2M_LIBS)
tests_fuzz_replay_ipc_SOURCES = tests/fuzz/fuzz-ipc.c $(FUZZ_REPLAY_MAIN)
tests_fuzz_replay_ipc_LDADD = lib/libp2mcore.la
TESTS += tests/fuzz/replay-token tests/fuzz/replay-ipc
FUZZ_TARGETS += token ipc

## The daemon.
sbin_PROGRAMS += helper/print2mail-helper
helper_print2mail_helper_SOURCES = helper/print2mail-helper.c \
	helper/helper-log.c helper/helper-log.h \
	helper/helper-refresh.c helper/helper-refresh.h \
	helper/helper-login.c helper/helper-login.h \
	helper/helper-server.c helper/helper-server.h \
	helper/helper-status.c helper/helper-status.h
helper_print2mail_helper_LDADD = $(P2M_LIBS)

## The command line.
bin_PROGRAMS += helper/print2mailctl
helper_print2mailctl_SOURCES = helper/print2mailctl.c \
	helper/ctl-common.c helper/ctl-common.h \
	helper/ctl-explain.c helper/ctl-test.c \
	helper/helper-status.c helper/helper-status.h
helper_print2mailctl_LDADD = $(P2M_LIBS)

## Integration tests (tests/lib.sh harness, tokend.py) and their driver.
check_PROGRAMS += tests/integration/helper-token-get
tests_integration_helper_token_get_LDADD = $(P2M_LIBS)
EXTRA_DIST += tests/integration/helper-lib.sh
TESTS += tests/integration/helper-refresh.sh tests/integration/helper-errors.sh \
	tests/integration/helper-cert.sh tests/integration/helper-device.sh tests/integration/ctl-basics.sh \
	tests/integration/helper-peruser.sh

## The systemd unit, with the install paths filled in at build time.
systemdunitdir = $(systemdsystemunitdir)
systemdunit_DATA = helper/print2mail-helper.service
helper/print2mail-helper.service: $(srcdir)/helper/print2mail-helper.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) helper && \
	sed -e 's|[@]sbindir[@]|$(sbindir)|g' $(srcdir)/helper/print2mail-helper.service.in >$@.tmp && mv $@.tmp $@
EXTRA_DIST += helper/print2mail-helper.service.in
CLEANFILES += helper/print2mail-helper.service

## Manual pages.
dist_man_MANS += man/print2mail-helper.8 man/print2mailctl.1
