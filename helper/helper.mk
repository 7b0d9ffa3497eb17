## helper/helper.mk - (fragment of Makefile.am)
