## SPDX-License-Identifier: Apache-2.0
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
	    $(GLIB_LIBS) $(JSON_GLIB_LIBS) $(OPENSSL_LIBS) $(CUPS_LIBS) || exit 1; \
	done
.PHONY: fuzzers

## The unit tests and fuzz replays (no servers, no root): what the sanitizer
## pass of scripts/test.sh runs.
print-unit-tests:
	@echo $(filter tests/unit/% tests/fuzz/%,$(TESTS))
.PHONY: print-unit-tests

## The test servers check themselves with curl before anything trusts them.
TESTS += tests/servers/selftest.sh

## The helper under pressure (issue 9): socket floods from an unprivileged
## user, parallel logins, the PAM module's peer check.
TESTS += tests/integration/helper-flood.sh tests/integration/helper-login-race.sh
EXTRA_DIST += tests/tsan.supp
## The helper's integration tests: scripts/test.sh's sanitizer pass runs them
## under ASan and under TSan (--enable-sanitizers=thread).
print-helper-tests:
	@echo $(filter tests/integration/helper-% tests/integration/ctl-%,$(TESTS))
.PHONY: print-helper-tests
## ---- instructions that are true, the license line, catalogues, man pages ----
## (issue 10: README's and the man pages' instructions, tried as written)
TESTS += tests/integration/cups-instructions.sh
TESTS += tests/integration/po-current.sh tests/integration/man-pages.sh \
	tests/integration/license-spdx.sh tests/integration/pam-profile.sh
EXTRA_DIST += LICENSE
## No TCP connection while holding root (issue 9 item 4): strace of the
## backend and the helper, and the pure parser of the unprivileged child's
## token answer.
EXTRA_DIST += tests/integration/strace-root.py
TESTS += tests/integration/noroot-strace.sh
## libcurl loaded at run time, never linked, never by root (lib/p2m-curl.h).
TESTS += tests/integration/curl-lazy.sh
EXTRA_DIST += tests/integration/curl-lazy.sh
check_PROGRAMS += tests/unit/test-unpriv tests/fuzz/replay-tokframe
tests_unit_test_unpriv_LDADD = $(P2M_LIBS)
tests_fuzz_replay_tokframe_SOURCES = tests/fuzz/fuzz-tokframe.c $(FUZZ_REPLAY_MAIN)
tests_fuzz_replay_tokframe_LDADD = $(P2M_LIBS)
TESTS += tests/unit/test-unpriv tests/fuzz/replay-tokframe
FUZZ_TARGETS += tokframe
## Microsoft Graph transport (issue 11): the Graph-like server and its tests.
EXTRA_DIST += tests/servers/graphd.py
TESTS += tests/integration/graph-send.sh tests/integration/graph-refusals.sh tests/integration/graph-helper.sh tests/integration/graph-cups.sh tests/integration/graph-peruser.sh
## Issue 13: the sources use no banned call (atoi, sprintf, strcpy, unchecked setuid...).
TESTS += tests/lint/banned-calls.sh
EXTRA_DIST += tests/lint/banned-calls.sh
## ... and one UTF-8 cut for every module (lib/p2m-text.c).
check_PROGRAMS += tests/unit/test-text
tests_unit_test_text_LDADD = $(P2M_LIBS)
TESTS += tests/unit/test-text

# graph401: a Graph 401 before expiry forces one token refresh
TESTS += tests/integration/graph-401.sh
