/* SPDX-License-Identifier: Apache-2.0 */
/* test-config.c - print2mail.conf parsing: defaults, checks, and errors that name file, line and key. */
#include "config.h"

#include <glib.h>
#include <string.h>

#include "p2m-config.h"
#include "p2m-error.h"

static p2m_config *
parse(const char *text, GError **error)
{
	return p2m_config_parse(text, strlen(text), "/etc/print2mail/print2mail.conf", error);
}

static void
test_defaults(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(p2m_config) cfg = parse(
		"# scanner\n[account scanner]\nfrom = scanner@contoso.com\npassword_file = /etc/print2mail/scanner.pw\n",
		&error);
	const p2m_account *a;

	g_assert_no_error(error);
	g_assert_cmpuint(cfg->accounts->len, ==, 1);
	a = p2m_config_find(cfg, "scanner");
	g_assert_nonnull(a);
	g_assert_cmpstr(a->server, ==, "smtp.office365.com");
	g_assert_cmpuint(a->port, ==, 587);
	g_assert_cmpint(a->tls, ==, P2M_TLS_STARTTLS);
	g_assert_cmpint(a->auth, ==, P2M_AUTH_LOGIN);
	g_assert_cmpstr(a->username, ==, "scanner@contoso.com");
	g_assert_cmpstr(p2m_account_domain(a), ==, "contoso.com");
	g_assert_null(a->allowed_recipients);
	g_assert_cmpstr(cfg->state_dir, ==, P2M_STATE_DIR);
	g_assert_cmpstr(cfg->helper_socket, ==, P2M_HELPER_SOCKET);
	g_assert_null(p2m_config_find(cfg, "other"));
}

static void
test_xoauth2(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(p2m_config) cfg = parse(
		"[global]\nstate_dir = /tmp/x\n"
		"[account app]\nfrom = app@contoso.com\nauth = xoauth2\ntenant = contoso.onmicrosoft.com\n"
		"client_id = 1234\nclient_secret_file = /etc/print2mail/app.secret\n"
		"oauth_authority = https://127.0.0.1:8443/\ntls = implicit\n"
		"allowed_recipients = *@contoso.com, bob@fabrikam.com;fabrikam.org\nmax_message_size = 35M\n",
		&error);
	const p2m_account *a;
	g_autofree char *url = NULL;

	g_assert_no_error(error);
	a = p2m_config_find(cfg, "app");
	g_assert_cmpint(a->oauth_flow, ==, P2M_FLOW_CLIENT_CREDENTIALS);
	g_assert_cmpuint(a->port, ==, 465);
	g_assert_cmpuint(a->max_message_size, ==, 35 * 1024 * 1024);
	g_assert_cmpuint(a->timeout_s, ==, 300);
	g_assert_cmpuint(a->max_connections, ==, 3);
	g_assert_cmpuint(a->max_messages_per_minute, ==, 30);
	g_assert_cmpuint(g_strv_length(a->allowed_recipients), ==, 3);
	g_assert_cmpstr(a->allowed_recipients[1], ==, "bob@fabrikam.com");
	url = p2m_account_token_url(a);
	g_assert_cmpstr(url, ==, "https://127.0.0.1:8443/contoso.onmicrosoft.com/oauth2/v2.0/token");
	g_assert_cmpstr(cfg->state_dir, ==, "/tmp/x");
}

static void
test_limits(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(p2m_config) cfg = parse(
		"[account a]\nfrom = a@b.com\npassword_file = /x\ntimeout = 5\nmax_connections = 1\n"
		"max_messages_per_minute = 0\n", &error);
	const p2m_account *a;

	g_assert_no_error(error);
	a = p2m_config_find(cfg, "a");
	g_assert_cmpuint(a->timeout_s, ==, 5);
	g_assert_cmpuint(a->max_connections, ==, 1);
	g_assert_cmpuint(a->max_messages_per_minute, ==, 0);
}

/* Each broken file must be refused with the line and key an admin needs. */
static void
test_errors(void)
{
	static const struct { const char *text; const char *expect; } cases[] = {
		{ "[account a]\nfrom = a@b.com\npassword_file = /x\nport = 99999\n", ":4: [account a] port: '99999' is not a port" },
		{ "[account a]\nfrom = a@b.com\npassword_file = /x\npasword = x\n", ":4: [account a] pasword: unknown key" },
		{ "[account a]\nfrom = a@b.com\nauth = plain\npassword_file = /x\n", ":3: [account a] auth: 'plain' is not one of: login, xoauth2" },
		{ "[account a]\nfrom = not-an-address\npassword_file = /x\n", ":2: [account a] from:" },
		{ "[account a]\npassword_file = /x\n", ":1: [account a]: missing key 'from'" },
		{ "[account a]\nfrom = a@b.com\n", "needs password_file" },
		{ "[account a]\nfrom = a@b.com\nauth = xoauth2\nclient_id = x\n", "[account a] tenant: auth = xoauth2 needs tenant" },
		{ "[account a]\nfrom = a@b.com\nauth = xoauth2\ntenant = t\nclient_id = c\n", "[account a] oauth_flow: client-credentials needs" },
		{ "[printer x]\n", ":1: [printer x]: unknown section" },
		{ "[account a]\nfrom = a@b.com\npassword_file = /x\nthis line is wrong\n", ":4: expected" },
		{ "[account a]\nfrom = a@b.com\nsend_as = job-user\nuser_address = contoso.com\n", "user_address: send_as = job-user needs" },
		{ "[account a]\nfrom = a@b.com\npassword_file = /x\nmax_message_size = lots\n", "max_message_size: 'lots'" },
		{ "[account a]\nfrom =\npassword_file = /x\n", ":2: [account a] from: empty value" },
		{ "[global]\nstatedir = /x\n", ":2: [global] statedir: unknown key" },
		{ "[account a]\nfrom = a@b.com\npassword_file = /x\ntimeout = 0\n", ":4: [account a] timeout: '0' is not a whole number from 1" },
		{ "[account a]\nfrom = a@b.com\npassword_file = /x\nmax_connections = -1\n", "max_connections: '-1'" },
		{ "[account a]\nfrom = a@b.com\npassword_file = /x\nmax_messages_per_minute = 30/min\n", "max_messages_per_minute: '30/min'" },
		{ "[account a]\nfrom = a@b.com\npassword_file = /x\nallowed_recipients = b.com, an@@addr\n", "allowed_recipients: 'an@@addr'" },
	};
	gsize i;

	for (i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(p2m_config) cfg = parse(cases[i].text, &error);

		g_assert_null(cfg);
		g_assert_error(error, P2M_ERROR, P2M_E_CONFIG);
		if (strstr(error->message, cases[i].expect) == NULL)
			g_error("case %" G_GSIZE_FORMAT ": '%s' lacks '%s'", i, error->message, cases[i].expect);
		g_assert_true(g_str_has_prefix(error->message, "/etc/print2mail/print2mail.conf"));
	}
}

static void
test_user_address(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(p2m_config) cfg = parse(
		"[account me]\nsend_as = job-user\nuser_address = %u@contoso.com\n", &error);
	const p2m_account *a = p2m_config_find(cfg, "me");
	g_autofree char *addr = NULL;
	g_autofree char *bad = NULL;

	g_assert_no_error(error);
	addr = p2m_account_user_address(a, "alice", &error);
	g_assert_cmpstr(addr, ==, "alice@contoso.com");
	bad = p2m_account_user_address(a, "bob@evil.com,x", &error);
	g_assert_null(bad);
	g_assert_error(error, P2M_ERROR, P2M_E_ADDRESS);
}

static void
test_load_missing(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(p2m_config) cfg = p2m_config_load("/nonexistent/print2mail.conf", &error);

	g_assert_null(cfg);
	g_assert_error(error, P2M_ERROR, P2M_E_CONFIG);
	g_assert_true(g_str_has_prefix(error->message, "/nonexistent/print2mail.conf: No such file or directory"));
	g_assert_nonnull(strstr(error->message, "PRINT2MAIL_CONF"));
}

static void
test_graph(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(p2m_config) cfg = parse(
		"[account smtp]\nfrom = a@contoso.com\npassword_file = /x\n"
		"[account g]\nfrom = scanner@contoso.com\ntransport = graph\ntenant = contoso.com\n"
		"client_id = 1234\nclient_secret_file = /etc/print2mail/g.secret\n"
		"[account cloud]\nfrom = s@contoso.us\ntransport = Graph\ntenant = t\nclient_id = c\n"
		"oauth_flow = device-code\ngraph_endpoint = https://127.0.0.1:8443/\n",
		&error);
	const p2m_account *s, *g, *c;

	g_assert_no_error(error);
	s = p2m_config_find(cfg, "smtp");
	g = p2m_config_find(cfg, "g");
	c = p2m_config_find(cfg, "cloud");
	g_assert_cmpint(s->transport, ==, P2M_TRANSPORT_SMTP);
	g_assert_cmpstr(s->graph_endpoint, ==, "https://graph.microsoft.com");
	g_assert_cmpstr(p2m_account_scope(s, TRUE), ==, "https://outlook.office365.com/.default");
	g_assert_cmpint(g->transport, ==, P2M_TRANSPORT_GRAPH);
	g_assert_cmpint(g->auth, ==, P2M_AUTH_XOAUTH2);
	g_assert_cmpint(g->oauth_flow, ==, P2M_FLOW_CLIENT_CREDENTIALS);
	g_assert_cmpstr(g->graph_endpoint, ==, "https://graph.microsoft.com");
	g_assert_cmpstr(p2m_account_scope(g, TRUE), ==, "https://graph.microsoft.com/.default");
	g_assert_cmpstr(p2m_account_scope(g, FALSE), ==, "https://graph.microsoft.com/Mail.Send offline_access");
	g_assert_cmpint(c->oauth_flow, ==, P2M_FLOW_DEVICE_CODE);
	g_assert_cmpstr(c->graph_endpoint, ==, "https://127.0.0.1:8443");
}

static void
test_graph_errors(void)
{
	static const struct { const char *text; const char *want; } cases[] = {
		{ "[account g]\nfrom = a@b.c\ntransport = ews\n", "conf:3: [account g] transport: 'ews' is not one of: smtp, graph" },
		{ "[account g]\nfrom = a@b.c\ntransport = graph\nauth = login\npassword_file = /x\n",
		  "conf:4: [account g] auth: transport = graph signs in with OAuth only" },
		{ "[account g]\nfrom = a@b.c\ntransport = graph\n", "auth = xoauth2 needs tenant and client_id" },
		{ "[account g]\nfrom = a@b.c\ntransport = graph\ntenant = t\nclient_id = c\nclient_secret_file = /s\n"
		  "graph_endpoint = http://graph.microsoft.com\n", "conf:7: [account g] graph_endpoint: 'http://graph.microsoft.com' is not an https:// URL" },
		{ "[account g]\nfrom = a@b.c\ntransport = graph\ntenant = t\nclient_id = c\nclient_secret_file = /s\n"
		  "graph_endpoint = https://x/?a=b\n", "graph_endpoint: 'https://x/?a=b' is not" },
		{ "[account g]\nfrom = a@b.c\ngraph_endpoint =\n", "graph_endpoint: empty value" },
	};
	gsize i;

	for (i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(p2m_config) cfg = p2m_config_parse(cases[i].text, strlen(cases[i].text), "conf", &error);

		g_assert_null(cfg);
		g_assert_error(error, P2M_ERROR, P2M_E_CONFIG);
		if (strstr(error->message, cases[i].want) == NULL)
			g_error("case %" G_GSIZE_FORMAT ": '%s' lacks '%s'", i, error->message, cases[i].want);
	}
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/config/defaults", test_defaults);
	g_test_add_func("/config/xoauth2", test_xoauth2);
	g_test_add_func("/config/errors", test_errors);
	g_test_add_func("/config/limits", test_limits);
	g_test_add_func("/config/user-address", test_user_address);
	g_test_add_func("/config/load-missing", test_load_missing);
	g_test_add_func("/config/graph", test_graph);
	g_test_add_func("/config/graph-errors", test_graph_errors);
	return g_test_run();
}
