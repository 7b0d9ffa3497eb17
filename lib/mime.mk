## SPDX-License-Identifier: Apache-2.0
## lib/mime.mk - addresses, MIME building blocks and the message composer (fragment of Makefile.am).
lib_libp2m_la_SOURCES += \
	lib/p2m-addr.c lib/p2m-addr.h \
	lib/p2m-mime.c lib/p2m-mime.h \
	lib/p2m-compose.c lib/p2m-compose.h

check_PROGRAMS += tests/unit/test-addr
tests_unit_test_addr_LDADD = $(P2M_LIBS)
TESTS += tests/unit/test-addr

check_PROGRAMS += tests/unit/test-compose
tests_unit_test_compose_LDADD = $(P2M_LIBS)
TESTS += tests/unit/test-compose

check_PROGRAMS += tests/unit/test-mime
tests_unit_test_mime_LDADD = $(P2M_LIBS)
TESTS += tests/unit/test-mime

check_PROGRAMS += tests/fuzz/replay-rfc2047 tests/fuzz/replay-addr tests/fuzz/replay-envelope
tests_fuzz_replay_rfc2047_SOURCES = tests/fuzz/fuzz-rfc2047.c $(FUZZ_REPLAY_MAIN)
tests_fuzz_replay_rfc2047_LDADD = $(P2M_LIBS)
tests_fuzz_replay_addr_SOURCES = tests/fuzz/fuzz-addr.c $(FUZZ_REPLAY_MAIN)
tests_fuzz_replay_addr_LDADD = $(P2M_LIBS)
tests_fuzz_replay_envelope_SOURCES = tests/fuzz/fuzz-envelope.c $(FUZZ_REPLAY_MAIN)
tests_fuzz_replay_envelope_LDADD = $(P2M_LIBS)
TESTS += tests/fuzz/replay-rfc2047 tests/fuzz/replay-addr tests/fuzz/replay-envelope
FUZZ_TARGETS += rfc2047 addr envelope

## Not a test: run by hand to see memory stay flat (see the file's usage).
noinst_PROGRAMS += bench/compose-rss
bench_compose_rss_LDADD = $(P2M_LIBS)
