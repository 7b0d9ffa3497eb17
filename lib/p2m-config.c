/* SPDX-License-Identifier: Apache-2.0 */
/* p2m-config.c - parse and check print2mail.conf; every error names the file, line and key. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "p2m-addr.h"
#include "p2m-config.h"
#include "p2m-error.h"

#define ACCOUNT_PREFIX "account "

static const char *const global_keys[] = { "state_dir", "helper_socket", "key_file", NULL };
static const char *const account_keys[] = {
	"server", "port", "tls", "ca_file", "from", "from_name", "auth", "username",
	"password_file", "oauth_flow", "tenant", "client_id", "client_secret_file",
	"client_secret_expires", "client_certificate", "client_key", "oauth_authority",
	"allowed_recipients", "send_as", "user_address", "max_message_size",
	"transport", "graph_endpoint", "timeout", "max_connections", "max_messages_per_minute", NULL
};

/* Where things are in the text, for messages: GKeyFile keeps no line numbers. */
typedef struct {
	const char *data;
	gsize       len;
	const char *path;
} source;

/* Line (1-based) of KEY inside [GROUP], or of the group header when KEY is
 * NULL; 0 when not found.  Pure. */
static unsigned
find_line(const source *src, const char *group, const char *key)
{
	g_auto(GStrv) lines = NULL;
	gboolean in_group = FALSE;
	unsigned i;

	lines = g_strsplit(src->data, "\n", -1);
	for (i = 0; lines[i] != NULL; i++) {
		const char *l = lines[i];
		gsize n;

		while (*l == ' ' || *l == '\t')
			l++;
		if (*l == '[') {
			const char *end = strchr(l, ']');
			in_group = end != NULL && (gsize) (end - l - 1) == strlen(group) &&
			           strncmp(l + 1, group, strlen(group)) == 0;
			if (in_group && key == NULL)
				return i + 1;
			continue;
		}
		if (!in_group || key == NULL)
			continue;
		n = strlen(key);
		if (strncmp(l, key, n) == 0 && (l[n] == '=' || l[n] == ' ' || l[n] == '\t' || l[n] == '['))
			return i + 1;
	}
	return 0;
}

static void G_GNUC_PRINTF(5, 6)
set_error(GError **error, const source *src, const char *group, const char *key, const char *fmt, ...)
{
	g_autofree char *what = NULL;
	unsigned line = find_line(src, group, key);
	va_list ap;

	va_start(ap, fmt);
	what = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	if (key != NULL)
		g_set_error(error, P2M_ERROR, P2M_E_CONFIG, "%s:%u: [%s] %s: %s", src->path, line, group, key, what);
	else
		g_set_error(error, P2M_ERROR, P2M_E_CONFIG, "%s:%u: [%s]: %s", src->path, line, group, what);
}

/* GKeyFile's own syntax errors carry no line number; find it first. */
static gboolean
check_syntax(const source *src, GError **error)
{
	g_auto(GStrv) lines = g_strsplit(src->data, "\n", -1);
	unsigned i;

	for (i = 0; lines[i] != NULL; i++) {
		const char *l = lines[i];

		while (*l == ' ' || *l == '\t')
			l++;
		if (*l == '\0' || *l == '#' || *l == ';' || *l == '\r')
			continue;
		if (*l == '[' ? strchr(l, ']') == NULL : strchr(l, '=') == NULL) {
			g_set_error(error, P2M_ERROR, P2M_E_CONFIG,
			            "%s:%u: expected \"[section]\" or \"key = value\", found \"%.40s\"",
			            src->path, i + 1, l);
			return FALSE;
		}
	}
	return TRUE;
}

static gboolean
is_known(const char *const *keys, const char *key)
{
	return g_strv_contains(keys, key);
}

/* A value that is present but empty is a mistake worth naming. */
static char *
get_string(GKeyFile *kf, const source *src, const char *group, const char *key,
           const char *def, GError **error)
{
	g_autofree char *v = NULL;

	if (!g_key_file_has_key(kf, group, key, NULL))
		return g_strdup(def);
	v = g_key_file_get_string(kf, group, key, NULL);
	if (v != NULL)
		g_strstrip(v);
	if (v == NULL || *v == '\0') {
		set_error(error, src, group, key, "empty value");
		return NULL;
	}
	return g_steal_pointer(&v);
}

/* Map a keyword value to an enum; NAMES is NULL-terminated, index = value. */
static gboolean
get_choice(GKeyFile *kf, const source *src, const char *group, const char *key,
           const char *const *names, int def, int *out, GError **error)
{
	g_autofree char *v = NULL;
	g_autofree char *list = NULL;
	int i;

	*out = def;
	if (!g_key_file_has_key(kf, group, key, NULL))
		return TRUE;
	if ((v = get_string(kf, src, group, key, NULL, error)) == NULL)
		return FALSE;
	for (i = 0; names[i] != NULL; i++) {
		if (g_ascii_strcasecmp(v, names[i]) == 0) {
			*out = i;
			return TRUE;
		}
	}
	list = g_strjoinv(", ", (char **) names);
	set_error(error, src, group, key, "'%s' is not one of: %s", v, list);
	return FALSE;
}

/* "35M", "36700160", "150 MB" -> bytes. */
static gboolean
parse_size(const char *v, guint64 *out)
{
	char *end = NULL;
	guint64 n, mul = 1;

	errno = 0;
	n = g_ascii_strtoull(v, &end, 10);
	if (errno != 0 || end == v)
		return FALSE;
	while (*end == ' ')
		end++;
	switch (g_ascii_toupper(*end)) {
	case 'K': mul = 1024; end++; break;
	case 'M': mul = 1024 * 1024; end++; break;
	case 'G': mul = 1024 * 1024 * 1024; end++; break;
	default: break;
	}
	if (g_ascii_toupper(*end) == 'B')
		end++;
	if (*end != '\0' || n > G_MAXUINT64 / mul)
		return FALSE;
	*out = n * mul;
	return TRUE;
}

static void
p2m_account_free(p2m_account *a)
{
	if (a == NULL)
		return;
	g_free(a->name);
	g_free(a->server);
	g_free(a->ca_file);
	g_free(a->from);
	g_free(a->from_name);
	g_free(a->username);
	g_free(a->password_file);
	g_free(a->tenant);
	g_free(a->client_id);
	g_free(a->client_secret_file);
	g_free(a->client_secret_expires);
	g_free(a->client_certificate);
	g_free(a->client_key);
	g_free(a->oauth_authority);
	g_strfreev(a->allowed_recipients);
	g_free(a->user_address);
	g_free(a->graph_endpoint);
	g_free(a);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(p2m_account, p2m_account_free)

/* Keys that make sense only together, checked once the section is read. */
static gboolean
check_account(p2m_account *a, const source *src, const char *group, GError **error)
{
	if (a->send_as == P2M_SEND_AS_JOB_USER) {
		if (a->user_address == NULL || strstr(a->user_address, "%u") == NULL) {
			set_error(error, src, group, "user_address",
			          "send_as = job-user needs user_address with %%u, e.g. %%u@contoso.com");
			return FALSE;
		}
	} else if (a->from == NULL) {
		set_error(error, src, group, NULL, "missing key 'from' (the sender address)");
		return FALSE;
	}
	if (a->auth == P2M_AUTH_LOGIN && a->send_as == P2M_SEND_AS_ACCOUNT && a->password_file == NULL) {
		set_error(error, src, group, NULL, "auth = login needs password_file (a 0600 file holding the password)");
		return FALSE;
	}
	if (a->auth == P2M_AUTH_XOAUTH2) {
		if (a->tenant == NULL || a->client_id == NULL) {
			set_error(error, src, group, a->tenant == NULL ? "tenant" : "client_id",
			          "auth = xoauth2 needs tenant and client_id");
			return FALSE;
		}
		if (a->oauth_flow == P2M_FLOW_CLIENT_CREDENTIALS && a->client_secret_file == NULL &&
		    (a->client_certificate == NULL || a->client_key == NULL)) {
			set_error(error, src, group, "oauth_flow",
			          "client-credentials needs client_secret_file, or client_certificate and client_key");
			return FALSE;
		}
		if (!g_str_has_prefix(a->oauth_authority, "https://")) {
			set_error(error, src, group, "oauth_authority", "must start with https://");
			return FALSE;
		}
	}
	if (!g_str_has_prefix(a->graph_endpoint, "https://") || strlen(a->graph_endpoint) <= strlen("https://") ||
	    strpbrk(a->graph_endpoint, "?#@ \t") != NULL) {
		set_error(error, src, group, "graph_endpoint", "'%s' is not an https:// URL like %s",
		          a->graph_endpoint, P2M_DEFAULT_GRAPH);
		return FALSE;
	}
	return TRUE;
}

static gboolean
read_account_strings(p2m_account *a, GKeyFile *kf, const source *src, const char *g, GError **error)
{
	struct { const char *key; char **dst; const char *def; } s[] = {
		{ "server", &a->server, P2M_DEFAULT_SERVER },
		{ "ca_file", &a->ca_file, NULL },
		{ "from", &a->from, NULL },
		{ "from_name", &a->from_name, NULL },
		{ "username", &a->username, NULL },
		{ "password_file", &a->password_file, NULL },
		{ "tenant", &a->tenant, NULL },
		{ "client_id", &a->client_id, NULL },
		{ "client_secret_file", &a->client_secret_file, NULL },
		{ "client_secret_expires", &a->client_secret_expires, NULL },
		{ "client_certificate", &a->client_certificate, NULL },
		{ "client_key", &a->client_key, NULL },
		{ "oauth_authority", &a->oauth_authority, P2M_DEFAULT_AUTHORITY },
		{ "user_address", &a->user_address, NULL },
		{ "graph_endpoint", &a->graph_endpoint, P2M_DEFAULT_GRAPH },
	};
	GError *e = NULL;
	gsize i;

	for (i = 0; i < G_N_ELEMENTS(s); i++) {
		*s[i].dst = get_string(kf, src, g, s[i].key, s[i].def, &e);
		if (e != NULL) {
			g_propagate_error(error, e);
			return FALSE;
		}
	}
	if (a->from != NULL && !p2m_addr_is_valid(a->from)) {
		set_error(error, src, g, "from", "'%s' is not a plain address like scanner@contoso.com", a->from);
		return FALSE;
	}
	if (a->username == NULL && a->from != NULL)
		a->username = g_strdup(a->from);
	/* A trailing slash would double in the token URL. */
	while (a->oauth_authority != NULL && g_str_has_suffix(a->oauth_authority, "/"))
		a->oauth_authority[strlen(a->oauth_authority) - 1] = '\0';
	while (g_str_has_suffix(a->graph_endpoint, "/"))
		a->graph_endpoint[strlen(a->graph_endpoint) - 1] = '\0';
	return TRUE;
}

static gboolean
read_account_choices(p2m_account *a, GKeyFile *kf, const source *src, const char *g, GError **error)
{
	static const char *const tls[] = { "starttls", "implicit", NULL };
	static const char *const auth[] = { "login", "xoauth2", NULL };
	static const char *const flow[] = { "none", "client-credentials", "device-code", NULL };
	static const char *const send_as[] = { "account", "job-user", NULL };
	static const char *const transport[] = { "smtp", "graph", NULL };
	int v;

	if (!get_choice(kf, src, g, "tls", tls, P2M_TLS_STARTTLS, &v, error))
		return FALSE;
	a->tls = (p2m_tls_mode) v;
	if (!get_choice(kf, src, g, "transport", transport, P2M_TRANSPORT_SMTP, &v, error))
		return FALSE;
	a->transport = (p2m_transport) v;
	/* Graph takes nothing but OAuth bearer tokens: the same OAuth keys as
	 * XOAUTH2 apply, so a Graph account is an OAuth account everywhere. */
	if (!get_choice(kf, src, g, "auth", auth,
	                a->transport == P2M_TRANSPORT_GRAPH ? P2M_AUTH_XOAUTH2 : P2M_AUTH_LOGIN, &v, error))
		return FALSE;
	a->auth = (p2m_auth) v;
	if (a->transport == P2M_TRANSPORT_GRAPH && a->auth != P2M_AUTH_XOAUTH2) {
		set_error(error, src, g, "auth", "transport = graph signs in with OAuth only: remove auth or set auth = xoauth2");
		return FALSE;
	}
	if (!get_choice(kf, src, g, "oauth_flow", flow,
	                a->auth == P2M_AUTH_XOAUTH2 ? P2M_FLOW_CLIENT_CREDENTIALS : P2M_FLOW_NONE, &v, error))
		return FALSE;
	a->oauth_flow = (p2m_oauth_flow) v;
	if (a->auth == P2M_AUTH_XOAUTH2 && a->oauth_flow == P2M_FLOW_NONE) {
		set_error(error, src, g, "oauth_flow", "auth = xoauth2 needs client-credentials or device-code");
		return FALSE;
	}
	if (!get_choice(kf, src, g, "send_as", send_as, P2M_SEND_AS_ACCOUNT, &v, error))
		return FALSE;
	a->send_as = (p2m_send_as) v;
	return TRUE;
}

static gboolean
read_account_numbers(p2m_account *a, GKeyFile *kf, const source *src, const char *g, GError **error)
{
	g_autofree char *port = NULL;
	g_autofree char *size = NULL;
	g_autofree char *allowed = NULL;
	GError *e = NULL;
	char *end = NULL;
	guint64 n;

	port = get_string(kf, src, g, "port", NULL, &e);
	size = e == NULL ? get_string(kf, src, g, "max_message_size", NULL, &e) : NULL;
	allowed = e == NULL ? get_string(kf, src, g, "allowed_recipients", NULL, &e) : NULL;
	if (e != NULL) {
		g_propagate_error(error, e);
		return FALSE;
	}
	a->port = a->tls == P2M_TLS_IMPLICIT ? 465 : 587;
	if (port != NULL) {
		n = g_ascii_strtoull(port, &end, 10);
		if (*end != '\0' || n == 0 || n > 65535) {
			set_error(error, src, g, "port", "'%s' is not a port number (1-65535)", port);
			return FALSE;
		}
		a->port = (guint16) n;
	}
	if (size != NULL && !parse_size(size, &a->max_message_size)) {
		set_error(error, src, g, "max_message_size", "'%s' is not a size like 35M or 36700160", size);
		return FALSE;
	}
	if (allowed != NULL) {
		g_auto(GStrv) parts = g_regex_split_simple("[,; \t]+", allowed, 0, 0);
		GPtrArray *list = g_ptr_array_new_with_free_func(g_free);
		unsigned i;

		for (i = 0; parts[i] != NULL; i++) {
			if (*parts[i] == '\0')
				continue;
			if (!p2m_addr_pattern_is_valid(parts[i])) {
				set_error(error, src, g, "allowed_recipients",
				          "'%s' is not an address, a domain, @domain, *@domain or *.domain", parts[i]);
				g_ptr_array_free(list, TRUE);
				return FALSE;
			}
			g_ptr_array_add(list, g_strdup(parts[i]));
		}
		g_ptr_array_set_free_func(list, NULL);
		g_ptr_array_add(list, NULL);
		a->allowed_recipients = (char **) g_ptr_array_free(list, FALSE);
	}
	return TRUE;
}

/* Network waits and Microsoft's per-mailbox limits: whole numbers in a range. */
static gboolean
read_account_limits(p2m_account *a, GKeyFile *kf, const source *src, const char *g, GError **error)
{
	struct { const char *key; unsigned *dst; unsigned def, min, max; } n[] = {
		{ "timeout", &a->timeout_s, P2M_DEFAULT_TIMEOUT, 1, 86400 },
		{ "max_connections", &a->max_connections, P2M_DEFAULT_MAX_CONNECTIONS, 1, 100 },
		{ "max_messages_per_minute", &a->max_messages_per_minute, P2M_DEFAULT_MAX_PER_MINUTE, 0, 10000 },
	};
	gsize i;

	for (i = 0; i < G_N_ELEMENTS(n); i++) {
		g_autofree char *v = NULL;
		GError *e = NULL;
		char *end = NULL;
		guint64 x;

		*n[i].dst = n[i].def;
		if ((v = get_string(kf, src, g, n[i].key, NULL, &e)) == NULL) {
			if (e == NULL)
				continue;
			g_propagate_error(error, e);
			return FALSE;
		}
		errno = 0;
		x = g_ascii_strtoull(v, &end, 10);
		if (errno != 0 || end == v || *end != '\0' || !g_ascii_isdigit(*v) || x < n[i].min || x > n[i].max) {
			set_error(error, src, g, n[i].key, "'%s' is not a whole number from %u to %u", v, n[i].min, n[i].max);
			return FALSE;
		}
		*n[i].dst = (unsigned) x;
	}
	return TRUE;
}

static p2m_account *
parse_account(GKeyFile *kf, const source *src, const char *group, GError **error)
{
	g_autoptr(p2m_account) a = g_new0(p2m_account, 1);
	g_auto(GStrv) keys = g_key_file_get_keys(kf, group, NULL, NULL);
	unsigned i;

	a->name = g_strstrip(g_strdup(group + strlen(ACCOUNT_PREFIX)));
	if (*a->name == '\0' || strspn(a->name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != strlen(a->name)) {
		set_error(error, src, group, NULL, "account names use letters, digits, '.', '_' and '-' only");
		return NULL;
	}
	for (i = 0; keys != NULL && keys[i] != NULL; i++) {
		if (!is_known(account_keys, keys[i])) {
			set_error(error, src, group, keys[i], "unknown key (see print2mail.conf(5))");
			return NULL;
		}
	}
	if (!read_account_strings(a, kf, src, group, error) ||
	    !read_account_choices(a, kf, src, group, error) ||
	    !read_account_numbers(a, kf, src, group, error) ||
	    !read_account_limits(a, kf, src, group, error) ||
	    !check_account(a, src, group, error))
		return NULL;
	return g_steal_pointer(&a);
}

static gboolean
parse_global(p2m_config *cfg, GKeyFile *kf, const source *src, GError **error)
{
	g_auto(GStrv) keys = g_key_file_get_keys(kf, "global", NULL, NULL);
	GError *e = NULL;
	unsigned i;

	for (i = 0; keys != NULL && keys[i] != NULL; i++) {
		if (!is_known(global_keys, keys[i])) {
			set_error(error, src, "global", keys[i], "unknown key (see print2mail.conf(5))");
			return FALSE;
		}
	}
	cfg->state_dir = get_string(kf, src, "global", "state_dir", P2M_STATE_DIR, &e);
	if (e == NULL)
		cfg->helper_socket = get_string(kf, src, "global", "helper_socket", P2M_HELPER_SOCKET, &e);
	if (e == NULL)
		cfg->key_file = get_string(kf, src, "global", "key_file", P2M_KEY_FILE, &e);
	if (e != NULL) {
		g_propagate_error(error, e);
		return FALSE;
	}
	return TRUE;
}

p2m_config *
p2m_config_parse(const char *data, gsize len, const char *path, GError **error)
{
	g_autoptr(p2m_config) cfg = g_new0(p2m_config, 1);
	g_autoptr(GKeyFile) kf = g_key_file_new();
	g_autofree char *text = NULL;
	g_auto(GStrv) groups = NULL;
	GError *e = NULL;
	source src;
	unsigned i;

	cfg->path = g_strdup(path);
	cfg->accounts = g_ptr_array_new_with_free_func((GDestroyNotify) p2m_account_free);
	if (len > P2M_CONFIG_MAX_SIZE || memchr(data, '\0', len) != NULL || !g_utf8_validate(data, (gssize) len, NULL)) {
		g_set_error(error, P2M_ERROR, P2M_E_CONFIG, "%s: not a text file of UTF-8 under 1 MiB", path);
		return NULL;
	}
	text = g_strndup(data, len);
	src = (source) { text, len, path };
	if (!check_syntax(&src, error))
		return NULL;
	if (!g_key_file_load_from_data(kf, text, len, G_KEY_FILE_NONE, &e)) {
		g_set_error(error, P2M_ERROR, P2M_E_CONFIG, "%s: %s", path, e->message);
		g_error_free(e);
		return NULL;
	}
	if (!parse_global(cfg, kf, &src, error))
		return NULL;
	groups = g_key_file_get_groups(kf, NULL);
	for (i = 0; groups[i] != NULL; i++) {
		p2m_account *a;

		if (strcmp(groups[i], "global") == 0)
			continue;
		if (!g_str_has_prefix(groups[i], ACCOUNT_PREFIX)) {
			set_error(error, &src, groups[i], NULL, "unknown section; use [global] or [account NAME]");
			return NULL;
		}
		if ((a = parse_account(kf, &src, groups[i], error)) == NULL)
			return NULL;
		g_ptr_array_add(cfg->accounts, a);
	}
	return g_steal_pointer(&cfg);
}

const char *
p2m_config_default_path(void)
{
	const char *env = g_getenv("PRINT2MAIL_CONF");

	return (env != NULL && *env != '\0') ? env : P2M_CONF_FILE;
}

p2m_config *
p2m_config_load(const char *path, GError **error)
{
	g_autoptr(GMappedFile) map = NULL;
	GError *e = NULL;
	int saved;

	if (path == NULL)
		path = p2m_config_default_path();
	errno = 0;
	if ((map = g_mapped_file_new(path, FALSE, &e)) == NULL) {
		/* GLib's text says "Failed to open file"; an admin wants the path
		 * first and what to do about it. */
		saved = errno;
		g_set_error(error, P2M_ERROR, P2M_E_CONFIG, "%s: %s%s", path,
		            saved != 0 ? g_strerror(saved) : e->message,
		            saved == ENOENT ? " (create it, see print2mail.conf(5), or set PRINT2MAIL_CONF)" : "");
		g_error_free(e);
		return NULL;
	}
	return p2m_config_parse(g_mapped_file_get_contents(map) != NULL ? g_mapped_file_get_contents(map) : "",
	                        g_mapped_file_get_length(map), path, error);
}

const p2m_account *
p2m_config_find(const p2m_config *cfg, const char *name)
{
	guint i;

	for (i = 0; cfg != NULL && name != NULL && i < cfg->accounts->len; i++) {
		const p2m_account *a = g_ptr_array_index(cfg->accounts, i);
		if (strcmp(a->name, name) == 0)
			return a;
	}
	return NULL;
}

void
p2m_config_free(p2m_config *cfg)
{
	if (cfg == NULL)
		return;
	g_free(cfg->path);
	g_free(cfg->state_dir);
	g_free(cfg->helper_socket);
	g_free(cfg->key_file);
	if (cfg->accounts != NULL)
		g_ptr_array_unref(cfg->accounts);
	g_free(cfg);
}

char *
p2m_account_token_url(const p2m_account *a)
{
	return g_strdup_printf("%s/%s/oauth2/v2.0/token", a->oauth_authority, a->tenant);
}

char *
p2m_account_devicecode_url(const p2m_account *a)
{
	return g_strdup_printf("%s/%s/oauth2/v2.0/devicecode", a->oauth_authority, a->tenant);
}

const char *
p2m_account_scope(const p2m_account *a, gboolean app_only)
{
	if (a->transport == P2M_TRANSPORT_GRAPH)
		return app_only ? P2M_SCOPE_GRAPH_APP : P2M_SCOPE_GRAPH_DELEGATED;
	return app_only ? P2M_SCOPE_APP : P2M_SCOPE_DELEGATED;
}

const char *
p2m_account_domain(const p2m_account *a)
{
	const char *at = a->from != NULL ? strrchr(a->from, '@') : NULL;

	return at != NULL ? at + 1 : NULL;
}

char *
p2m_account_user_address(const p2m_account *a, const char *user, GError **error)
{
	g_autofree char *addr = NULL;
	g_auto(GStrv) parts = NULL;

	/* CUPS user names come from the network (requesting-user-name): only
	 * plain login names may become part of an address. */
	if (user == NULL || *user == '\0' || strlen(user) > 64 ||
	    strspn(user, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != strlen(user) ||
	    user[0] == '.' || user[0] == '-') {
		g_set_error(error, P2M_ERROR, P2M_E_ADDRESS, "user name '%s' cannot form a mail address", user ? user : "");
		return NULL;
	}
	if (a->user_address == NULL) {
		g_set_error(error, P2M_ERROR, P2M_E_CONFIG, "[account %s] has no user_address", a->name);
		return NULL;
	}
	parts = g_strsplit(a->user_address, "%u", -1);
	addr = g_strjoinv(user, parts);
	if (!p2m_addr_is_valid(addr)) {
		g_set_error(error, P2M_ERROR, P2M_E_ADDRESS, "user_address gives '%s', not a mail address", addr);
		return NULL;
	}
	return g_steal_pointer(&addr);
}
