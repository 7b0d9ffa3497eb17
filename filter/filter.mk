## filter/filter.mk - (fragment of Makefile.am)
