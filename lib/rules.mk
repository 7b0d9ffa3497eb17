## SPDX-License-Identifier: Apache-2.0
## lib/rules.mk - reply parser, classifier table, message catalogues and tools/p2m-gen (fragment of Makefile.am).
lib_libp2m_la_SOURCES += \
	lib/p2m-reply.c lib/p2m-reply.h \
	lib/p2m-rules.c lib/p2m-rules.h \
	lib/p2m-fail.c lib/p2m-fail.h \
	lib/p2m-debug.c lib/p2m-debug.h \
	lib/p2m-i18n.c lib/p2m-i18n.h

## ---- message catalogues -------------------------------------------------
## po/LL.po -> po/locale/LL/LC_MESSAGES/print2mail.mo in the build tree: the
## layout p2m_i18n_load() reads, so make check (PRINT2MAIL_LOCALEDIR) and
## tools/p2m-gen use the fresh catalogues without installing them.
P2M_LINGUAS = fr ro zh_CN ru
P2M_PO_FILES = $(P2M_LINGUAS:%=po/%.po)
P2M_MO_FILES = $(P2M_LINGUAS:%=po/locale/%/LC_MESSAGES/print2mail.mo)
noinst_DATA = $(P2M_MO_FILES)
CLEANFILES += $(P2M_MO_FILES)
EXTRA_DIST += po/LINGUAS po/print2mail.pot $(P2M_PO_FILES) tests/data/replies.tsv

po/locale/%/LC_MESSAGES/print2mail.mo: po/%.po
	@$(MKDIR_P) $(@D)
	$(AM_V_GEN)$(MSGFMT) --check -o $@ $<

install_data_hooks += install-p2m-mo
install-p2m-mo: $(P2M_MO_FILES)
	@for l in $(P2M_LINGUAS); do \
	  $(MKDIR_P) $(DESTDIR)$(localedir)/$$l/LC_MESSAGES && \
	  $(INSTALL_DATA) po/locale/$$l/LC_MESSAGES/print2mail.mo \
	    $(DESTDIR)$(localedir)/$$l/LC_MESSAGES/print2mail.mo || exit 1; \
	done
uninstall_hooks += uninstall-p2m-mo
uninstall-p2m-mo:
	@for l in $(P2M_LINGUAS); do \
	  rm -f $(DESTDIR)$(localedir)/$$l/LC_MESSAGES/print2mail.mo; \
	done

## po/print2mail.pot is checked in, so building needs no xgettext.  After
## changing a message: make update-po, translate the new entries in po/*.po
## (msgfmt --check must stay quiet), commit the .pot and .po files.  make
## check fails while a catalogue's msgids differ from the sources'
## (tests/integration/po-current.sh builds a fresh template with po-template).
## msgids: N_() in the rule table, and p2m_i18n_get(cat, "...") anywhere.
XGETTEXT = xgettext
MSGMERGE = msgmerge
P2M_POT_OUT = $(abs_top_srcdir)/po/print2mail.pot
P2M_POT_INPUT = lib/*.c backend/*.c filter/*.c helper/*.c tools/*.c
## The template is rewritten only when more than its date changed.
po-template:
	cd $(srcdir) && $(XGETTEXT) --from-code=UTF-8 --language=C \
	  --keyword=N_ --keyword=p2m_i18n_get:2 --add-comments=TRANSLATORS: \
	  --add-location=file --sort-by-file \
	  --package-name=$(PACKAGE) --package-version=$(VERSION) \
	  --msgid-bugs-address='$(PACKAGE_BUGREPORT)' \
	  -o $(P2M_POT_OUT).tmp `ls $(P2M_POT_INPUT) 2>/dev/null`
	{ echo '# SPDX-License-Identifier: Apache-2.0'; cat $(P2M_POT_OUT).tmp; } >$(P2M_POT_OUT).new
	rm -f $(P2M_POT_OUT).tmp
	@grep -v '^"POT-Creation-Date:' $(P2M_POT_OUT).new >$(P2M_POT_OUT).body; \
	if [ -f $(P2M_POT_OUT) ] && grep -v '^"POT-Creation-Date:' $(P2M_POT_OUT) | \
	   cmp -s - $(P2M_POT_OUT).body; then rm -f $(P2M_POT_OUT).new; \
	else mv $(P2M_POT_OUT).new $(P2M_POT_OUT); fi; rm -f $(P2M_POT_OUT).body
update-po: po-template
	cd $(srcdir) && for l in $(P2M_LINGUAS); do \
	  $(MSGMERGE) --quiet --update --backup=none --no-fuzzy-matching po/$$l.po po/print2mail.pot || exit 1; \
	done
.PHONY: update-po po-template install-p2m-mo uninstall-p2m-mo

## ---- generator of the PPD reasons, help page and man page rule list ------
noinst_PROGRAMS += tools/p2m-gen
tools_p2m_gen_SOURCES = tools/p2m-gen.c
tools_p2m_gen_LDADD = $(P2M_LIBS)

## ---- tests ---------------------------------------------------------------
check_PROGRAMS += tests/unit/test-reply tests/unit/test-rules tests/unit/test-i18n
tests_unit_test_reply_LDADD = $(P2M_LIBS)
tests_unit_test_rules_LDADD = $(P2M_LIBS)
tests_unit_test_i18n_LDADD = $(P2M_LIBS)
TESTS += tests/unit/test-reply tests/unit/test-rules tests/unit/test-i18n

check_PROGRAMS += tests/fuzz/replay-reply tests/fuzz/replay-mo
tests_fuzz_replay_reply_SOURCES = tests/fuzz/fuzz-reply.c $(FUZZ_REPLAY_MAIN)
tests_fuzz_replay_reply_LDADD = $(P2M_LIBS)
tests_fuzz_replay_mo_SOURCES = tests/fuzz/fuzz-mo.c $(FUZZ_REPLAY_MAIN)
tests_fuzz_replay_mo_LDADD = $(P2M_LIBS)
TESTS += tests/fuzz/replay-reply tests/fuzz/replay-mo
FUZZ_TARGETS += reply mo
