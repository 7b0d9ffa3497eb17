## lib/core.mk - plain-C core shared with the PAM module (fragment of Makefile.am).
## p2m-error lives in Makefile.am itself; the IPC framing is added by helper/helper.mk.
## Config, secrets and the state store (GLib) go into libp2m.
lib_libp2m_la_SOURCES += \
	lib/p2m-config.c lib/p2m-config.h \
	lib/p2m-secret.c lib/p2m-secret.h \
	lib/p2m-store.c lib/p2m-store.h
