## lib/net.mk - (fragment of Makefile.am)
