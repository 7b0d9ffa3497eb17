## SPDX-License-Identifier: Apache-2.0
## filter/filter.mk - the print2mail-compose CUPS filter (fragment of Makefile.am).
## Installed in $(cups_serverbin)/filter, 0755: cupsd runs filters as lp.
filter_PROGRAMS += filter/print2mail-compose
filter_print2mail_compose_SOURCES = filter/print2mail-compose.c
filter_print2mail_compose_LDADD = $(P2M_LIBS)
