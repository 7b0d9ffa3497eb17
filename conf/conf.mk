## SPDX-License-Identifier: Apache-2.0
## conf/conf.mk - what an admin installs for CUPS: the queue model (PPD), the
## help page, the man pages, the example config, the install modes CUPS
## needs, and the CUPS integration tests (fragment of Makefile.am).

## The state-reason lines of the PPD, the help page and the rule list of
## print2mail(8) come from the rule table through tools/p2m-gen (lib/rules.mk),
## with the compiled catalogues for the localized variants.  P2M_MO_FILES is
## the po/ fragment's list of built .mo files.
P2M_GEN = tools/p2m-gen$(EXEEXT)
P2M_GEN_LOCALEDIR = $(top_builddir)/po/locale
P2M_GEN_DEPS = $(P2M_GEN) $(P2M_MO_FILES)

## The PPD: /usr/share/ppd/print2mail/ is where cups-driverd finds packaged
## models (`lpinfo -m` lists lsb/usr/print2mail/print2mail.ppd).
ppddir = $(datadir)/ppd/print2mail
ppd_DATA = conf/print2mail.ppd
conf/print2mail.ppd: $(srcdir)/conf/print2mail.ppd.in $(P2M_GEN_DEPS)
	$(AM_V_GEN)$(MKDIR_P) conf && \
	./$(P2M_GEN) ppd-reasons $(P2M_GEN_LOCALEDIR) >$@.reasons && \
	sed -e 's|[@]VERSION[@]|$(VERSION)|g' \
	    -e '/^\*% [@]P2M_IPP_REASONS[@]$$/{' -e "r $@.reasons" -e 'd' -e '}' \
	    $(srcdir)/conf/print2mail.ppd.in >$@.tmp && \
	rm -f $@.reasons && mv $@.tmp $@

## The help page, served by cupsd at /help/print2mail.html and indexed by its
## help search (cgi-bin/help-index.c walks DocumentRoot/help).
cupshelpdir = $(cups_datadir)/doc-root/help
cupshelp_DATA = conf/print2mail.html
conf/print2mail.html: $(P2M_GEN_DEPS)
	$(AM_V_GEN)$(MKDIR_P) conf && \
	./$(P2M_GEN) help-html $(P2M_GEN_LOCALEDIR) >$@.tmp && mv $@.tmp $@

## print2mail(8) with the generated rule list; print2mail.conf(5) as written.
nodist_man_MANS = man/print2mail.8
dist_man_MANS += man/print2mail.conf.5
man/print2mail.8: $(srcdir)/man/print2mail.8.in $(P2M_GEN_DEPS)
	$(AM_V_GEN)$(MKDIR_P) man && \
	./$(P2M_GEN) man-rules >$@.rules && \
	sed -e 's|[@]VERSION[@]|$(VERSION)|g' -e 's|[@]sysconfdir[@]|$(sysconfdir)|g' \
	    -e 's|[@]localstatedir[@]|$(localstatedir)|g' -e 's|[@]cups_serverbin[@]|$(cups_serverbin)|g' \
	    -e 's|[@]cups_datadir[@]|$(cups_datadir)|g' -e 's|[@]ppddir[@]|$(ppddir)|g' \
	    -e '/^\.\\" [@]P2M_MAN_RULES[@]$$/{' -e "r $@.rules" -e 'd' -e '}' \
	    $(srcdir)/man/print2mail.8.in >$@.tmp && \
	rm -f $@.rules && mv $@.tmp $@

## The example config: installed as the real one only when there is none, so
## an upgrade never overwrites an admin's accounts.  Mode 0644: the filter
## runs as lp and reads it; secrets live in separate 0600 files.
p2mexampledir = $(docdir)/examples
dist_p2mexample_DATA = conf/print2mail.conf.example conf/cupsd-print2mail-policy.conf
install_data_hooks += install-p2m-conf
install-p2m-conf:
	$(MKDIR_P) $(DESTDIR)$(sysconfdir)/print2mail
	if test ! -e $(DESTDIR)$(sysconfdir)/print2mail/print2mail.conf; then \
	  $(INSTALL) -m 0644 $(srcdir)/conf/print2mail.conf.example \
	    $(DESTDIR)$(sysconfdir)/print2mail/print2mail.conf; \
	fi
uninstall_hooks += uninstall-p2m-conf
uninstall-p2m-conf:
	f=$(DESTDIR)$(sysconfdir)/print2mail/print2mail.conf; \
	if cmp -s $(srcdir)/conf/print2mail.conf.example $$f; then rm -f $$f; fi

## The backend reads root-only secrets and the token store, so cupsd must run
## it as root: that is decided by its mode alone (0700: no g+w, o+w, o+x;
## scheduler/job.c).  It drops to lp itself before touching the network (token
## requests run in a child that is already lp: lib/p2m-unpriv.c).
## cupsd also refuses backends and filters not owned by root.  A data hook:
## automake installs backenddir/filterdir programs with the data (their
## names lack "exec"), so an exec hook would run before they exist.
install_data_hooks += install-p2m-backend-mode
install-p2m-backend-mode:
	chmod 0700 $(DESTDIR)$(backenddir)/print2mail
	if test "`id -u`" = 0; then \
	  chown root:root $(DESTDIR)$(backenddir)/print2mail $(DESTDIR)$(filterdir)/print2mail-compose 2>/dev/null || true; \
	fi

CLEANFILES += conf/print2mail.ppd conf/print2mail.html man/print2mail.8
EXTRA_DIST += conf/print2mail.ppd.in man/print2mail.8.in docs scripts tests/cups-lib.sh

## Integration tests against a private root cupsd (tests/cups-lib.sh); they
## skip when not root.
TESTS += tests/integration/cups-harness.sh tests/integration/cups-e2e.sh
TESTS += tests/integration/cups-identity.sh tests/integration/cups-sigterm.sh
EXTRA_DIST += tests/integration/cups-harness.sh tests/integration/cups-e2e.sh

## make distcheck installs under its own prefix as whoever runs it (root in
## CI): every directory configure would otherwise take from the system
## (cups-config, pam.pc, /lib/systemd) goes under that prefix too.
AM_DISTCHECK_CONFIGURE_FLAGS = \
	--with-cups-serverbin='$${libdir}/cups' \
	--with-cups-datadir='$${datadir}/cups' \
	--with-pam-moduledir='$${libdir}/security' \
	--with-systemdsystemunitdir='$${libdir}/systemd/system'
