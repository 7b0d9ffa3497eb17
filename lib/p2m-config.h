/* SPDX-License-Identifier: Apache-2.0 */
/* p2m-config.h - /etc/print2mail/print2mail.conf: accounts and global settings. */
#ifndef P2M_CONFIG_H
#define P2M_CONFIG_H

#include <glib.h>

#define P2M_DEFAULT_SERVER     "smtp.office365.com"
#define P2M_DEFAULT_AUTHORITY  "https://login.microsoftonline.com"
#define P2M_SCOPE_APP          "https://outlook.office365.com/.default"
#define P2M_SCOPE_DELEGATED    "https://outlook.office.com/SMTP.Send offline_access"
#define P2M_DEFAULT_GRAPH      "https://graph.microsoft.com"
#define P2M_SCOPE_GRAPH_APP    "https://graph.microsoft.com/.default"
#define P2M_SCOPE_GRAPH_DELEGATED "https://graph.microsoft.com/Mail.Send offline_access"
#define P2M_CONFIG_MAX_SIZE    (1024 * 1024)
/* Seconds any one network wait of a job may last (connect, a reply, an upload making no progress). */
#define P2M_DEFAULT_TIMEOUT          300
/* Microsoft 365's per-mailbox limits: 3 concurrent SMTP connections, 30 messages a minute. */
#define P2M_DEFAULT_MAX_CONNECTIONS  3
#define P2M_DEFAULT_MAX_PER_MINUTE   30

typedef enum { P2M_TLS_STARTTLS, P2M_TLS_IMPLICIT } p2m_tls_mode;
typedef enum { P2M_AUTH_LOGIN, P2M_AUTH_XOAUTH2 } p2m_auth;
typedef enum { P2M_FLOW_NONE, P2M_FLOW_CLIENT_CREDENTIALS, P2M_FLOW_DEVICE_CODE } p2m_oauth_flow;
typedef enum { P2M_SEND_AS_ACCOUNT, P2M_SEND_AS_JOB_USER } p2m_send_as;
typedef enum { P2M_TRANSPORT_SMTP, P2M_TRANSPORT_GRAPH } p2m_transport;

/* One [account NAME] section.  Strings are owned by the config. */
typedef struct {
	char           *name;
	char           *server;             /* default smtp.office365.com */
	guint16         port;               /* default 587 (starttls) / 465 (implicit) */
	p2m_tls_mode    tls;                /* default starttls */
	char           *ca_file;            /* extra trust anchor, or NULL */
	char           *from;               /* sender address (bare addr-spec); required unless send_as=job-user */
	char           *from_name;          /* display name for From, or NULL */
	p2m_auth        auth;               /* default login */
	char           *username;           /* default: from */
	char           *password_file;      /* auth=login */
	p2m_oauth_flow  oauth_flow;         /* auth=xoauth2: default client-credentials */
	char           *tenant;
	char           *client_id;
	char           *client_secret_file;
	char           *client_secret_expires; /* "YYYY-MM-DD" or NULL: warn before it expires */
	char           *client_certificate;
	char           *client_key;
	char           *oauth_authority;    /* default https://login.microsoftonline.com */
	char          **allowed_recipients; /* NULL-terminated patterns ("*@contoso.com", "bob@x.org", "contoso.com"); NULL = sender's domain */
	p2m_send_as     send_as;            /* default account */
	char           *user_address;       /* e.g. "%u@contoso.com" for send_as=job-user */
	guint64         max_message_size;   /* bytes, 0 = no local limit */
	p2m_transport   transport;          /* default smtp; graph implies OAuth (auth = xoauth2) */
	char           *graph_endpoint;     /* default https://graph.microsoft.com, no trailing slash */
	unsigned        timeout_s;          /* timeout: longest single network wait, default 300 s */
	unsigned        max_connections;    /* connections at once per mailbox, default 3 */
	unsigned        max_messages_per_minute; /* per mailbox in any 60 s, default 30, 0 = no pacing */
} p2m_account;

typedef struct {
	char      *path;           /* the file it came from */
	char      *state_dir;      /* default /var/lib/print2mail */
	char      *helper_socket;  /* default /run/print2mail/helper.sock */
	char      *key_file;       /* [global] key_file, default /etc/print2mail/store.key (AES key for per-user secrets) */
	GPtrArray *accounts;       /* of p2m_account*, in file order */
} p2m_config;

/* $PRINT2MAIL_CONF when set and non-empty, else SYSCONFDIR/print2mail/print2mail.conf. */
const char *p2m_config_default_path(void);

/* Read and parse a config file (path NULL = p2m_config_default_path()).
 * Errors (P2M_ERROR / P2M_E_CONFIG) name the file, the line and the key,
 * e.g. "/etc/print2mail/print2mail.conf:12: [account scanner] port: not a number: 'x'". */
p2m_config *p2m_config_load(const char *path, GError **error);

/* Pure: parse DATA (LEN bytes, at most P2M_CONFIG_MAX_SIZE); PATH is used only in messages. */
p2m_config *p2m_config_parse(const char *data, gsize len, const char *path, GError **error);

const p2m_account *p2m_config_find(const p2m_config *cfg, const char *name);
void p2m_config_free(p2m_config *cfg);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(p2m_config, p2m_config_free)

/* "{oauth_authority}/{tenant}/oauth2/v2.0/token" (and ".../devicecode"); caller frees. */
char *p2m_account_token_url(const p2m_account *a);
char *p2m_account_devicecode_url(const p2m_account *a);
/* The OAuth scope to request for A's transport: app-only (client
 * credentials) or delegated (device code, refresh, login --me).  Graph
 * tokens are for another audience than SMTP ones.  Static strings. */
const char *p2m_account_scope(const p2m_account *a, gboolean app_only);
/* Domain part of the sender address (points into a->from), or NULL. */
const char *p2m_account_domain(const p2m_account *a);
/* user_address with %u replaced by USER (validated as an address); caller frees; NULL + error if invalid. */
char *p2m_account_user_address(const p2m_account *a, const char *user, GError **error);

#endif /* P2M_CONFIG_H */
