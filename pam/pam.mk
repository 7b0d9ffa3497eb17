## pam/pam.mk - (fragment of Makefile.am)
