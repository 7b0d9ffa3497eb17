## lib/mime.mk - (fragment of Makefile.am)
