## SPDX-License-Identifier: Apache-2.0
## lib/net.mk - the job as CUPS gives it and the SMTP transport (fragment of Makefile.am).
lib_libp2m_la_SOURCES += \
	lib/p2m-job.c lib/p2m-job.h \
	lib/p2m-options.c lib/p2m-options.h \
	lib/p2m-wire.c lib/p2m-wire.h \
	lib/p2m-smtp.c lib/p2m-smtp.h \
	lib/p2m-graph.c lib/p2m-graph.h

check_PROGRAMS += tests/unit/test-job tests/unit/test-smtp tests/fuzz/replay-uri
tests_unit_test_job_LDADD = $(P2M_LIBS)
tests_unit_test_smtp_LDADD = $(P2M_LIBS)
tests_fuzz_replay_uri_SOURCES = tests/fuzz/fuzz-uri.c $(FUZZ_REPLAY_MAIN)
tests_fuzz_replay_uri_LDADD = $(P2M_LIBS)
TESTS += tests/unit/test-job tests/unit/test-smtp tests/fuzz/replay-uri
FUZZ_TARGETS += uri

## Microsoft Graph (issue 11): unit test and fuzz target of p2m-graph's pure parsers.
check_PROGRAMS += tests/unit/test-graph tests/fuzz/replay-graph
tests_unit_test_graph_LDADD = $(P2M_LIBS)
tests_fuzz_replay_graph_SOURCES = tests/fuzz/fuzz-graph.c $(FUZZ_REPLAY_MAIN)
tests_fuzz_replay_graph_LDADD = $(P2M_LIBS)
TESTS += tests/unit/test-graph tests/fuzz/replay-graph
FUZZ_TARGETS += graph

## A job's options (argv[5]) read as libcups 2.4 reads them, without linking
## libcups: the unit test and the fuzz target check it against libcups itself.
check_PROGRAMS += tests/unit/test-options tests/fuzz/replay-options
tests_unit_test_options_LDADD = $(P2M_LIBS) $(CUPS_LIBS)
tests_fuzz_replay_options_SOURCES = tests/fuzz/fuzz-options.c $(FUZZ_REPLAY_MAIN)
tests_fuzz_replay_options_LDADD = $(P2M_LIBS) $(CUPS_LIBS)
TESTS += tests/unit/test-options tests/fuzz/replay-options
FUZZ_TARGETS += options
