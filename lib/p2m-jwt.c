/* SPDX-License-Identifier: Apache-2.0 */
/* p2m-jwt.c - the JWT client assertion (PS256, x5t#S256) that proves an app's certificate to Entra. */
#include "config.h"

#include <json-glib/json-glib.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <string.h>

#include "p2m-error.h"
#include "p2m-jwt.h"

char *
p2m_jwt_base64url(const guint8 *data, gsize len)
{
	char *s = g_base64_encode(data, len);
	char *p;

	for (p = s; *p != '\0'; p++) {
		if (*p == '+')
			*p = '-';
		else if (*p == '/')
			*p = '_';
		else if (*p == '=') {
			*p = '\0';
			break;
		}
	}
	return s;
}

static char *
b64url_str(const char *s)
{
	return p2m_jwt_base64url((const guint8 *) s, strlen(s));
}

/* A random RFC 4122 version-4 UUID from RAND_bytes, as Entra expects a GUID. */
static gboolean
random_jti(char out[37])
{
	unsigned char b[16];

	if (RAND_bytes(b, sizeof(b)) != 1)
		return FALSE;
	b[6] = (unsigned char) ((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char) ((b[8] & 0x3f) | 0x80);
	g_snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
	           b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7],
	           b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
	return TRUE;
}

static char *
header_json(X509 *cert)
{
	g_autoptr(JsonBuilder) b = json_builder_new();
	g_autoptr(JsonNode) root = NULL;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	g_autofree char *x5t = NULL;

	if (X509_digest(cert, EVP_sha256(), md, &mdlen) != 1)
		return NULL;
	x5t = p2m_jwt_base64url(md, mdlen);
	json_builder_begin_object(b);
	json_builder_set_member_name(b, "alg");
	json_builder_add_string_value(b, "PS256");
	json_builder_set_member_name(b, "typ");
	json_builder_add_string_value(b, "JWT");
	json_builder_set_member_name(b, "x5t#S256");
	json_builder_add_string_value(b, x5t);
	json_builder_end_object(b);
	root = json_builder_get_root(b);
	return json_to_string(root, FALSE);
}

static void
claim_str(JsonBuilder *b, const char *name, const char *value)
{
	json_builder_set_member_name(b, name);
	json_builder_add_string_value(b, value);
}

static void
claim_int(JsonBuilder *b, const char *name, gint64 value)
{
	json_builder_set_member_name(b, name);
	json_builder_add_int_value(b, value);
}

static char *
claims_json(const char *client_id, const char *aud, const char *jti, gint64 now)
{
	g_autoptr(JsonBuilder) b = json_builder_new();
	g_autoptr(JsonNode) root = NULL;

	json_builder_begin_object(b);
	claim_str(b, "aud", aud);
	claim_str(b, "iss", client_id);
	claim_str(b, "sub", client_id);
	claim_str(b, "jti", jti);
	claim_int(b, "nbf", now);
	claim_int(b, "iat", now);
	claim_int(b, "exp", now + P2M_JWT_LIFETIME);
	json_builder_end_object(b);
	root = json_builder_get_root(b);
	return json_to_string(root, FALSE);
}

/* RSASSA-PSS with SHA-256 and a 32-byte salt (RFC 7518 §3.5) over INPUT. */
static char *
sign_ps256(EVP_PKEY *key, const char *input)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	unsigned char *sig = NULL;
	size_t siglen = 0;
	char *out = NULL;

	if (ctx == NULL || EVP_DigestSignInit(ctx, &pctx, EVP_sha256(), NULL, key) != 1
	    || EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1
	    || EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1
	    || EVP_DigestSign(ctx, NULL, &siglen, (const unsigned char *) input, strlen(input)) != 1)
		goto out;
	sig = OPENSSL_malloc(siglen);
	if (sig == NULL || EVP_DigestSign(ctx, sig, &siglen, (const unsigned char *) input, strlen(input)) != 1)
		goto out;
	out = p2m_jwt_base64url(sig, siglen);
out:
	OPENSSL_free(sig);
	EVP_MD_CTX_free(ctx);
	return out;
}

p2m_secret *
p2m_jwt_build(EVP_PKEY *key, X509 *cert, const char *client_id, const char *aud, gint64 now, GError **error)
{
	g_autofree char *header = NULL, *claims = NULL, *h64 = NULL, *c64 = NULL, *input = NULL, *sig = NULL;
	g_autofree char *jwt = NULL;
	p2m_secret *s;
	char jti[37];

	if (EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA) {
		g_set_error_literal(error, P2M_ERROR, P2M_E_SECRET,
		                    "client_key is not an RSA key (PS256 needs RSA, as Entra requires)");
		return NULL;
	}
	if (X509_check_private_key(cert, key) != 1) {
		ERR_clear_error();
		g_set_error_literal(error, P2M_ERROR, P2M_E_SECRET,
		                    "client_key does not belong to client_certificate");
		return NULL;
	}
	if (!random_jti(jti) || (header = header_json(cert)) == NULL) {
		g_set_error_literal(error, P2M_ERROR, P2M_E_INTERNAL, "cannot build the JWT header");
		return NULL;
	}
	claims = claims_json(client_id, aud, jti, now);
	h64 = b64url_str(header);
	c64 = b64url_str(claims);
	input = g_strconcat(h64, ".", c64, NULL);
	if ((sig = sign_ps256(key, input)) == NULL) {
		ERR_clear_error();
		g_set_error_literal(error, P2M_ERROR, P2M_E_SECRET, "cannot sign the client assertion with client_key");
		return NULL;
	}
	jwt = g_strconcat(input, ".", sig, NULL);
	s = p2m_secret_new(jwt, strlen(jwt));
	p2m_wipe(jwt, strlen(jwt));
	return s;
}

X509 *
p2m_jwt_load_cert(const char *cert_file, GError **error)
{
	g_autofree char *data = NULL;
	g_autoptr(GError) ferr = NULL;
	gsize len = 0;
	BIO *bio = NULL;
	X509 *x = NULL;

	if (!g_file_get_contents(cert_file, &data, &len, &ferr)) {
		g_set_error(error, P2M_ERROR, P2M_E_SECRET, "client_certificate %s: %s", cert_file, ferr->message);
		return NULL;
	}
	if (len > P2M_JWT_CERT_MAX) {
		g_set_error(error, P2M_ERROR, P2M_E_SECRET, "client_certificate %s: larger than %d bytes",
		            cert_file, P2M_JWT_CERT_MAX);
		return NULL;
	}
	bio = BIO_new_mem_buf(data, (int) len);
	if (bio != NULL)
		x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (x == NULL) {
		ERR_clear_error();
		g_set_error(error, P2M_ERROR, P2M_E_SECRET, "client_certificate %s: not a PEM certificate", cert_file);
	}
	return x;
}

static EVP_PKEY *
load_key(const char *key_file, GError **error)
{
	g_autoptr(p2m_secret) pem = NULL;
	EVP_PKEY *key = NULL;
	BIO *bio;

	if ((pem = p2m_secret_read_file(key_file, error)) == NULL)
		return NULL;
	bio = BIO_new_mem_buf(pem->data, (int) pem->len);
	if (bio != NULL)
		key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (key == NULL) {
		ERR_clear_error();
		g_set_error(error, P2M_ERROR, P2M_E_SECRET,
		            "client_key %s: not an unencrypted PEM private key", key_file);
	}
	return key;
}

p2m_secret *
p2m_jwt_assertion(const char *cert_file, const char *key_file, const char *client_id,
                  const char *aud, gint64 now, GError **error)
{
	X509 *cert = NULL;
	EVP_PKEY *key = NULL;
	p2m_secret *jwt = NULL;

	if ((cert = p2m_jwt_load_cert(cert_file, error)) == NULL)
		goto out;
	if ((key = load_key(key_file, error)) == NULL)
		goto out;
	jwt = p2m_jwt_build(key, cert, client_id, aud, now, error);
out:
	EVP_PKEY_free(key);
	X509_free(cert);
	return jwt;
}

gboolean
p2m_jwt_cert_not_after(const char *cert_file, gint64 *not_after, GError **error)
{
	X509 *cert = p2m_jwt_load_cert(cert_file, error);
	struct tm tm;
	gboolean ok = FALSE;

	*not_after = 0;
	if (cert == NULL)
		return FALSE;
	memset(&tm, 0, sizeof(tm));
	if (ASN1_TIME_to_tm(X509_get0_notAfter(cert), &tm) != 1) {
		g_set_error(error, P2M_ERROR, P2M_E_SECRET, "client_certificate %s: unreadable notAfter", cert_file);
		goto out;
	}
	*not_after = (gint64) timegm(&tm);
	ok = TRUE;
out:
	X509_free(cert);
	return ok;
}
