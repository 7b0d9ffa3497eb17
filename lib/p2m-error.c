/* SPDX-License-Identifier: Apache-2.0 */
/* p2m-error.c - names, messages and rule ids of print2mail errors; the CUPS exit mapping. */
#include "config.h"

#include <cups/backend.h>
#include <stddef.h>

#include "p2m-error.h"

/* Marks a message for xgettext (make update-po); translated where shown. */
#define N_(s) s

static const struct {
	const char *name;
	const char *message;
	const char *rule;   /* id of its rule in p2m-rules.c, which holds the class */
} error_table[P2M_E__COUNT] = {
	[P2M_OK]                  = { "ok", N_("Success"), NULL },
	[P2M_E_NOMEM]             = { "nomem", N_("Out of memory"), "internal" },
	[P2M_E_USAGE]             = { "usage", N_("Wrong command line"), "usage" },
	[P2M_E_CONFIG]            = { "config", N_("The print2mail configuration is invalid"), "config" },
	[P2M_E_ACCOUNT]           = { "account", N_("The queue names an account that is not configured"), "account" },
	[P2M_E_URI]               = { "uri", N_("The device URI is malformed"), "uri" },
	[P2M_E_DOCUMENT]          = { "document", N_("The document cannot be read"), "document" },
	[P2M_E_SECRET]            = { "secret", N_("A secret file cannot be read"), "secret" },
	[P2M_E_SECRET_MODE]       = { "secret-mode", N_("A secret file is readable by other users"), "secret-mode" },
	[P2M_E_STORE]             = { "store", N_("The credential store is damaged or has unsafe permissions"), "store" },
	[P2M_E_ADDRESS]           = { "address", N_("An e-mail address is invalid"), "address" },
	[P2M_E_NO_RECIPIENT]      = { "no-recipient", N_("The job names no recipient"), "no-recipient" },
	[P2M_E_RECIPIENT_DENIED]  = { "recipient-denied", N_("A recipient is not allowed for this account"), "recipient-denied" },
	[P2M_E_TOO_LARGE]         = { "too-large", N_("The message is too large"), "too-large" },
	[P2M_E_CANCELED]          = { "canceled", N_("The job was canceled"), NULL },
	[P2M_E_CONNECT]           = { "connect", N_("Cannot reach the mail server"), "connect" },
	[P2M_E_TLS]               = { "tls", N_("TLS negotiation with the mail server failed"), "tls" },
	[P2M_E_TLS_VERIFY]        = { "tls-verify", N_("The mail server's certificate is not trusted"), "tls-verify" },
	[P2M_E_SMTP]              = { "smtp", N_("The mail server refused the message"), "smtp-unknown" },
	[P2M_E_TOKEN]             = { "token", N_("The token endpoint refused the request"), "aad-refused" },
	[P2M_E_TOKEN_UNAVAILABLE] = { "token-unavailable", N_("The token endpoint cannot be reached"), "token-unavailable" },
	[P2M_E_NO_CREDENTIAL]     = { "no-credential", N_("No credential is stored for this user"), "no-credential" },
	[P2M_E_HELPER]            = { "helper", N_("print2mail-helper cannot be reached"), "helper" },
	[P2M_E_PROTOCOL]          = { "protocol", N_("Malformed message from a peer"), "protocol" },
	[P2M_E_PERMISSION]        = { "permission", N_("Permission denied"), "permission" },
	[P2M_E_INTERNAL]          = { "internal", N_("Internal error"), "internal" },
	[P2M_E_UNPROVEN]          = { "user-unproven", N_("CUPS did not authenticate the user of this job"), "user-unproven" },
	[P2M_E_STORE_BUSY]        = { "store-busy", N_("The credential store is busy or cannot be written now"), "store-busy" },
	[P2M_E_TRUNCATED]         = { "truncated", N_("The composed message ended early"), "truncated" },
	[P2M_E_GRAPH]             = { "graph", N_("Microsoft Graph refused the message"), "graph-refused" },
};

static const struct {
	const char *name;
	const char *action;
	int         cups;
} class_table[P2M_CLASS__COUNT] = {
	[P2M_CLASS_NONE]      = { "delivered", "delivered", CUPS_BACKEND_OK },
	[P2M_CLASS_TRANSIENT] = { "transient", "retried later", CUPS_BACKEND_RETRY },
	[P2M_CLASS_ACCOUNT]   = { "account", "queue stopped", CUPS_BACKEND_STOP },
	[P2M_CLASS_USER]      = { "user", "held for authentication", CUPS_BACKEND_AUTH_REQUIRED },
	[P2M_CLASS_MESSAGE]   = { "message", "held", CUPS_BACKEND_HOLD },
};

const char *
p2m_error_name(p2m_error e)
{
	return ((unsigned) e < P2M_E__COUNT) ? error_table[e].name : "unknown";
}

const char *
p2m_error_message(p2m_error e)
{
	return ((unsigned) e < P2M_E__COUNT) ? error_table[e].message : N_("Unknown error");
}

const char *
p2m_error_rule_id(p2m_error e)
{
	return ((unsigned) e < P2M_E__COUNT) ? error_table[e].rule : NULL;
}

const char *
p2m_class_name(p2m_class c)
{
	return ((unsigned) c < P2M_CLASS__COUNT) ? class_table[c].name : "unknown";
}

const char *
p2m_class_action(p2m_class c)
{
	return ((unsigned) c < P2M_CLASS__COUNT) ? class_table[c].action : "retried later";
}

int
p2m_class_to_cups(p2m_class c)
{
	/* An unknown class keeps the job: retrying is the one outcome that
	 * never loses a document and never stops other users' jobs. */
	return ((unsigned) c < P2M_CLASS__COUNT) ? class_table[c].cups : CUPS_BACKEND_RETRY;
}
