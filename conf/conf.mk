## conf/conf.mk - (fragment of Makefile.am)
