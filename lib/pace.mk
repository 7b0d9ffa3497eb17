# SPDX-License-Identifier: Apache-2.0
## lib/pace.mk - what any transport shares: the network timeout and per-mailbox pacing (fragment of Makefile.am).
lib_libp2m_la_SOURCES += \
	lib/p2m-net.c lib/p2m-net.h
## libcurl for the HTTPS transports (Graph, the token endpoint), loaded at run time.
lib_libp2m_la_SOURCES += \
	lib/p2m-curl.c lib/p2m-curl.h
check_PROGRAMS += tests/unit/test-curl
tests_unit_test_curl_LDADD = $(P2M_LIBS)
TESTS += tests/unit/test-curl
lib_libp2m_la_SOURCES += \
	lib/p2m-pace.c lib/p2m-pace.h

check_PROGRAMS += tests/unit/test-pace tests/fuzz/replay-pace
tests_unit_test_pace_LDADD = $(P2M_LIBS)
tests_fuzz_replay_pace_SOURCES = tests/fuzz/fuzz-pace.c $(FUZZ_REPLAY_MAIN)
tests_fuzz_replay_pace_LDADD = $(P2M_LIBS)
TESTS += tests/unit/test-pace tests/fuzz/replay-pace
FUZZ_TARGETS += pace

## The fault matrix and the load test (their proxy ships with the test servers).
EXTRA_DIST += tests/servers/faultproxy.py
TESTS += tests/integration/faults-backend.sh
TESTS += tests/integration/faults-load.sh
EXTRA_DIST += tests/integration/faults-load.sh bench/load.sh
TESTS += tests/integration/faults-cups.sh
EXTRA_DIST += tests/integration/faults-cups.sh
TESTS += tests/integration/faults-statedir.sh
EXTRA_DIST += tests/integration/faults-statedir.sh
## The token endpoint's faults and a helper killed mid-refresh, through cupsd.
TESTS += tests/integration/faults-token.sh
