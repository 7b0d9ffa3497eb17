/* SPDX-License-Identifier: Apache-2.0 */
/* p2m-smtp.c - one message over SMTP submission: TLS always, AUTH pinned, every reply read by us and the last refusal kept verbatim. */
#include "config.h"

#include <string.h>

#include <glib.h>
#include <openssl/crypto.h>

#include "p2m-debug.h"
#include "p2m-error.h"
#include "p2m-net.h"
#include "p2m-fail.h"
#include "p2m-smtp.h"
#include "p2m-text.h"
#include "p2m-wire.h"

#define LINE_MAX_KEPT 1024  /* one reply line; Microsoft's are a few hundred bytes */

static const char *const stage_names[P2M_SMTP_STAGE__COUNT] = {
	"connect", "ehlo", "starttls", "auth", "mail", "rcpt", "data", "data_end", "quit"
};

const char *
p2m_smtp_stage_name(p2m_smtp_stage s)
{
	return (unsigned) s < P2M_SMTP_STAGE__COUNT ? stage_names[s] : "unknown";
}

void
p2m_smtp_result_clear(p2m_smtp_result *res)
{
	if (res == NULL)
		return;
	g_free(res->reply);
	g_free(res->final_reply);
	memset(res, 0, sizeof(*res));
}

/* ---- the dialogue tracker (pure) ------------------------------------------- */

struct p2m_smtp_tracker {
	p2m_smtp_stage stage;     /* what the next reply answers */
	gboolean       in_auth;   /* between AUTH and its final reply: client lines are secrets */
	gboolean       sent_any;  /* a command went out */
	GString       *current;   /* the reply being read (multi-line) */
	int            cur_code;
	char          *last;      /* last complete reply */
	char          *refusal;   /* last complete 4xx/5xx reply */
	p2m_smtp_stage refusal_stage;
	int            refusal_code;
	char          *data_end;  /* the answer to the final "." */
};

p2m_smtp_tracker *
p2m_smtp_tracker_new(void)
{
	p2m_smtp_tracker *t = g_new0(p2m_smtp_tracker, 1);

	t->current = g_string_new(NULL);
	return t;
}

void
p2m_smtp_tracker_free(p2m_smtp_tracker *t)
{
	if (t == NULL)
		return;
	g_string_free(t->current, TRUE);
	g_free(t->last);
	g_free(t->refusal);
	g_free(t->data_end);
	g_free(t);
}

/* A reply line as text we can show: valid UTF-8, no control characters. */
static char *
clean_reply_line(const char *line, gsize len)
{
	g_autofree char *raw = NULL;
	char *valid, *p;

	if (len > LINE_MAX_KEPT)
		len = LINE_MAX_KEPT;
	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	raw = g_strndup(line, len);   /* stops at an embedded NUL too */
	valid = g_utf8_make_valid(raw, -1);
	for (p = valid; *p != '\0'; p++)
		if ((unsigned char) *p < 0x20 || *p == 0x7f)
			*p = ' ';
	return valid;
}

static int
reply_code(const char *s)
{
	if (g_ascii_isdigit(s[0]) && g_ascii_isdigit(s[1]) && g_ascii_isdigit(s[2]) &&
	    (s[3] == '\0' || s[3] == ' ' || s[3] == '-'))
		return (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
	return 0;
}

/* The JSON of an XOAUTH2 error challenge ("334 eyJzdGF0dXMiOiI0MDAi..."),
 * cleaned for showing; NULL for any other 334 (AUTH LOGIN's "VXNlcm5hbWU6"
 * decodes to "Username:").  Only the server's words are decoded, never
 * what the client sent. */
static char *
xoauth2_challenge(const char *reply)
{
	g_autofree guchar *raw = NULL;
	gsize n = 0;
	const char *b64 = reply + 3;

	while (*b64 == ' ')
		b64++;
	if (*b64 == '\0' || strspn(b64, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=")
	    != strlen(b64))
		return NULL;
	raw = g_base64_decode(b64, &n);
	if (raw == NULL || n < 2 || raw[0] != '{')
		return NULL;
	return clean_reply_line((const char *) raw, n);
}

static void
finish_reply(p2m_smtp_tracker *t)
{
	int code = t->cur_code;
	g_autofree char *challenge = NULL;

	g_free(t->last);
	t->last = g_strdup(t->current->str);
	/* A server may refuse an XOAUTH2 token with a 334 carrying a JSON
	 * error before its 535 (Google does; RFC 7628 3.2.2 for OAUTHBEARER).
	 * The challenge says more than the 535 that follows (which p2m_smtp_send
	 * reads untracked): keep it as the refusal, so the job is classified
	 * as a refused token. */
	if (t->stage == P2M_SMTP_STAGE_AUTH && code == 334 && (challenge = xoauth2_challenge(t->current->str)) != NULL) {
		g_free(t->refusal);
		t->refusal = g_strconcat("334 ", challenge, NULL);
		t->refusal_stage = t->stage;
		t->refusal_code = code;
	}
	if (code >= 400 && code <= 599) {
		g_free(t->refusal);
		t->refusal = g_strdup(t->current->str);
		t->refusal_stage = t->stage;
		t->refusal_code = code;
	}
	if (t->stage == P2M_SMTP_STAGE_AUTH && code != 334)
		t->in_auth = FALSE;
	if (t->stage == P2M_SMTP_STAGE_DATA_END) {
		g_free(t->data_end);
		t->data_end = g_strdup(t->current->str);
	}
	/* After "354 Start mail input" the next reply answers the final ".". */
	if (t->stage == P2M_SMTP_STAGE_DATA && code == 354)
		t->stage = P2M_SMTP_STAGE_DATA_END;
	g_string_truncate(t->current, 0);
	t->cur_code = 0;
}

void
p2m_smtp_tracker_reply_line(p2m_smtp_tracker *t, const char *line, gsize len)
{
	g_autofree char *clean = clean_reply_line(line, len);
	int code = reply_code(clean);
	gboolean more = code != 0 && clean[3] == '-';

	if (t->current->len == 0) {
		t->cur_code = code;
		g_string_append(t->current, clean);
		if (more)   /* "550-5.1.10 ..." reads as one reply: "550 5.1.10 ..." */
			t->current->str[3] = ' ';
	} else if (t->current->len < P2M_SMTP_REPLY_MAX) {
		/* a continuation: its text only, the code is the first line's */
		const char *text = code != 0 ? clean + (clean[3] != '\0' ? 4 : 3) : clean;
		g_string_append_c(t->current, ' ');
		g_string_append(t->current, text);
	}
	if (t->current->len > P2M_SMTP_REPLY_MAX)
		g_string_truncate(t->current, p2m_text_utf8_cut(t->current->str, t->current->len, P2M_SMTP_REPLY_MAX));
	if (!more)
		finish_reply(t);
}

void
p2m_smtp_tracker_command(p2m_smtp_tracker *t, const char *line, gsize len)
{
	static const struct { const char *verb; p2m_smtp_stage stage; } verbs[] = {
		{ "EHLO", P2M_SMTP_STAGE_EHLO }, { "HELO", P2M_SMTP_STAGE_EHLO },
		{ "STARTTLS", P2M_SMTP_STAGE_STARTTLS }, { "AUTH", P2M_SMTP_STAGE_AUTH },
		{ "MAIL", P2M_SMTP_STAGE_MAIL }, { "RCPT", P2M_SMTP_STAGE_RCPT },
		{ "DATA", P2M_SMTP_STAGE_DATA }, { "QUIT", P2M_SMTP_STAGE_QUIT },
	};
	char verb[12];
	gsize n = 0, i;

	/* Lines sent during AUTH are credentials: not even looked at. */
	if (t->in_auth)
		return;
	while (n < len && n < sizeof(verb) - 1 && g_ascii_isalpha(line[n])) {
		verb[n] = g_ascii_toupper(line[n]);
		n++;
	}
	verb[n] = '\0';
	if (n < len && line[n] != ' ' && line[n] != '\r' && line[n] != '\n')
		return;
	for (i = 0; i < G_N_ELEMENTS(verbs); i++) {
		if (strcmp(verb, verbs[i].verb) != 0)
			continue;
		/* A QUIT after a failure is not a step: the step that
		 * failed is the one to report. */
		if (verbs[i].stage == P2M_SMTP_STAGE_QUIT && t->sent_any && t->stage != P2M_SMTP_STAGE_DATA_END)
			return;
		t->stage = verbs[i].stage;
		t->sent_any = TRUE;
		t->in_auth = verbs[i].stage == P2M_SMTP_STAGE_AUTH;
		g_string_truncate(t->current, 0);
		return;
	}
}

const char *
p2m_smtp_tracker_refusal(const p2m_smtp_tracker *t, p2m_smtp_stage *stage, int *code)
{
	if (stage != NULL)
		*stage = t->refusal != NULL ? t->refusal_stage : t->stage;
	if (code != NULL)
		*code = t->refusal != NULL ? t->refusal_code : 0;
	return t->refusal;
}

const char *
p2m_smtp_tracker_last_reply(const p2m_smtp_tracker *t)
{
	return t->last;
}

/* ---- trust anchors ----------------------------------------------------------- */

gboolean
p2m_smtp_read_ca(const p2m_account *account, GBytes **pem, GError **error)
{
	g_autoptr(GError) err = NULL;
	g_autofree char *data = NULL;
	gsize len = 0;

	*pem = NULL;
	if (account->ca_file == NULL || *account->ca_file == '\0')
		return TRUE;
	if (!g_file_get_contents(account->ca_file, &data, &len, &err)) {
		g_set_error(error, P2M_ERROR, P2M_E_CONFIG, "[account %s] ca_file: %s", account->name, err->message);
		return FALSE;
	}
	if (len > P2M_SMTP_CA_MAX || strstr(data, "-----BEGIN CERTIFICATE-----") == NULL) {
		g_set_error(error, P2M_ERROR, P2M_E_CONFIG,
		            "[account %s] ca_file: %s is not a PEM certificate file of at most %d bytes",
		            account->name, account->ca_file, P2M_SMTP_CA_MAX);
		return FALSE;
	}
	*pem = g_bytes_new_take(g_steal_pointer(&data), len);
	return TRUE;
}

/* ---- EHLO lines and the transcript (pure) ------------------------------------ */

gboolean
p2m_smtp_parse_ehlo_size(const char *line, gsize len, guint64 *size)
{
	gsize i = 8, spaces = 0, digits = 0;
	guint64 v = 0;

	*size = 0;
	if (len < 8 || strncmp(line, "250", 3) != 0 || (line[3] != '-' && line[3] != ' ') ||
	    g_ascii_strncasecmp(line + 4, "SIZE", 4) != 0)
		return FALSE;
	for (; i < len && line[i] == ' '; i++)
		spaces++;
	for (; i < len && g_ascii_isdigit(line[i]); i++, digits++) {
		guint d = (guint) (line[i] - '0');

		if (v > (G_MAXUINT64 - d) / 10)
			return FALSE;
		v = v * 10 + d;
	}
	for (; i < len && (line[i] == ' ' || line[i] == '\r' || line[i] == '\n'); i++)
		;
	if (i != len || (digits > 0 && spaces == 0))
		return FALSE;
	*size = v;
	return TRUE;
}

int
p2m_smtp_ehlo_offers_auth(const char *line, gsize len, const char *mech)
{
	gsize i = 4, m = strlen(mech), start;

	if (len < 8 || (line[3] != '-' && line[3] != ' ') || g_ascii_strncasecmp(line + 4, "AUTH", 4) != 0)
		return -1;
	i = 8;
	if (i < len && line[i] != ' ' && line[i] != '=' && line[i] != '\r' && line[i] != '\n')
		return -1;   /* "AUTHX": another keyword */
	while (i < len) {
		while (i < len && (line[i] == ' ' || line[i] == '='))
			i++;
		start = i;
		while (i < len && line[i] != ' ' && line[i] != '\r' && line[i] != '\n')
			i++;
		if (i - start == m && g_ascii_strncasecmp(line + start, mech, m) == 0)
			return 1;
		if (i < len && (line[i] == '\r' || line[i] == '\n'))
			break;
	}
	return 0;
}

char *
p2m_smtp_debug_command(const char *line, gsize len, gboolean in_auth)
{
	g_autofree char *clean = NULL;
	gsize mech, end, rest;

	if (in_auth)
		return g_strdup("<hidden>");
	if (len < 5 || g_ascii_strncasecmp(line, "AUTH ", 5) != 0)
		return clean_reply_line(line, len);
	/* The mechanism is shown, never its initial response, which is not
	 * even copied (a copy would be freed unwiped). */
	for (mech = 5; mech < len && line[mech] == ' '; mech++)
		;
	for (end = mech; end < len && line[end] != ' ' && line[end] != '\r' && line[end] != '\n'; end++)
		;
	for (rest = end; rest < len && (line[rest] == ' ' || line[rest] == '\r' || line[rest] == '\n'); rest++)
		;
	clean = clean_reply_line(line + mech, end - mech);
	return g_strdup_printf("AUTH %s%s", clean, rest < len ? " <hidden>" : "");
}

/* ---- dot-stuffing (pure) ------------------------------------------------------- */

void
p2m_smtp_stuffer_init(p2m_smtp_stuffer *s)
{
	s->crlf = 2;   /* the message starts a line: a leading "." is doubled too */
}

gsize
p2m_smtp_stuff(p2m_smtp_stuffer *s, const char *in, gsize len, char *out)
{
	gsize i = 0, n = 0;

	/* A line at a time (memchr and memcpy): a 64 MB scan byte by byte
	 * would cost more than the TLS it feeds. */
	while (i < len) {
		const char *lf = memchr(in + i, '\n', len - i);
		gsize end = lf != NULL ? (gsize) (lf - in) + 1 : len;

		if (s->crlf == 2 && in[i] == '.')
			out[n++] = '.';
		memcpy(out + n, in + i, end - i);
		n += end - i;
		if (lf == NULL)
			s->crlf = in[end - 1] == '\r' ? 1 : 0;
		else
			s->crlf = (end - i >= 2 ? in[end - 2] == '\r' : s->crlf == 1) ? 2 : 0;
		i = end;
	}
	return n;
}

const char *
p2m_smtp_stuff_end(const p2m_smtp_stuffer *s)
{
	return s->crlf == 2 ? ".\r\n" : "\r\n.\r\n";
}

/* ---- the transfer --------------------------------------------------------------- */

#define CHUNK           (256 * 1024)  /* message bytes read at a time (fewer, fuller TLS writes); stuffed they fit in twice that */
#define REPLY_LINES_MAX 256          /* lines of one reply: a server that never ends one is broken */
#define QUIT_WAIT_S     1u           /* for the 221 after a refusal */
#define QUIT_DONE_S     5u           /* for the 221 after the message was accepted */

static guint
port_of(const p2m_account *a)
{
	return a->port != 0 ? a->port : (a->tls == P2M_TLS_IMPLICIT ? 465 : 587);
}

typedef enum { READ_TRACKED, READ_EHLO, READ_UNTRACKED } read_mode;

typedef struct {
	const p2m_smtp_request *req;
	p2m_smtp_tracker       *tracker;
	p2m_wire               *wire;
	p2m_wire_status         failed;       /* the first failure on the wire */
	char                   *protocol;     /* a reply we cannot follow */
	gboolean                tls;          /* TLS is up: what EHLO says can be believed */
	/* what the current EHLO reply offers */
	gboolean                starttls_offered;
	gboolean                size_offered;
	guint64                 server_size;  /* its SIZE, 0 = no fixed limit */
	gboolean                auth_offered; /* our mechanism */
	char                   *no_auth;      /* the AUTH mechanisms when ours was not among them ("" = none) */
	gboolean                no_starttls;
	GError                 *read_error;
	char                   *too_large;    /* why the message was stopped as too large */
	guint64                 bytes;
	gboolean                all_sent;     /* the final "." was written whole */
	gboolean                accepted;     /* and the server took the message */
	gboolean                canceled;
	gboolean                unconfirmed;  /* canceled while the server had not answered the final "." */
	gint64                  cancel_seen;  /* monotonic µs of a cancel after the final ".", 0 = none */
	gboolean                quit_sent;
	p2m_smtp_stage          work;         /* the step under way (QUIT excepted) */
	gint64                  start;        /* monotonic µs, for the transcript */
} xfer;

static gboolean
is_canceled(const xfer *x)
{
	return x->req->cancel != NULL && *x->req->cancel != 0;
}

static unsigned
timeout_of(const p2m_smtp_request *req)
{
	return req->timeout_s > 0 ? (unsigned) req->timeout_s : P2M_DEFAULT_TIMEOUT;
}

static double
elapsed(const xfer *x)
{
	return (double) (g_get_monotonic_time() - x->start) / G_USEC_PER_SEC;
}

/* Asked by every wait.  Before the final "." is out, a cancel ends the job
 * at once and the server keeps nothing.  After it the answer is awaited:
 * cut now, and the server might keep the message without our knowing.
 * But not longer than P2M_SMTP_CANCEL_GRACE_S (or the timeout, if
 * shorter): cupsd kills a backend 30 s after its SIGTERM (JobKillDelay),
 * and a killed backend says nothing at all. */
static gboolean
stop_cb(void *ctx)
{
	xfer *x = ctx;
	gint64 now, grace;

	if (!is_canceled(x))
		return FALSE;
	if (x->accepted)
		return TRUE;   /* only the QUIT is left: nothing to lose */
	if (!x->all_sent) {
		x->canceled = TRUE;
		return TRUE;
	}
	now = g_get_monotonic_time();
	if (x->cancel_seen == 0)
		x->cancel_seen = now;
	grace = (gint64) MIN(P2M_SMTP_CANCEL_GRACE_S, timeout_of(x->req)) * G_USEC_PER_SEC;
	if (now - x->cancel_seen < grace)
		return FALSE;
	x->canceled = TRUE;
	x->unconfirmed = TRUE;
	return TRUE;
}

static gboolean
wire_ok(xfer *x, p2m_wire_status st)
{
	if (st != P2M_WIRE_OK && x->failed == P2M_WIRE_OK)
		x->failed = st;
	return st == P2M_WIRE_OK;
}

/* The limit in force: the smaller of max_message_size and the server's
 * SIZE, 0 when neither is set. */
static guint64
size_limit(const xfer *x)
{
	guint64 ours = x->req->max_size, theirs = x->server_size;

	return ours == 0 || (theirs != 0 && theirs < ours) ? theirs : ours;
}

/* Keeps why the message is refused as too large.  SIZE is its exact size,
 * or 0 when it was counted while sending and passed the limit. */
static void
stop_too_large(xfer *x, guint64 size)
{
	const p2m_account *a = x->req->account;
	guint64 limit = size_limit(x);
	g_autofree char *which = NULL;
	g_autofree char *what = NULL;

	if (limit == x->server_size && limit != x->req->max_size)
		which = g_strdup_printf("the %" G_GUINT64_FORMAT " bytes the mail server %s:%u accepts (its EHLO SIZE)",
		                        limit, a->server, port_of(a));
	else
		which = g_strdup_printf("max_message_size = %" G_GUINT64_FORMAT " of [account %s]", limit, a->name);
	if (size != 0)
		what = g_strdup_printf("the message is %" G_GUINT64_FORMAT " bytes, over %s; none of it was sent",
		                       size, which);
	else
		what = g_strdup_printf("while it was being sent the message passed %s; the transfer was stopped "
		                       "before its end, so the server accepted nothing", which);
	g_free(x->too_large);
	x->too_large = g_steal_pointer(&what);
}

/* A known size over the limit: TRUE after stop_too_large. */
static gboolean
known_too_large(xfer *x)
{
	guint64 limit = size_limit(x);

	if (limit == 0 || x->req->size <= limit)
		return FALSE;
	stop_too_large(x, x->req->size);
	return TRUE;
}

/* The EHLO name: this host's name when it is a plain DNS name. */
static const char *
ehlo_name(void)
{
	const char *h = g_get_host_name();
	gsize n = strlen(h);

	if (n == 0 || n > 253 || strspn(h, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") != n)
		return "localhost";
	return h;
}

/* One command line (CRLF included) to the server.  TRACK: the tracker
 * follows it (a QUIT at the end is not a step of the job).  SECRET: an
 * AUTH payload; the transcript hides it, and the caller wipes it. */
static p2m_wire_status
write_line(xfer *x, const char *line, gboolean track, gboolean secret)
{
	gsize len = strlen(line);
	gboolean hidden = secret || (track && x->tracker->in_auth);

	if (track) {
		p2m_smtp_tracker_command(x->tracker, line, len);
		if (x->tracker->stage != P2M_SMTP_STAGE_QUIT)
			x->work = x->tracker->stage;
	}
	if (p2m_debug_enabled()) {
		/* an AUTH command shows its mechanism, only what follows is hidden */
		g_autofree char *shown = p2m_smtp_debug_command(line, len,
		                                                hidden && g_ascii_strncasecmp(line, "AUTH ", 5) != 0);

		p2m_debug("smtp +%.3fs C: %s", elapsed(x), shown);
	}
	return p2m_wire_write(x->wire, line, len);
}

static gboolean
command(xfer *x, const char *line)
{
	return wire_ok(x, write_line(x, line, TRUE, FALSE));
}

/* An AUTH line carrying PREFIX and the base64 of RAW; wiped after use. */
static gboolean
secret_command(xfer *x, const char *prefix, const char *raw, gsize len)
{
	char *b64 = g_base64_encode((const guchar *) raw, len);
	char *line = g_strconcat(prefix, b64, "\r\n", NULL);
	gboolean ok = wire_ok(x, write_line(x, line, TRUE, TRUE));

	OPENSSL_cleanse(b64, strlen(b64));
	OPENSSL_cleanse(line, strlen(line));
	g_free(b64);
	g_free(line);
	return ok;
}

/* One line of an EHLO reply (not its first, the server's name). */
static void
ehlo_line(xfer *x, const char *line, gsize len)
{
	const char *mech = x->req->bearer != NULL ? "XOAUTH2" : "LOGIN";
	guint64 limit = 0;
	int offered;

	if (len >= 12 && g_ascii_strncasecmp(line + 4, "STARTTLS", 8) == 0 &&
	    (len == 12 || line[12] == '\r' || line[12] == ' '))
		x->starttls_offered = TRUE;
	if (!x->tls)
		return;   /* before TLS only STARTTLS counts: the rest may be forged */
	if (p2m_smtp_parse_ehlo_size(line, len, &limit)) {
		x->size_offered = TRUE;
		x->server_size = limit;
	}
	if ((offered = p2m_smtp_ehlo_offers_auth(line, len, mech)) >= 0) {
		x->auth_offered = x->auth_offered || offered == 1;
		if (offered == 0 && x->no_auth == NULL)
			x->no_auth = clean_reply_line(line + 4, len - 4);
	}
}

/* The next reply: its code, or -1 when the wire failed (or it had too
 * many lines).  Tracked replies feed the tracker; an untracked one (a
 * QUIT's, the end of a refused XOAUTH2 exchange) only the transcript. */
static int
read_reply(xfer *x, read_mode mode)
{
	/* One deadline for the whole reply: a server that trickles one line
	 * just inside the timeout, again and again, is a stalled server. */
	gint64 deadline = p2m_wire_deadline(x->wire);
	char line[LINE_MAX_KEPT + 3];
	gsize len, n;

	for (n = 0; n < REPLY_LINES_MAX; n++) {
		gboolean first = x->tracker->current->len == 0;

		if (!wire_ok(x, p2m_wire_read_line(x->wire, deadline, line, sizeof(line), &len)))
			return -1;
		if (p2m_debug_enabled()) {
			g_autofree char *shown = clean_reply_line(line, len);

			p2m_debug("smtp +%.3fs S: %s", elapsed(x), shown);
		}
		if (mode == READ_UNTRACKED) {
			if (len < 4 || line[3] != '-')
				return reply_code(line);
			continue;
		}
		if (mode == READ_EHLO && !first)
			ehlo_line(x, line, len);
		p2m_smtp_tracker_reply_line(x->tracker, line, len);
		if (x->tracker->stage != P2M_SMTP_STAGE_QUIT)
			x->work = x->tracker->stage;   /* after a 354: data_end */
		if (x->tracker->current->len == 0)
			return reply_code(x->tracker->last);
	}
	g_free(x->protocol);
	x->protocol = g_strdup_printf("a reply of more than %d lines", REPLY_LINES_MAX);
	return -1;
}

/* QUIT, and a short wait for the 221 before closing: without it servers
 * log "lost connection after AUTH", which fail2ban and log watchers count
 * as an attack.  Failures here change nothing about the job. */
static void
say_quit(xfer *x, unsigned wait_s)
{
	if (x->quit_sent || !p2m_wire_connected(x->wire))
		return;
	x->quit_sent = TRUE;
	p2m_wire_set_timeout(x->wire, MIN(wait_s, timeout_of(x->req)));
	if (write_line(x, "QUIT\r\n", FALSE, FALSE) == P2M_WIRE_OK) {
		char line[LINE_MAX_KEPT + 3];
		gsize len;

		if (p2m_wire_read_line(x->wire, p2m_wire_deadline(x->wire), line, sizeof(line), &len) == P2M_WIRE_OK &&
		    p2m_debug_enabled()) {
			g_autofree char *shown = clean_reply_line(line, len);

			p2m_debug("smtp +%.3fs S: %s", elapsed(x), shown);
		}
	}
}

/* CODE answered a step that wanted WANT (first digit 2 or 3): FALSE, with
 * a polite QUIT, when it is anything else.  A 4xx/5xx is already the
 * tracker's refusal; anything else is a reply we cannot follow. */
static gboolean
expect(xfer *x, int code, int want)
{
	if (code >= 0 && code / 100 == want)
		return TRUE;
	if (code < 0 && x->protocol == NULL)
		return FALSE;   /* the wire failed: nothing to say QUIT on */
	if (code >= 0 && (code < 400 || code > 599)) {
		g_autofree char *shown = clean_reply_line(x->tracker->last != NULL ? x->tracker->last : "", 200);

		g_free(x->protocol);
		x->protocol = g_strdup_printf("unexpected reply to %s: \"%s\"",
		                              p2m_smtp_stage_name(x->tracker->stage), shown);
	}
	say_quit(x, QUIT_WAIT_S);
	return FALSE;
}

static gboolean
start_tls(xfer *x)
{
	g_autofree char *about = NULL;

	if (!wire_ok(x, p2m_wire_start_tls(x->wire, P2M_SMTP_CAPATH, x->req->ca_pem)))
		return FALSE;
	x->tls = TRUE;
	if (p2m_debug_enabled()) {
		about = p2m_wire_describe_tls(x->wire);
		p2m_debug("smtp +%.3fs * %s", elapsed(x), about);
	}
	return TRUE;
}

/* EHLO, its answer read for STARTTLS, SIZE and AUTH (RFC 5321 2.4: in any
 * case).  A refused EHLO is reported: without EHLO there is neither
 * STARTTLS nor AUTH, so falling back to HELO could not get further. */
static gboolean
ehlo(xfer *x)
{
	g_autofree char *line = g_strdup_printf("EHLO %s\r\n", ehlo_name());

	x->starttls_offered = x->size_offered = x->auth_offered = FALSE;
	x->server_size = 0;
	g_clear_pointer(&x->no_auth, g_free);
	return command(x, line) && expect(x, read_reply(x, READ_EHLO), 2);
}

/* The mechanism is pinned: AUTH LOGIN for a password, XOAUTH2 for a
 * token, never another one the server might prefer. */
static gboolean
authenticate(xfer *x)
{
	const p2m_smtp_request *req = x->req;
	gboolean ok = FALSE;
	char *raw;
	int code;

	if (req->bearer == NULL) {
		const p2m_secret *pw = req->password;

		return command(x, "AUTH LOGIN\r\n") && expect(x, read_reply(x, READ_TRACKED), 3) &&
		       secret_command(x, "", req->username, strlen(req->username)) &&
		       expect(x, read_reply(x, READ_TRACKED), 3) &&
		       secret_command(x, "", pw != NULL ? pw->data : "", pw != NULL ? pw->len : 0) &&
		       expect(x, read_reply(x, READ_TRACKED), 2);
	}
	raw = g_strdup_printf("user=%s\001auth=Bearer %s\001\001", req->username, req->bearer->data);
	ok = secret_command(x, "AUTH XOAUTH2 ", raw, strlen(raw));
	OPENSSL_cleanse(raw, strlen(raw));
	g_free(raw);
	if (!ok || (code = read_reply(x, READ_TRACKED)) < 0)
		return FALSE;
	if (code == 334) {
		/* An error challenge (JSON, RFC 7628 3.2.2): the tracker keeps
		 * it as the refusal, the clearest words there are.  The empty
		 * response ends the exchange; its final 535 says less. */
		if (wire_ok(x, write_line(x, "\r\n", FALSE, TRUE)))
			(void) read_reply(x, READ_UNTRACKED);
		say_quit(x, QUIT_WAIT_S);
		return FALSE;
	}
	return expect(x, code, 2);
}

static gboolean
envelope(xfer *x)
{
	const p2m_smtp_request *req = x->req;
	g_autofree char *from = NULL;
	const char *const *r;

	/* SIZE= (RFC 1870): a server with a lower limit than it said refuses at MAIL. */
	if (x->size_offered && req->size > 0)
		from = g_strdup_printf("MAIL FROM:<%s> SIZE=%" G_GUINT64_FORMAT "\r\n", req->mail_from, req->size);
	else
		from = g_strdup_printf("MAIL FROM:<%s>\r\n", req->mail_from);
	if (!command(x, from) || !expect(x, read_reply(x, READ_TRACKED), 2))
		return FALSE;
	/* One refused recipient ends the job: no partial delivery. */
	for (r = req->rcpt; *r != NULL; r++) {
		g_autofree char *to = g_strdup_printf("RCPT TO:<%s>\r\n", *r);

		if (!command(x, to) || !expect(x, read_reply(x, READ_TRACKED), 2))
			return FALSE;
	}
	return command(x, "DATA\r\n") && expect(x, read_reply(x, READ_TRACKED), 3);
}

/* The message, dot-stuffed, then the final ".".  Anything that stops it
 * before the "." (a cancel, a failed read, the size limit) leaves the
 * server with nothing to accept. */
static gboolean
upload(xfer *x)
{
	const p2m_smtp_request *req = x->req;
	g_autofree char *in = g_malloc(CHUNK);
	g_autofree char *out = g_malloc(2 * CHUNK);
	p2m_smtp_stuffer st;

	p2m_smtp_stuffer_init(&st);
	for (;;) {
		gsize want = CHUNK;
		gssize n;

		if (stop_cb(x))
			return FALSE;
		if (req->size > 0) {
			if (x->bytes >= req->size)
				break;   /* an announced size is exact: stop at it */
			want = (gsize) MIN((guint64) want, req->size - x->bytes);
		}
		if ((n = req->read(req->read_ctx, in, want, &x->read_error)) < 0) {
			/* A read interrupted by SIGTERM is a cancel, not a bad document. */
			x->canceled = is_canceled(x);
			return FALSE;
		}
		if (n == 0 && req->size > 0) {
			g_set_error(&x->read_error, P2M_ERROR, P2M_E_DOCUMENT, "the message ended after %" G_GUINT64_FORMAT
			            " of its %" G_GUINT64_FORMAT " bytes", x->bytes, req->size);
			return FALSE;
		}
		if (n == 0)
			break;
		/* A size not known in advance is counted. */
		if (size_limit(x) != 0 && x->bytes + (guint64) n > size_limit(x)) {
			stop_too_large(x, 0);
			return FALSE;
		}
		x->bytes += (guint64) n;
		if (!wire_ok(x, p2m_wire_write(x->wire, out, p2m_smtp_stuff(&st, in, (gsize) n, out))))
			return FALSE;
	}
	/* The last moment a cancel leaves the server with nothing: cupsd
	 * stops the filters first, so the input's end may come just before
	 * the backend's own SIGTERM. */
	if (stop_cb(x))
		return FALSE;
	if (!wire_ok(x, p2m_wire_write(x->wire, p2m_smtp_stuff_end(&st), strlen(p2m_smtp_stuff_end(&st)))))
		return FALSE;
	x->all_sent = TRUE;
	p2m_debug("smtp +%.3fs C: <the message, %" G_GUINT64_FORMAT " bytes> .", elapsed(x), x->bytes);
	return TRUE;
}

/* The whole dialogue: TRUE when the server accepted the message. */
static gboolean
dialogue(xfer *x)
{
	const p2m_account *a = x->req->account;

	if (!wire_ok(x, p2m_wire_connect(x->wire)))
		return FALSE;
	p2m_debug("smtp +%.3fs * Connected to %s (%s)", elapsed(x), a->server, p2m_wire_peer(x->wire));
	if (a->tls == P2M_TLS_IMPLICIT && !start_tls(x))
		return FALSE;
	if (!expect(x, read_reply(x, READ_TRACKED), 2) || !ehlo(x))
		return FALSE;
	if (!x->tls) {
		if (!x->starttls_offered) {
			x->no_starttls = TRUE;
			say_quit(x, QUIT_WAIT_S);
			return FALSE;
		}
		if (!command(x, "STARTTLS\r\n") || !expect(x, read_reply(x, READ_TRACKED), 2) ||
		    !start_tls(x) || !ehlo(x))
			return FALSE;
	}
	/* Before AUTH: nothing is offered to a server that cannot take the
	 * message, nor sent unauthenticated to one that offers no AUTH we use. */
	if (known_too_large(x) || !x->auth_offered) {
		if (x->too_large == NULL && x->no_auth == NULL)
			x->no_auth = g_strdup("");
		say_quit(x, QUIT_WAIT_S);
		return FALSE;
	}
	if (!authenticate(x) || !envelope(x) || !upload(x) || !expect(x, read_reply(x, READ_TRACKED), 2))
		return FALSE;
	x->accepted = TRUE;
	say_quit(x, QUIT_DONE_S);
	return TRUE;
}

/* The connection was closed under us, or the answer to the final "."
 * never came.  Before the final "." the server keeps nothing; after it,
 * only the server knows (RFC 5321 6.1, the one way SMTP duplicates a
 * message): say which. */
static void
lost_message(const xfer *x, p2m_smtp_result *res, GError **error)
{
	const p2m_account *a = x->req->account;

	res->after_dot = res->stage == P2M_SMTP_STAGE_DATA_END && x->all_sent;
	if (res->after_dot && res->fault == P2M_NET_STALLED)
		g_set_error(error, P2M_ERROR, P2M_E_CONNECT,
		            "the mail server %s:%u did not confirm the message within %u s (timeout) after the whole "
		            "message (%" G_GUINT64_FORMAT " bytes) was sent; it is sent again, so if the server kept it "
		            "it may arrive twice", a->server, port_of(a), timeout_of(x->req), x->bytes);
	else if (res->after_dot)
		g_set_error(error, P2M_ERROR, P2M_E_CONNECT,
		            "the connection to the mail server %s:%u was lost after the whole message (%" G_GUINT64_FORMAT
		            " bytes) was on its way, before the server confirmed it; it is sent again, so if the "
		            "server got it all it may arrive twice",
		            a->server, port_of(a), x->bytes);
	else if (res->stage == P2M_SMTP_STAGE_DATA_END)
		g_set_error(error, P2M_ERROR, P2M_E_CONNECT,
		            "the connection to the mail server %s:%u was lost during the upload, after %" G_GUINT64_FORMAT
		            " bytes of the message; the server accepted nothing", a->server, port_of(a), x->bytes);
	else
		g_set_error(error, P2M_ERROR, P2M_E_CONNECT,
		            "the connection to the mail server %s:%u was lost during %s, before the message was sent",
		            a->server, port_of(a), p2m_smtp_stage_name(res->stage));
}

/* Any reply, even the greeting, means the server was reached. */
static p2m_net_fault
fault_of(const xfer *x)
{
	if (x->failed == P2M_WIRE_OK)
		return x->protocol != NULL ? P2M_NET_OTHER : P2M_NET_OK;
	return p2m_net_fault_of(x->failed, x->tracker->last != NULL || x->tracker->sent_any);
}

/* The failures that are ours to explain, not the server's: TRUE when one
 * was set into ERROR. */
static gboolean
own_failure(xfer *x, p2m_smtp_result *res, GError **error)
{
	const p2m_account *a = x->req->account;

	if (x->canceled) {
		if (x->unconfirmed)
			g_set_error(error, P2M_ERROR, P2M_E_CANCELED,
			            "the job was canceled after the whole message was sent; the server had not "
			            "confirmed it %u s later, so it may have been delivered",
			            MIN(P2M_SMTP_CANCEL_GRACE_S, timeout_of(x->req)));
		else
			g_set_error(error, P2M_ERROR, P2M_E_CANCELED, "the job was canceled while sending (%s)",
			            p2m_smtp_stage_name(res->stage));
	} else if (x->too_large != NULL) {
		g_set_error_literal(error, P2M_ERROR, P2M_E_TOO_LARGE, x->too_large);
	} else if (x->no_starttls) {
		p2m_fail_set(error, P2M_E_CONFIG, p2m_rules_find("no-starttls"),
		             "%s:%u does not offer STARTTLS; nothing was sent: check port and tls",
		             a->server, port_of(a));
	} else if (x->no_auth != NULL) {
		p2m_fail_set(error, P2M_E_CONFIG, p2m_rules_find("no-auth-mechanism"),
		             "%s:%u offers no AUTH %s after STARTTLS (%s%s); nothing was sent: check port and tls",
		             a->server, port_of(a), x->req->bearer != NULL ? "XOAUTH2" : "LOGIN",
		             *x->no_auth != '\0' ? "it offers AUTH " : "it offers no AUTH at all", x->no_auth);
	} else if (x->read_error != NULL) {
		g_propagate_prefixed_error(error, g_steal_pointer(&x->read_error), "reading the message: ");
	} else {
		return FALSE;
	}
	return TRUE;
}

/* Turn what happened into RES and ERROR. */
static gboolean
conclude(gboolean ok, xfer *x, p2m_smtp_result *res, GError **error)
{
	const p2m_account *a = x->req->account;
	const char *refusal = p2m_smtp_tracker_refusal(x->tracker, &res->stage, &res->code);
	const char *detail = x->protocol != NULL ? x->protocol : p2m_wire_detail(x->wire);

	res->bytes = x->bytes;
	res->reply = g_strdup(refusal);
	if (ok) {
		res->final_reply = g_strdup(x->tracker->data_end);
		return TRUE;
	}
	if (own_failure(x, res, error))
		return FALSE;
	res->fault = fault_of(x);
	if (refusal == NULL && (res->fault == P2M_NET_STALLED || res->fault == P2M_NET_LOST))
		res->stage = x->work;
	if (refusal == NULL && res->fault == P2M_NET_STALLED && !(x->all_sent && res->stage == P2M_SMTP_STAGE_DATA_END))
		g_set_error(error, P2M_ERROR, P2M_E_CONNECT,
		            "the mail server %s:%u stopped answering during %s: nothing moved for %u s (timeout)",
		            a->server, port_of(a), p2m_smtp_stage_name(res->stage), timeout_of(x->req));
	else if (refusal == NULL && (res->fault == P2M_NET_LOST || res->fault == P2M_NET_STALLED))
		lost_message(x, res, error);   /* lost, or silent after the final "." */
	else if (x->failed == P2M_WIRE_TLS_VERIFY)
		g_set_error(error, P2M_ERROR, P2M_E_TLS_VERIFY, "the certificate of %s:%u is not trusted: %s",
		            a->server, port_of(a), detail);
	else if (refusal != NULL)
		/* The reply is classified here, where it is known: the rule
		 * travels with the error (p2m-fail.h). */
		p2m_fail_set(error, P2M_E_SMTP, p2m_rules_classify_smtp(refusal, strlen(refusal)),
		             "%s:%u refused %s: %s", a->server, port_of(a), p2m_smtp_stage_name(res->stage), refusal);
	else
		g_set_error(error, P2M_ERROR, x->failed == P2M_WIRE_TLS ? P2M_E_TLS : P2M_E_CONNECT, "%s:%u (%s): %s",
		            a->server, port_of(a), p2m_smtp_stage_name(res->stage), detail);
	return FALSE;
}

/* The transcript's last line: how long each part took and how it ended. */
static void
debug_summary(const xfer *x, gboolean ok)
{
	double dns, conn, tls;

	if (!p2m_debug_enabled())
		return;
	p2m_wire_times(x->wire, &dns, &conn, &tls);
	p2m_debug("smtp: %s after %.3f s (DNS %.3f s, connected %.3f s, TLS up %.3f s), %" G_GUINT64_FORMAT
	          " message bytes%s%s", ok ? "done" : "stopped", elapsed(x), dns, conn, tls, x->bytes,
	          ok || x->failed == P2M_WIRE_OK ? "" : ": ", ok || x->failed == P2M_WIRE_OK ? "" : p2m_wire_detail(x->wire));
}

gboolean
p2m_smtp_send(const p2m_smtp_request *req, p2m_smtp_result *res, GError **error)
{
	g_autoptr(p2m_smtp_tracker) tracker = p2m_smtp_tracker_new();
	xfer x = { .req = req, .tracker = tracker };
	gboolean ok;

	memset(res, 0, sizeof(*res));
	if (req->rcpt == NULL || req->rcpt[0] == NULL || req->mail_from == NULL || req->read == NULL ||
	    req->username == NULL || (req->password == NULL) == (req->bearer == NULL)) {
		g_set_error(error, P2M_ERROR, P2M_E_INTERNAL, "p2m_smtp_send: incomplete request");
		return FALSE;
	}
	x.start = g_get_monotonic_time();
	x.wire = p2m_wire_new(req->account->server, port_of(req->account), timeout_of(req), stop_cb, &x);
	p2m_debug("smtp: %s:%u as %s, %s, AUTH %s", req->account->server, port_of(req->account), req->username,
	          req->account->tls == P2M_TLS_IMPLICIT ? "implicit TLS" : "STARTTLS",
	          req->bearer != NULL ? "XOAUTH2" : "LOGIN");
	ok = dialogue(&x);
	ok = conclude(ok, &x, res, error);
	debug_summary(&x, ok);
	/* A job given up is cut at once; closing resets the connection
	 * (SO_LINGER 0), so nothing still buffered reaches the server. */
	if (!ok)
		p2m_wire_cut(x.wire);
	p2m_wire_free(x.wire);
	g_clear_error(&x.read_error);
	g_free(x.too_large);
	g_free(x.no_auth);
	g_free(x.protocol);
	return ok;
}
