/* SPDX-License-Identifier: Apache-2.0 */
/* p2m-smtp.c - one message over SMTP submission with libcurl: TLS always, AUTH pinned, the server's last refusal kept verbatim. */
#include "config.h"

#include <string.h>

#include <poll.h>
#include <sys/socket.h>

#include <curl/curl.h>
#include <glib.h>
#include <openssl/ssl.h>

#include "p2m-debug.h"
#include "p2m-error.h"
#include "p2m-net.h"
#include "p2m-fail.h"
#include "p2m-smtp.h"
#include "p2m-text.h"

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
	 * libcurl gives up on that 334 without reading the 535, so the
	 * challenge is the only refusal there is: keep it as one, so the job
	 * is classified as a refused token, not as a network failure. */
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
		/* libcurl says QUIT as it closes a connection that already
		 * failed: the step that failed is the one to report. */
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

/* ---- the transfer --------------------------------------------------------------- */

static guint
port_of(const p2m_account *a)
{
	return a->port != 0 ? a->port : (a->tls == P2M_TLS_IMPLICIT ? 465 : 587);
}

typedef struct {
	CURL                   *h;
	const p2m_smtp_request *req;
	p2m_smtp_tracker       *tracker;
	GError                 *read_error;
	gboolean                canceled;
	gboolean                eof;          /* the reader said "end": libcurl sends the final "." next */
	p2m_smtp_stage          work;         /* the last step but QUIT (libcurl sends QUIT into a dead connection) */
	guint64                 bytes;
	gboolean                tls;          /* TLS is up: what EHLO says can be believed */
	guint64                 server_size;  /* SIZE of the current EHLO reply, 0 = none */
	char                   *too_large;    /* why the message was stopped as too large */
	gint64                  start;        /* monotonic µs at the start, for the transcript */
	gboolean                auth_offered; /* the current EHLO reply offers our AUTH mechanism */
	char                   *no_auth;      /* the mechanisms offered when ours was not */
	gboolean                quit_sent;    /* QUIT said after a refusal */
	curl_socket_t           fd;           /* the connection's socket (SOCKOPTFUNCTION) */
	gint64                  cancel_seen;  /* monotonic µs of a cancel after the final ".", 0 = none */
	gboolean                unconfirmed;  /* canceled while the server had not answered the final "." */
} xfer;

/* The whole message is with libcurl: the final "." goes (or went) next.
 * With a known size libcurl stops reading at it, without a last call. */
static gboolean
all_sent(const xfer *x)
{
	return x->eof || (x->req->size > 0 && x->bytes >= x->req->size);
}

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

/* RFC 5321 2.4: EHLO keywords are case-insensitive, but libcurl compares
 * "STARTTLS" and "AUTH " byte for byte.  A server answering "250-starttls"
 * would look as if it offered no STARTTLS (the job retried for ever), and
 * one answering "250-auth login xoauth2" as if it offered no AUTH (the
 * mail goes out unauthenticated and meets 5.7.57, stopping the queue).
 * libcurl hands each reply line to the header callback in its own buffer
 * before it parses the line, so the keyword is upper-cased there, in place
 * and at the same length; on AUTH lines the mechanism names too (SASL names
 * are upper case, RFC 4422 3.1).  A libcurl that passed a copy would just
 * not see the change: nothing else depends on it. */
void
p2m_smtp_normalize_ehlo_line(char *line, gsize len)
{
	gsize i = 4, end;
	gboolean auth;

	if (len < 5 || strncmp(line, "250", 3) != 0 || (line[3] != '-' && line[3] != ' '))
		return;
	for (end = i; end < len && (g_ascii_isalnum(line[end]) || line[end] == '-'); end++)
		;
	auth = end - i == 4 && g_ascii_strncasecmp(line + i, "AUTH", 4) == 0;
	if (auth)   /* "AUTH login xoauth2" and the old "AUTH=login" form */
		while (end < len && line[end] != '\r' && line[end] != '\n')
			end++;
	for (; i < end; i++)
		line[i] = g_ascii_toupper(line[i]);
}

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

/* The limit in force: the smaller of max_message_size and the server's
 * SIZE, 0 when neither is set. */
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

static double
elapsed(const xfer *x)
{
	return (double) (g_get_monotonic_time() - x->start) / G_USEC_PER_SEC;
}

/* After some refusals libcurl drops the connection without QUIT (it treats
 * the error as a premature end), so the server logs "lost connection
 * after AUTH", which fail2ban and log watchers count as an attack.  Say
 * QUIT ourselves, on the connection's TLS session (or the plain socket
 * before STARTTLS), at the one moment nothing else is in flight: the
 * refusal was just read and libcurl will send nothing more.  Not after
 * an EHLO refusal (libcurl falls back to HELO) nor a greeting (the
 * server closes). */
static void
say_quit(xfer *x)
{
	struct curl_tlssessioninfo *ti = NULL;
	curl_socket_t s = CURL_SOCKET_BAD;
	SSL *ssl = NULL;
	gboolean sent = FALSE;
	char answer[256];
	gsize got = 0;
	gint64 until;
	int n;

	if (x->quit_sent || x->h == NULL)
		return;
	x->quit_sent = TRUE;
	if (curl_easy_getinfo(x->h, CURLINFO_TLS_SSL_PTR, &ti) == CURLE_OK && ti != NULL &&
	    ti->backend == CURLSSLBACKEND_OPENSSL && ti->internals != NULL)
		ssl = ti->internals;
	/* libcurl reports no active socket while a transfer runs (and its TLS
	 * goes through its own BIO): the socket was noted when it was made. */
	s = x->fd;
	if (s == CURL_SOCKET_BAD) {
		p2m_debug("smtp +%.3fs C: QUIT could not be sent (no socket)", elapsed(x));
		return;
	}
	if (ssl != NULL)
		sent = SSL_write(ssl, "QUIT\r\n", 6) == 6;
	else if (!x->tls || x->tracker->refusal_stage == P2M_SMTP_STAGE_STARTTLS)
		sent = send(s, "QUIT\r\n", 6, MSG_NOSIGNAL) == 6;   /* no TLS yet: plain text is right */
	p2m_debug("smtp +%.3fs C: QUIT%s", elapsed(x), sent ? " (after the refusal)" : " could not be sent");
	/* A polite client reads the 221 before it closes (servers may drop
	 * a line still unread when the peer is gone); a second at most. */
	until = g_get_monotonic_time() + G_USEC_PER_SEC;
	while (sent && got < sizeof(answer) - 1 && memchr(answer, '\n', got) == NULL) {
		struct pollfd pfd = { .fd = s, .events = POLLIN };
		gint64 left = (until - g_get_monotonic_time()) / 1000;

		if (left <= 0 || ((ssl == NULL || SSL_pending(ssl) == 0) && poll(&pfd, 1, (int) left) <= 0))
			break;
		n = ssl != NULL ? SSL_read(ssl, answer + got, (int) (sizeof(answer) - 1 - got)) :
		    (int) recv(s, answer + got, sizeof(answer) - 1 - got, 0);
		if (n <= 0 && (ssl == NULL || SSL_get_error(ssl, n) != SSL_ERROR_WANT_READ))
			break;
		got += n > 0 ? (gsize) n : 0;
	}
	answer[got] = '\0';
	if (got > 0) {
		g_autofree char *line = clean_reply_line(answer, strcspn(answer, "\r\n"));

		p2m_debug("smtp +%.3fs S: %s", elapsed(x), line);
	}
}

/* libcurl says QUIT itself after a refusal of MAIL, RCPT or DATA, but
 * not after one of STARTTLS, AUTH or the message's end. */
static gboolean
quit_after(p2m_smtp_stage stage)
{
	return stage == P2M_SMTP_STAGE_STARTTLS || stage == P2M_SMTP_STAGE_AUTH || stage == P2M_SMTP_STAGE_DATA_END;
}

/* Each EHLO reply line (but the first, the server's name) is normalized
 * for libcurl and, under TLS, its SIZE kept.  At the end of an EHLO reply
 * under TLS a message known to be too large is stopped there, before AUTH
 * and MAIL: returning less than the line makes libcurl give up. */
static size_t
header_cb(char *buf, size_t size, size_t nitems, void *userp)
{
	xfer *x = userp;
	gboolean ehlo = x->tracker->stage == P2M_SMTP_STAGE_EHLO;
	const char *mech = x->req->bearer != NULL ? "XOAUTH2" : "LOGIN";
	guint64 limit = 0;
	int offered;

	if (ehlo && x->tracker->current->len > 0) {
		p2m_smtp_normalize_ehlo_line(buf, size * nitems);
		if (x->tls && p2m_smtp_parse_ehlo_size(buf, size * nitems, &limit))
			x->server_size = limit;
		if (x->tls && (offered = p2m_smtp_ehlo_offers_auth(buf, size * nitems, mech)) >= 0) {
			x->auth_offered = offered == 1;
			if (offered == 0 && x->no_auth == NULL)
				x->no_auth = clean_reply_line(buf + 4, size * nitems > 4 ? size * nitems - 4 : 0);
		}
	}
	p2m_smtp_tracker_reply_line(x->tracker, buf, size * nitems);
	if (x->tracker->stage != P2M_SMTP_STAGE_QUIT)
		x->work = x->tracker->stage;   /* after a 354: data_end */
	/* a final 4xx/5xx just read: libcurl gives up after it */
	if (x->tracker->current->len == 0 && x->tracker->last != NULL && reply_code(x->tracker->last) >= 400 &&
	    x->tracker->refusal != NULL && quit_after(x->tracker->refusal_stage))
		say_quit(x);
	if (ehlo && x->tls && x->tracker->current->len == 0 && known_too_large(x))
		return 0;
	/* Under TLS, an EHLO without our mechanism ends the dialogue here:
	 * libcurl would otherwise go on to MAIL FROM without signing in
	 * (none offered) or fail with no reply to show (another one). */
	if (ehlo && x->tls && x->tracker->current->len == 0 && x->tracker->last != NULL &&
	    reply_code(x->tracker->last) == 250 && !x->auth_offered) {
		if (x->no_auth == NULL)
			x->no_auth = g_strdup("");
		return 0;
	}
	return size * nitems;
}

char *
p2m_smtp_debug_command(const char *line, gsize len, gboolean in_auth)
{
	g_autofree char *clean = NULL;
	const char *mech, *end;

	if (in_auth)
		return g_strdup("<hidden>");
	clean = clean_reply_line(line, len);
	if (g_ascii_strncasecmp(clean, "AUTH ", 5) != 0)
		return g_steal_pointer(&clean);
	/* The mechanism is shown, never its initial response. */
	for (mech = clean + 5; *mech == ' '; mech++)
		;
	for (end = mech; *end != '\0' && *end != ' '; end++)
		;
	while (*end == ' ')
		end++;
	return g_strdup_printf("AUTH %.*s%s", (int) (strcspn(mech, " ")), mech, *end != '\0' ? " <hidden>" : "");
}

gboolean
p2m_smtp_debug_text_shown(const char *text, gsize len)
{
	static const char *const shown[] = {
		"Trying ", "Connected to ", "SSL connection using ", "SSL certificate verify", "Server certificate",
		"subject:", "start date:", "expire date:", "issuer:", "subjectAltName", "Closing connection",
		"Failed to connect", "Could not resolve", "Connection timed out", "Operation timed out",
		"OpenSSL SSL_", "STARTTLS", "SSL_ERROR", "Recv failure", "Send failure", NULL
	};
	gsize i = 0, k;

	while (i < len && text[i] == ' ')
		i++;
	for (k = 0; shown[k] != NULL; k++)
		if (len - i >= strlen(shown[k]) && strncmp(text + i, shown[k], strlen(shown[k])) == 0)
			return TRUE;
	return FALSE;
}

/* Needs CURLOPT_VERBOSE, but with this callback set libcurl prints nothing
 * itself.  Commands feed the tracker; with a debug sink set, the dialogue
 * becomes the transcript, AUTH payloads hidden (p2m_smtp_debug_command)
 * and of libcurl's own words only the allowed ones (connection, TLS
 * version and cipher, certificate). */
static int
debug_cb(CURL *h, curl_infotype type, char *data, size_t size, void *userp)
{
	xfer *x = userp;
	gboolean was_in_auth = x->tracker->in_auth;
	g_autofree char *shown = NULL;

	if (type == CURLINFO_TEXT && p2m_debug_enabled() && p2m_smtp_debug_text_shown(data, size)) {
		shown = clean_reply_line(data, size);
		p2m_debug("smtp +%.3fs * %s", elapsed(x), g_strstrip(shown));
	}
	if (type == CURLINFO_HEADER_IN && p2m_debug_enabled()) {
		shown = clean_reply_line(data, size);
		p2m_debug("smtp +%.3fs S: %s", elapsed(x), shown);
	}
	if (type != CURLINFO_HEADER_OUT)
		return 0;
	p2m_smtp_tracker_command(x->tracker, data, size);
	if (x->tracker->stage != P2M_SMTP_STAGE_QUIT)
		x->work = x->tracker->stage;
	if (p2m_debug_enabled()) {
		shown = p2m_smtp_debug_command(data, size, was_in_auth);
		p2m_debug("smtp +%.3fs C: %s", elapsed(x), shown);
	}
	/* A new EHLO reply replaces the last one's SIZE; after STARTTLS
	 * (the only way on, CURLUSESSL_ALL) the replies come under TLS. */
	if (x->tracker->stage == P2M_SMTP_STAGE_EHLO) {
		x->server_size = 0;
		x->auth_offered = FALSE;
	}
	if (x->tracker->stage == P2M_SMTP_STAGE_STARTTLS)
		x->tls = TRUE;
	return 0;
}

/* A connection this process drops, or that dies with it (cupsd stops a
 * job with SIGKILL when it shuts down), is reset, not closed: what is
 * still in the socket buffer, maybe the end of the message and its final
 * ".", is thrown away instead of reaching the server after the job was
 * given up, and being sent a second time by the next attempt.  Only after
 * the server's last answer does a session end, so nothing is lost.  The
 * socket is also noted, for a QUIT after a refusal (say_quit). */
static int
sockopt_cb(void *userp, curl_socket_t fd, curlsocktype purpose)
{
	struct linger l = { 1, 0 };
	xfer *x = userp;

	if (purpose == CURLSOCKTYPE_IPCXN) {
		x->fd = fd;
		(void) setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	}
	return CURL_SOCKOPT_OK;
}

static size_t
read_cb(char *buf, size_t size, size_t nitems, void *userp)
{
	xfer *x = userp;
	gssize n;

	if (is_canceled(x)) {
		x->canceled = TRUE;
		return CURL_READFUNC_ABORT;
	}
	/* Normally stopped at EHLO already; a server that offers no SIZE
	 * still gets not one byte of a message known to be too large. */
	if (known_too_large(x))
		return CURL_READFUNC_ABORT;
	n = x->req->read(x->req->read_ctx, buf, size * nitems, &x->read_error);
	if (n == 0)
		x->eof = TRUE;
	if (n < 0 || is_canceled(x)) {
		/* A read interrupted by SIGTERM is a cancel, not a bad document. */
		x->canceled = is_canceled(x);
		return CURL_READFUNC_ABORT;
	}
	/* A size not known in advance is counted: after an abort libcurl
	 * never sends the final ".", so the server keeps nothing. */
	if (size_limit(x) != 0 && x->bytes + (guint64) n > size_limit(x)) {
		stop_too_large(x, 0);
		return CURL_READFUNC_ABORT;
	}
	x->bytes += (guint64) n;
	return (size_t) n;
}

/* Called at least once a second: lets a cancel end a wait for the server.
 * Once the final "." is on its way the answer is awaited: cut now, the
 * server might keep the message without our knowing.  But not longer than
 * P2M_SMTP_CANCEL_GRACE_S (or the timeout, if shorter): cupsd kills a
 * backend 30 s after its SIGTERM (JobKillDelay), and a killed backend
 * says nothing at all. */
static int
progress_cb(void *userp, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
	xfer *x = userp;
	guint grace;

	if (!is_canceled(x))
		return 0;
	if (!all_sent(x)) {
		x->canceled = TRUE;
		return 1;
	}
	if (x->cancel_seen == 0)
		x->cancel_seen = g_get_monotonic_time();
	grace = MIN(P2M_SMTP_CANCEL_GRACE_S, timeout_of(x->req));
	if (g_get_monotonic_time() - x->cancel_seen < (gint64) grace * G_USEC_PER_SEC)
		return 0;
	x->canceled = TRUE;
	x->unconfirmed = TRUE;
	return 1;
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

static char *
make_url(const p2m_account *a)
{
	const char *scheme = a->tls == P2M_TLS_IMPLICIT ? "smtps" : "smtp";
	guint port = port_of(a);

	if (strchr(a->server, ':') != NULL)  /* an IPv6 literal */
		return g_strdup_printf("%s://[%s]:%u/%s", scheme, a->server, port, ehlo_name());
	return g_strdup_printf("%s://%s:%u/%s", scheme, a->server, port, ehlo_name());
}

static struct curl_slist *
make_rcpt(const char *const *rcpt)
{
	struct curl_slist *list = NULL;

	for (; rcpt != NULL && *rcpt != NULL; rcpt++) {
		g_autofree char *a = g_strdup_printf("<%s>", *rcpt);
		list = curl_slist_append(list, a);
	}
	return list;
}

/* Everything about TLS: required, 1.2 or later, peer and name verified. */
static CURLcode
setup_tls(CURL *h, const p2m_smtp_request *req)
{
	CURLcode rc = CURLE_OK;

	rc |= curl_easy_setopt(h, CURLOPT_USE_SSL, (long) CURLUSESSL_ALL);
	rc |= curl_easy_setopt(h, CURLOPT_SSLVERSION, (long) CURL_SSLVERSION_TLSv1_2);
	rc |= curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	rc |= curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	rc |= curl_easy_setopt(h, CURLOPT_CAPATH, P2M_SMTP_CAPATH);
	if (req->ca_pem != NULL) {
		struct curl_blob blob;
		gsize len = 0;

		blob.data = (void *) g_bytes_get_data(req->ca_pem, &len);
		blob.len = len;
		blob.flags = CURL_BLOB_COPY;
		rc |= curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &blob);
	}
	return rc;
}

/* The mechanism is pinned: libcurl would otherwise pick what the server
 * offers (OAUTHBEARER before XOAUTH2, PLAIN before LOGIN). */
static CURLcode
setup_auth(CURL *h, const p2m_smtp_request *req)
{
	CURLcode rc = CURLE_OK;

	rc |= curl_easy_setopt(h, CURLOPT_USERNAME, req->username);
	if (req->bearer != NULL) {
		rc |= curl_easy_setopt(h, CURLOPT_LOGIN_OPTIONS, "AUTH=XOAUTH2");
		rc |= curl_easy_setopt(h, CURLOPT_XOAUTH2_BEARER, req->bearer->data);
		rc |= curl_easy_setopt(h, CURLOPT_SASL_IR, 1L);
	} else {
		rc |= curl_easy_setopt(h, CURLOPT_LOGIN_OPTIONS, "AUTH=LOGIN");
		rc |= curl_easy_setopt(h, CURLOPT_PASSWORD, req->password != NULL ? req->password->data : "");
	}
	return rc;
}

static CURLcode
setup_transfer(CURL *h, const p2m_smtp_request *req, xfer *x, const char *url,
               struct curl_slist *rcpt, char *errbuf)
{
	g_autofree char *from = g_strdup_printf("<%s>", req->mail_from);
	CURLcode rc = CURLE_OK;

	rc |= curl_easy_setopt(h, CURLOPT_URL, url);
#if LIBCURL_VERSION_NUM >= 0x075500
	rc |= curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
#else
	rc |= curl_easy_setopt(h, CURLOPT_PROTOCOLS, (long) (CURLPROTO_SMTP | CURLPROTO_SMTPS));
#endif
	rc |= curl_easy_setopt(h, CURLOPT_PROXY, "");
	rc |= curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	rc |= curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	rc |= p2m_net_set_timeouts(h, req->timeout_s);
	rc |= setup_tls(h, req);
	rc |= setup_auth(h, req);
	rc |= curl_easy_setopt(h, CURLOPT_MAIL_FROM, from);   /* copied by libcurl */
	rc |= curl_easy_setopt(h, CURLOPT_MAIL_RCPT, rcpt);
	rc |= curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
	/* libcurl sends it as SIZE= on MAIL FROM when the server offers SIZE,
	 * so a server with a lower limit than it said refuses at MAIL. */
	if (req->size > 0)
		rc |= curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t) req->size);
	/* Fewer, fuller TLS records for large scans; memory stays a constant. */
	rc |= curl_easy_setopt(h, CURLOPT_UPLOAD_BUFFERSIZE, 256L * 1024);
	rc |= curl_easy_setopt(h, CURLOPT_READFUNCTION, read_cb);
	rc |= curl_easy_setopt(h, CURLOPT_READDATA, x);
	rc |= curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, header_cb);
	rc |= curl_easy_setopt(h, CURLOPT_HEADERDATA, x);
	rc |= curl_easy_setopt(h, CURLOPT_SOCKOPTFUNCTION, sockopt_cb);
	rc |= curl_easy_setopt(h, CURLOPT_SOCKOPTDATA, x);
	rc |= curl_easy_setopt(h, CURLOPT_DEBUGFUNCTION, debug_cb);
	rc |= curl_easy_setopt(h, CURLOPT_DEBUGDATA, x);
	rc |= curl_easy_setopt(h, CURLOPT_VERBOSE, 1L);  /* only feeds debug_cb */
	rc |= curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, progress_cb);
	rc |= curl_easy_setopt(h, CURLOPT_XFERINFODATA, x);
	rc |= curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	return rc;
}

static p2m_error
curl_error_class(CURLcode rc)
{
	switch (rc) {
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
		return P2M_E_TLS_VERIFY;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CIPHER:
	case CURLE_USE_SSL_FAILED:
	case CURLE_SSL_ENGINE_INITFAILED:
		return P2M_E_TLS;
	case CURLE_OUT_OF_MEMORY:
		return P2M_E_NOMEM;
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
	case CURLE_NOT_BUILT_IN:
	case CURLE_BAD_FUNCTION_ARGUMENT:
	case CURLE_UNKNOWN_OPTION:
		return P2M_E_INTERNAL;
	default:
		return P2M_E_CONNECT;
	}
}

/* The connection was closed under us.  Before the final "." the server
 * keeps nothing; after it, only the server knows (RFC 5321 6.1, the one
 * way SMTP duplicates a message): say which. */
static void
lost_message(const xfer *x, p2m_smtp_result *res, GError **error)
{
	const p2m_account *a = x->req->account;

	res->after_dot = res->stage == P2M_SMTP_STAGE_DATA_END && all_sent(x);
	if (res->after_dot)
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

/* Turn what happened into RES and ERROR. */
static gboolean
conclude(CURLcode rc, xfer *x, const char *errbuf, p2m_smtp_result *res, GError **error)
{
	const p2m_account *a = x->req->account;
	const char *detail = *errbuf != '\0' ? errbuf : curl_easy_strerror(rc);
	const char *refusal = p2m_smtp_tracker_refusal(x->tracker, &res->stage, &res->code);
	p2m_error e;

	res->curl_code = rc;
	res->bytes = x->bytes;
	if (rc == CURLE_OK) {
		res->reply = g_strdup(refusal);
		res->final_reply = g_strdup(x->tracker->data_end);
		return TRUE;
	}
	if (x->canceled) {
		res->reply = g_strdup(refusal);
		if (x->unconfirmed)
			g_set_error(error, P2M_ERROR, P2M_E_CANCELED,
			            "the job was canceled after the whole message was sent; the server had not "
			            "confirmed it %u s later, so it may have been delivered",
			            MIN(P2M_SMTP_CANCEL_GRACE_S, timeout_of(x->req)));
		else
			g_set_error(error, P2M_ERROR, P2M_E_CANCELED, "the job was canceled while sending (%s)",
			            p2m_smtp_stage_name(res->stage));
		return FALSE;
	}
	/* Our own stop: no server words to quote, the reason is ours. */
	if (x->too_large != NULL) {
		g_set_error_literal(error, P2M_ERROR, P2M_E_TOO_LARGE, x->too_large);
		return FALSE;
	}
	if (x->no_auth != NULL) {
		p2m_fail_set(error, P2M_E_CONFIG, p2m_rules_find("no-auth-mechanism"),
		             "%s:%u offers no AUTH %s after STARTTLS (%s%s); nothing was sent: check port and tls",
		             a->server, port_of(a), x->req->bearer != NULL ? "XOAUTH2" : "LOGIN",
		             *x->no_auth != '\0' ? "it offers AUTH " : "it offers no AUTH at all", x->no_auth);
		return FALSE;
	}
	res->reply = g_strdup(refusal);
	if (x->read_error != NULL) {
		g_propagate_prefixed_error(error, g_steal_pointer(&x->read_error), "reading the message: ");
		return FALSE;
	}
	e = curl_error_class(rc);
	/* Any reply, even the greeting, means the server was reached. */
	res->fault = p2m_net_fault_of(rc, x->tracker->last != NULL || x->tracker->sent_any);
	if (refusal == NULL && (res->fault == P2M_NET_STALLED || res->fault == P2M_NET_LOST))
		res->stage = x->work;
	if (refusal == NULL && res->fault == P2M_NET_STALLED) {
		g_set_error(error, P2M_ERROR, P2M_E_CONNECT,
		            "the mail server %s:%u stopped answering during %s: nothing moved for %u s (timeout)",
		            a->server, port_of(a), p2m_smtp_stage_name(res->stage), timeout_of(x->req));
		return FALSE;
	}
	if (refusal == NULL && res->fault == P2M_NET_LOST) {
		lost_message(x, res, error);
		return FALSE;
	}
	if (e == P2M_E_TLS_VERIFY) {
		g_set_error(error, P2M_ERROR, e, "the certificate of %s:%u is not trusted: %s",
		            a->server, port_of(a), detail);
	} else if (refusal != NULL) {
		/* The reply is classified here, where it is known: the rule
		 * travels with the error (p2m-fail.h). */
		p2m_fail_set(error, P2M_E_SMTP, p2m_rules_classify_smtp(refusal, strlen(refusal)),
		             "%s:%u refused %s: %s", a->server, port_of(a), p2m_smtp_stage_name(res->stage), refusal);
	} else if (rc == CURLE_USE_SSL_FAILED) {
		p2m_fail_set(error, P2M_E_CONFIG, p2m_rules_find("no-starttls"),
		             "%s:%u does not offer STARTTLS; nothing was sent: check port and tls",
		             a->server, port_of(a));
	} else {
		g_set_error(error, P2M_ERROR, e, "%s:%u (%s): %s", a->server, port_of(a),
		            p2m_smtp_stage_name(res->stage), detail);
	}
	return FALSE;
}

/* The transcript's last line: how long each part took and how it ended. */
static void
debug_summary(CURL *h, CURLcode rc, const xfer *x)
{
	double dns = 0, conn = 0, tls = 0, total = 0;

	if (!p2m_debug_enabled())
		return;
	curl_easy_getinfo(h, CURLINFO_NAMELOOKUP_TIME, &dns);
	curl_easy_getinfo(h, CURLINFO_CONNECT_TIME, &conn);
	curl_easy_getinfo(h, CURLINFO_APPCONNECT_TIME, &tls);
	curl_easy_getinfo(h, CURLINFO_TOTAL_TIME, &total);
	p2m_debug("smtp: %s after %.3f s (DNS %.3f s, connected %.3f s, TLS up %.3f s), %" G_GUINT64_FORMAT
	          " message bytes, curl %d (%s)", rc == CURLE_OK ? "done" : "stopped", total, dns, conn, tls,
	          x->bytes, (int) rc, curl_easy_strerror(rc));
}

gboolean
p2m_smtp_send(const p2m_smtp_request *req, p2m_smtp_result *res, GError **error)
{
	g_autoptr(p2m_smtp_tracker) tracker = p2m_smtp_tracker_new();
	g_autofree char *url = NULL;
	char errbuf[CURL_ERROR_SIZE] = "";
	struct curl_slist *rcpt = NULL;
	xfer x = { .req = req, .tracker = tracker };
	CURL *h = NULL;
	gboolean ok = FALSE;
	CURLcode rc;

	memset(res, 0, sizeof(*res));
	if (req->rcpt == NULL || req->rcpt[0] == NULL || req->mail_from == NULL || req->read == NULL ||
	    (req->password == NULL) == (req->bearer == NULL)) {
		g_set_error(error, P2M_ERROR, P2M_E_INTERNAL, "p2m_smtp_send: incomplete request");
		return FALSE;
	}
	/* implicit TLS: every EHLO reply comes under TLS */
	x.tls = req->account->tls == P2M_TLS_IMPLICIT;
	url = make_url(req->account);
	rcpt = make_rcpt(req->rcpt);
	if ((h = curl_easy_init()) == NULL || rcpt == NULL ||
	    setup_transfer(h, req, &x, url, rcpt, errbuf) != CURLE_OK) {
		g_set_error(error, P2M_ERROR, P2M_E_INTERNAL, "libcurl cannot be set up for %s", url);
		goto out;
	}
	x.start = g_get_monotonic_time();
	x.fd = CURL_SOCKET_BAD;
	x.h = h;
	p2m_debug("smtp: %s as %s, %s, AUTH %s", url, req->username, req->account->tls == P2M_TLS_IMPLICIT ?
	          "implicit TLS" : "STARTTLS", req->bearer != NULL ? "XOAUTH2" : "LOGIN");
	rc = curl_easy_perform(h);
	ok = conclude(rc, &x, errbuf, res, error);
	debug_summary(h, rc, &x);
	/* After a cancel libcurl still holds the connection as usable and its
	 * cleanup would send QUIT and await the answer (up to the response
	 * timeout) behind a server that has not answered the last command yet:
	 * the job is over, so the connection is cut instead. */
	if (x.canceled && x.fd != CURL_SOCKET_BAD)
		(void) shutdown(x.fd, SHUT_RDWR);
out:
	if (h != NULL)
		curl_easy_cleanup(h);
	curl_slist_free_all(rcpt);
	g_clear_error(&x.read_error);
	g_free(x.too_large);
	g_free(x.no_auth);
	return ok;
}
