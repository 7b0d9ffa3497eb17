/* SPDX-License-Identifier: Apache-2.0 */
/* pam_print2mail.c - PAM module: hands the password of the person logging in (or changing it) to print2mail-helper. */
#include "config.h"

#include <errno.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include <security/pam_ext.h>
#include <security/pam_modules.h>
#include <security/pam_modutil.h>

#include "p2m-error.h"
#include "p2m-ipc.h"

/*
 * This module never decides anything about a login: every hook returns
 * PAM_IGNORE or PAM_SUCCESS whatever happens, and the whole exchange with the
 * helper is bounded by timeout= (p2m_ipc_call_trusted: non-blocking socket + poll, no
 * signals).  No static state: what auth leaves for the session goes through
 * pam_set_data().  Links no GLib: it runs inside every login process.
 */

#define STASH_KEY          "pam_print2mail_authtok"
#define DEFAULT_TIMEOUT_MS 1000
#define MAX_TIMEOUT_MS     10000
#define TEXT_MAX           256

typedef struct {
	const char *socket;            /* points into argv or at the default */
	int         timeout_ms;
	bool        debug;
	bool        forget_on_logout;
} p2m_pam_opts;

/* What auth leaves for open_session when it could not hand the password
 * over itself.  Freed (wiped) by stash_cleanup, via pam_set_data. */
typedef struct {
	size_t len;
	char   tok[];
} p2m_pam_stash;

typedef enum {
	SEND_OK,        /* the helper stored it */
	SEND_REFUSED,   /* the helper answered no: retrying will not help */
	SEND_TIMEOUT,   /* the helper hangs: retrying would only delay the login */
	SEND_DOWN       /* no helper (yet): worth one more try at session start */
} p2m_pam_send;

static void
opts_parse(pam_handle_t *pamh, int argc, const char **argv, p2m_pam_opts *o)
{
	char *end = NULL;
	long v;
	int i;

	o->socket = P2M_HELPER_SOCKET;
	o->timeout_ms = DEFAULT_TIMEOUT_MS;
	o->debug = false;
	o->forget_on_logout = false;
	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], "debug") == 0) {
			o->debug = true;
		} else if (strcmp(argv[i], "forget_on_logout") == 0) {
			o->forget_on_logout = true;
		} else if (strncmp(argv[i], "socket=", 7) == 0 && argv[i][7] == '/') {
			o->socket = argv[i] + 7;
		} else if (strncmp(argv[i], "timeout=", 8) == 0) {
			errno = 0;
			v = strtol(argv[i] + 8, &end, 10);
			if (errno == 0 && end != argv[i] + 8 && *end == '\0' && v > 0 && v <= MAX_TIMEOUT_MS)
				o->timeout_ms = (int) v;
			else
				pam_syslog(pamh, LOG_WARNING, "%s: not a timeout in ms (1..%d); using %d",
				           argv[i], MAX_TIMEOUT_MS, o->timeout_ms);
		} else {
			pam_syslog(pamh, LOG_WARNING, "unknown option ignored: %s", argv[i]);
		}
	}
}

/* PAM_USER as set by the application or an earlier module; never prompts. */
static const char *
get_user(pam_handle_t *pamh)
{
	const void *item = NULL;

	if (pam_get_item(pamh, PAM_USER, &item) != PAM_SUCCESS || item == NULL || *(const char *) item == '\0')
		return NULL;
	return item;
}

/* PAM_AUTHTOK left by the modules above (pam_unix); never prompts. */
static const char *
get_authtok(pam_handle_t *pamh)
{
	const void *item = NULL;

	if (pam_get_item(pamh, PAM_AUTHTOK, &item) != PAM_SUCCESS || item == NULL || *(const char *) item == '\0')
		return NULL;
	return item;
}

/* root's password is never captured: nothing is sent "as root", and a copy
 * of it, even encrypted, is a copy too many. */
static bool
is_root(pam_handle_t *pamh, const char *user)
{
	const struct passwd *pw = pam_modutil_getpwnam(pamh, user);

	return pw != NULL && pw->pw_uid == 0;
}

/* The socket must be the helper's (root's) or, in tests, ours: a socket a
 * user planted under a misconfigured path would otherwise receive passwords. */
static bool
socket_trusted(pam_handle_t *pamh, const p2m_pam_opts *o)
{
	struct stat st;

	if (stat(o->socket, &st) != 0)
		return true;   /* absent: the call fails fast with ENOENT */
	if (S_ISSOCK(st.st_mode) && (st.st_uid == 0 || st.st_uid == geteuid()))
		return true;
	pam_syslog(pamh, LOG_WARNING, "%s is not a socket owned by root: not handing it anything", o->socket);
	return false;
}

/* Logs the helper's refusal (its TEXT never holds a secret). */
static void
log_refusal(pam_handle_t *pamh, const p2m_pam_opts *o, const char *user, const p2m_ipc_msg *msg)
{
	char text[TEXT_MAX] = "", code[16] = "";
	const p2m_ipc_field *f;
	long c = -1;

	if ((f = p2m_ipc_find(msg, P2M_IPC_F_TEXT)) != NULL && p2m_ipc_field_str(f, text, sizeof(text)) != 0)
		text[0] = '\0';
	if ((f = p2m_ipc_find(msg, P2M_IPC_F_CODE)) != NULL && p2m_ipc_field_str(f, code, sizeof(code)) == 0)
		c = strtol(code, NULL, 10);
	/* A non-root caller (a screen locker checking the password as the
	 * user) is expected to be refused: only worth a debug line. */
	if (c == P2M_E_PERMISSION && !o->debug)
		return;
	pam_syslog(pamh, c == P2M_E_PERMISSION ? LOG_DEBUG : LOG_WARNING,
	           "print2mail-helper did not take the credential of %s: %s%s%s", user,
	           c >= 0 && c < P2M_E__COUNT ? p2m_error_name((p2m_error) c) : "error",
	           text[0] != '\0' ? ": " : "", text);
}

/* One request to the helper: OP for USER, with SECRET when not NULL. */
static p2m_pam_send
helper_call(pam_handle_t *pamh, const p2m_pam_opts *o, uint8_t op, const char *user, const char *secret)
{
	uint8_t req[P2M_IPC_MAX_FRAME], resp[P2M_IPC_MAX_FRAME];
	p2m_ipc_builder b;
	p2m_ipc_msg msg;
	p2m_pam_send r = SEND_REFUSED;
	uid_t peer = (uid_t) -1;
	ssize_t len, n;

	p2m_ipc_begin(&b, req, sizeof(req), op);
	p2m_ipc_add_str(&b, P2M_IPC_F_USER, user);
	if (secret != NULL)
		p2m_ipc_add(&b, P2M_IPC_F_SECRET, secret, strlen(secret));
	if ((len = p2m_ipc_finish(&b)) < 0) {
		pam_syslog(pamh, LOG_WARNING, "credential of %s too long for print2mail-helper: not handed over", user);
		goto out;
	}
	if (!socket_trusted(pamh, o))
		goto out;
	/* The same trust as the path's owner, for the process behind it: a
	 * socket file chowned to root can still be served by anyone. */
	n = p2m_ipc_call_trusted(o->socket, geteuid(), &peer, req, (size_t) len, resp, sizeof(resp), o->timeout_ms);
	if (n < 0 && errno == EPERM) {
		pam_syslog(pamh, LOG_WARNING, "%s is served by uid %u, not root: not handing it anything",
		           o->socket, (unsigned) peer);
		goto out;
	}
	if (n < 0) {
		r = errno == ETIMEDOUT ? SEND_TIMEOUT : SEND_DOWN;
		if (o->debug)
			pam_syslog(pamh, LOG_DEBUG, "print2mail-helper at %s: %s", o->socket, strerror(errno));
		goto out;
	}
	if (p2m_ipc_parse(resp, (size_t) n, &msg) <= 0) {
		pam_syslog(pamh, LOG_WARNING, "print2mail-helper at %s sent a malformed reply", o->socket);
		goto out;
	}
	if (msg.op != P2M_IPC_OK) {
		log_refusal(pamh, o, user, &msg);
		goto out;
	}
	r = SEND_OK;
out:
	explicit_bzero(req, sizeof(req));
	return r;
}

/* A helper that is down or hangs gets one warning per failed hand-over (a
 * refusal was already logged by log_refusal). */
static void
warn_unreachable(pam_handle_t *pamh, const p2m_pam_opts *o, p2m_pam_send r, const char *user)
{
	if (r == SEND_TIMEOUT)
		pam_syslog(pamh, LOG_WARNING, "print2mail-helper at %s did not answer within %d ms; "
		           "jobs sent as %s will ask for authentication", o->socket, o->timeout_ms, user);
	else if (r == SEND_DOWN)
		pam_syslog(pamh, LOG_WARNING, "print2mail-helper at %s is not running; "
		           "jobs sent as %s will ask for authentication", o->socket, user);
}

static void
stash_cleanup(pam_handle_t *pamh, void *data, int error_status)
{
	p2m_pam_stash *s = data;

	/* Runs from pam_end() or a replacing pam_set_data(), maybe in a forked
	 * child (PAM_DATA_SILENT): wipe in every case, no IPC, no logging. */
	if (s == NULL)
		return;
	explicit_bzero(s->tok, s->len);
	free(s);
}

/* Keeps TOK for open_session; on any failure the copy is wiped at once. */
static void
stash_put(pam_handle_t *pamh, const p2m_pam_opts *o, const char *tok)
{
	size_t len = strlen(tok);
	p2m_pam_stash *s = malloc(sizeof(*s) + len + 1);

	if (s == NULL)
		return;
	s->len = len;
	memcpy(s->tok, tok, len + 1);
	if (pam_set_data(pamh, STASH_KEY, s, stash_cleanup) != PAM_SUCCESS)
		stash_cleanup(pamh, s, 0);
	else if (o->debug)
		pam_syslog(pamh, LOG_DEBUG, "credential kept for the session phase");
}

/* Hands the password over, or stashes it when the helper is not there yet. */
int
pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	p2m_pam_opts o;
	const char *user, *tok;
	p2m_pam_send r;

	opts_parse(pamh, argc, argv, &o);
	if ((user = get_user(pamh)) == NULL || is_root(pamh, user))
		goto out;
	if ((tok = get_authtok(pamh)) == NULL) {
		if (o.debug)
			pam_syslog(pamh, LOG_DEBUG, "no password from the modules above for %s: nothing to hand over", user);
		goto out;
	}
	/* Sent now, not only at session start: under sshd this phase runs in a
	 * forked child whose pam_set_data() never reaches the session. */
	/* Only a helper that is down gets a second chance at session start:
	 * one that hangs would just delay the login twice. */
	r = helper_call(pamh, &o, P2M_IPC_PUT_PASSWORD, user, tok);
	if (r == SEND_DOWN) {
		/* Said here too: under sshd the session phase has no copy to retry with. */
		pam_syslog(pamh, LOG_NOTICE, "print2mail-helper at %s is not running; "
		           "trying again when the session opens", o.socket);
		stash_put(pamh, &o, tok);
	} else if (r == SEND_TIMEOUT)
		warn_unreachable(pamh, &o, r, user);
	else if (r == SEND_OK && o.debug)
		pam_syslog(pamh, LOG_DEBUG, "credential of %s handed to print2mail-helper", user);
out:
	return PAM_IGNORE;
}

/* pam_krb5's lesson: PAM_IGNORE from setcred confuses [jump] stacks. */
int
pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	return PAM_SUCCESS;
}

int
pam_sm_open_session(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	p2m_pam_opts o;
	const void *data = NULL;
	const p2m_pam_stash *s;
	const char *user;
	p2m_pam_send r;

	opts_parse(pamh, argc, argv, &o);
	if (pam_get_data(pamh, STASH_KEY, &data) != PAM_SUCCESS || data == NULL)
		goto out;
	s = data;
	if ((user = get_user(pamh)) == NULL)
		goto drop;
	r = helper_call(pamh, &o, P2M_IPC_PUT_PASSWORD, user, s->tok);
	if (r == SEND_OK && o.debug)
		pam_syslog(pamh, LOG_DEBUG, "credential of %s handed to print2mail-helper at session start", user);
	warn_unreachable(pamh, &o, r, user);
drop:
	/* Replacing the entry runs stash_cleanup: the copy is wiped now, not at pam_end(). */
	pam_set_data(pamh, STASH_KEY, NULL, NULL);
out:
	return PAM_SUCCESS;
}

int
pam_sm_close_session(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	p2m_pam_opts o;
	const char *user;

	opts_parse(pamh, argc, argv, &o);
	if (!o.forget_on_logout || (user = get_user(pamh)) == NULL || is_root(pamh, user))
		goto out;
	if (helper_call(pamh, &o, P2M_IPC_FORGET, user, NULL) == SEND_OK && o.debug)
		pam_syslog(pamh, LOG_DEBUG, "print2mail-helper forgot the credential of %s", user);
out:
	return PAM_SUCCESS;
}

/* The new password replaces the stored one at once: a stale one would earn
 * 535 5.7.139 at the next job and, repeated, an account lockout. */
int
pam_sm_chauthtok(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	p2m_pam_opts o;
	const char *user, *tok;
	p2m_pam_send r;

	if ((flags & PAM_UPDATE_AUTHTOK) == 0)
		goto out;
	opts_parse(pamh, argc, argv, &o);
	if ((user = get_user(pamh)) == NULL || is_root(pamh, user))
		goto out;
	if ((tok = get_authtok(pamh)) == NULL) {
		if (o.debug)
			pam_syslog(pamh, LOG_DEBUG, "no new password from the modules above for %s", user);
		goto out;
	}
	r = helper_call(pamh, &o, P2M_IPC_PUT_PASSWORD, user, tok);
	if (r == SEND_OK && o.debug)
		pam_syslog(pamh, LOG_DEBUG, "new credential of %s handed to print2mail-helper", user);
	warn_unreachable(pamh, &o, r, user);
out:
	return PAM_IGNORE;
}
