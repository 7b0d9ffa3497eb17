## SPDX-License-Identifier: Apache-2.0
## lib/core.mk - plain-C core shared with the PAM module (fragment of Makefile.am).
## p2m-error lives in Makefile.am itself; the IPC framing is added by helper/helper.mk.
## Config, secrets and the state store (GLib) go into libp2m.
lib_libp2m_la_SOURCES += \
	lib/p2m-config.c lib/p2m-config.h \
	lib/p2m-secret.c lib/p2m-secret.h \
	lib/p2m-store.c lib/p2m-store.h

check_PROGRAMS += tests/unit/test-config tests/unit/test-store tests/fuzz/replay-config
tests_unit_test_config_LDADD = $(P2M_LIBS)
tests_unit_test_store_LDADD = $(P2M_LIBS)
tests_fuzz_replay_config_SOURCES = tests/fuzz/fuzz-config.c $(FUZZ_REPLAY_MAIN)
tests_fuzz_replay_config_LDADD = $(P2M_LIBS)
TESTS += tests/unit/test-config tests/unit/test-store tests/fuzz/replay-config
FUZZ_TARGETS += config
