## backend/backend.mk - the CUPS backend (fragment of Makefile.am).
backend_PROGRAMS += backend/print2mail
backend_print2mail_SOURCES = backend/print2mail.c
backend_print2mail_LDADD = $(P2M_LIBS)
