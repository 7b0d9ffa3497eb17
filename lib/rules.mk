## lib/rules.mk - (fragment of Makefile.am)
