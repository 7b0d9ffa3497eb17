## SPDX-License-Identifier: Apache-2.0
## pam/pam.mk - per-user credentials: the PAM module, its profile and man page,
## and the vault that keeps captured passwords encrypted (fragment of Makefile.am).

## The vault (AES-256-GCM records under a root-only key) is GLib code: libp2m.
lib_libp2m_la_SOURCES += lib/p2m-vault.c lib/p2m-vault.h

check_PROGRAMS += tests/unit/test-vault tests/fuzz/replay-vault
tests_unit_test_vault_LDADD = $(P2M_LIBS)
tests_fuzz_replay_vault_SOURCES = tests/fuzz/fuzz-vault.c $(FUZZ_REPLAY_MAIN)
tests_fuzz_replay_vault_LDADD = $(P2M_LIBS)
TESTS += tests/unit/test-vault tests/fuzz/replay-vault
FUZZ_TARGETS += vault

## pam_print2mail.so: links only the plain-C core and libpam.  Its own
## CPPFLAGS leave out GLib's include path, so a GLib header cannot creep in.
pammod_LTLIBRARIES += pam/pam_print2mail.la
pam_pam_print2mail_la_SOURCES = pam/pam_print2mail.c
pam_pam_print2mail_la_CPPFLAGS = -I$(top_srcdir)/lib -I$(top_builddir) $(P2M_DEFS) $(PAM_CFLAGS)
pam_pam_print2mail_la_LDFLAGS = $(AM_LDFLAGS) -module -avoid-version -shared \
	-Wl,--version-script=$(srcdir)/pam/pam_print2mail.map
## -z defs proves the module needs nothing but libpam and libc; clang's
## sanitizer runtimes are linked into programs only, so fuzzer builds skip it.
if !ENABLE_FUZZERS
pam_pam_print2mail_la_LDFLAGS += -Wl,-z,defs
endif
pam_pam_print2mail_la_LIBADD = lib/libp2mcore.la $(PAM_LIBS)
EXTRA_pam_pam_print2mail_la_DEPENDENCIES = pam/pam_print2mail.map

## PAM loads the .so; a libtool archive beside it is clutter.  A data hook:
## pammod_LTLIBRARIES install with the data (the dir name lacks "exec"), after
## the exec hooks have run.
uninstall_hooks += uninstall-pam
uninstall-pam:
	rm -f $(DESTDIR)$(pammoddir)/pam_print2mail.so $(DESTDIR)$(pamconfigdir)/print2mail

## The pam-auth-update profile, installed under the name it is enabled by.
pamconfigdir = $(datadir)/pam-configs
install_data_hooks += install-data-pam
install-data-pam:
	rm -f $(DESTDIR)$(pammoddir)/pam_print2mail.la
	$(MKDIR_P) $(DESTDIR)$(pamconfigdir)
	$(INSTALL_DATA) $(srcdir)/pam/print2mail.pam-config $(DESTDIR)$(pamconfigdir)/print2mail
.PHONY: install-data-pam uninstall-pam

dist_man_MANS += man/pam_print2mail.8
EXTRA_DIST += pam/pam_print2mail.map pam/print2mail.pam-config \
	tests/integration/pam-module.sh tests/integration/pam-e2e.sh
TESTS += tests/integration/pam-module.sh tests/integration/pam-e2e.sh
