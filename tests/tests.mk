## tests/tests.mk - shared test harness (fragment of Makefile.am).

## Fuzz targets: each tests/fuzz/fuzz-NAME.c defines LLVMFuzzerTestOneInput.
## make check always replays tests/fuzz/corpus/NAME/* through it (replay-NAME,
## built with the normal compiler); --enable-fuzzers also builds the libFuzzer
## binary fuzz-NAME with clang for real fuzzing (see HACKING.md).
## Every test script and its data ship in the tarball (make distcheck runs
## them).  Directories that also exist in the build tree (their .log/.trs/.o
## live there) are copied by the hook below, sources only: automake would
## otherwise take the build tree's copy, objects included.
EXTRA_DIST += tests/fuzz/corpus tests/lib.sh tests/data \
	tests/servers/README.md tests/servers/m365smtp.py tests/servers/tokend.py \
	tests/servers/p2mserver.py \
	tests/servers/mkcerts.sh tests/servers/selftest.sh
dist-hook:
	$(MKDIR_P) $(distdir)/tests/integration
	cp -p $(srcdir)/tests/integration/*.sh $(srcdir)/tests/integration/*.c $(distdir)/tests/integration/

## To add a fuzz target NAME (owner's fragment):
##   check_PROGRAMS += tests/fuzz/replay-NAME
##   tests_fuzz_replay_NAME_SOURCES = tests/fuzz/fuzz-NAME.c $(FUZZ_REPLAY_MAIN)
##   tests_fuzz_replay_NAME_LDADD = $(P2M_LIBS)
##   TESTS += tests/fuzz/replay-NAME
##   FUZZ_TARGETS += NAME
## and put seed inputs in tests/fuzz/corpus/NAME/.
## A unit test NAME: tests/unit/test-NAME.c (GTest, g_test_init + g_test_run):
##   check_PROGRAMS += tests/unit/test-NAME
##   tests_unit_test_NAME_LDADD = $(P2M_LIBS)
##   TESTS += tests/unit/test-NAME
## An integration test: tests/integration/NAME.sh printing TAP, sourcing tests/lib.sh:
##   TESTS += tests/integration/NAME.sh

## libFuzzer binaries (make fuzzers, with ./configure --enable-fuzzers CC=clang).
fuzzers:
	@for t in $(FUZZ_TARGETS); do \
	  echo "  FUZZ     tests/fuzz/fuzz-$$t"; \
	  $(CC) -g -O1 -fsanitize=fuzzer,address,undefined $(DEFS) $(DEFAULT_INCLUDES) $(AM_CPPFLAGS) \
	    $(srcdir)/tests/fuzz/fuzz-$$t.c -o tests/fuzz/fuzz-$$t \
	    lib/.libs/libp2m.a lib/.libs/libp2mcore.a \
	    $(GLIB_LIBS) $(JSON_GLIB_LIBS) $(CURL_LIBS) $(OPENSSL_LIBS) $(CUPS_LIBS) || exit 1; \
	done
.PHONY: fuzzers

## The unit tests and fuzz replays (no servers, no root): what the sanitizer
## pass of scripts/test.sh runs.
print-unit-tests:
	@echo $(filter tests/unit/% tests/fuzz/%,$(TESTS))
.PHONY: print-unit-tests

## The test servers check themselves with curl before anything trusts them.
TESTS += tests/servers/selftest.sh

## Issue 13: the sources use no banned call (atoi, sprintf, strcpy, unchecked setuid...).
TESTS += tests/lint/banned-calls.sh
EXTRA_DIST += tests/lint/banned-calls.sh
## ... and one UTF-8 cut for every module (lib/p2m-text.c).
check_PROGRAMS += tests/unit/test-text
tests_unit_test_text_LDADD = $(P2M_LIBS)
TESTS += tests/unit/test-text
