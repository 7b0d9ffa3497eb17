/* SPDX-License-Identifier: Apache-2.0 */
/* test-jwt.c - unit tests for the PS256 client assertion: header, claims, and a signature OpenSSL verifies. */
#include "config.h"

#include <glib.h>
#include <json-glib/json-glib.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <string.h>

#include "p2m-error.h"
#include "p2m-jwt.h"

static EVP_PKEY *key;
static X509 *cert;

static void
make_credentials(void)
{
	X509_NAME *name;

	key = EVP_RSA_gen(2048);
	cert = X509_new();
	ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
	X509_gmtime_adj(X509_getm_notBefore(cert), 0);
	X509_gmtime_adj(X509_getm_notAfter(cert), 86400);
	X509_set_pubkey(cert, key);
	name = X509_get_subject_name(cert);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *) "p2m test", -1, -1, 0);
	X509_set_issuer_name(cert, name);
	g_assert_cmpint(X509_sign(cert, key, EVP_sha256()), >, 0);
}

/* base64url -> bytes, re-padding first (g_base64_decode drops unpadded tails). */
static guchar *
b64url_decode(const char *s, gsize n, gsize *out_len)
{
	GString *t = g_string_new_len(s, (gssize) n);
	guchar *out;
	gsize i;

	for (i = 0; i < t->len; i++)
		t->str[i] = t->str[i] == '-' ? '+' : t->str[i] == '_' ? '/' : t->str[i];
	while (t->len % 4 != 0)
		g_string_append_c(t, '=');
	out = g_base64_decode(t->str, out_len);
	g_string_free(t, TRUE);
	return out;
}

static JsonObject *
decode_part(JsonParser *p, const char *s, gsize n)
{
	gsize len = 0;
	g_autofree guchar *json = b64url_decode(s, n, &len);

	g_assert_true(json_parser_load_from_data(p, (const char *) json, (gssize) len, NULL));
	return json_node_get_object(json_parser_get_root(p));
}

static void
test_base64url(void)
{
	g_autofree char *a = p2m_jwt_base64url((const guint8 *) "\xfb\xff", 2);
	g_autofree char *b = p2m_jwt_base64url((const guint8 *) "abc", 3);

	g_assert_cmpstr(a, ==, "-_8");
	g_assert_cmpstr(b, ==, "YWJj");
}

static void
test_assertion(void)
{
	const char *aud = "https://login.microsoftonline.com/contoso.com/oauth2/v2.0/token";
	g_autoptr(GError) error = NULL;
	g_autoptr(p2m_secret) jwt = p2m_jwt_build(key, cert, "app-1234", aud, 1700000000, &error);
	g_autoptr(JsonParser) hp = json_parser_new(), cp = json_parser_new();
	g_autoptr(p2m_secret) again = NULL;
	unsigned char md[32];
	unsigned int mdlen = 0;
	g_autofree char *x5t = NULL;
	g_autofree guchar *sig = NULL;
	gsize siglen = 0;
	const char *dot1, *dot2;
	JsonObject *h, *c;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;

	g_assert_no_error(error);
	dot1 = strchr(jwt->data, '.');
	dot2 = strchr(dot1 + 1, '.');
	g_assert_nonnull(dot2);
	h = decode_part(hp, jwt->data, (gsize) (dot1 - jwt->data));
	c = decode_part(cp, dot1 + 1, (gsize) (dot2 - dot1 - 1));
	/* header: PS256, JWT, SHA-256 thumbprint of the DER certificate */
	g_assert_cmpstr(json_object_get_string_member(h, "alg"), ==, "PS256");
	g_assert_cmpstr(json_object_get_string_member(h, "typ"), ==, "JWT");
	X509_digest(cert, EVP_sha256(), md, &mdlen);
	x5t = p2m_jwt_base64url(md, mdlen);
	g_assert_cmpstr(json_object_get_string_member(h, "x5t#S256"), ==, x5t);
	/* claims */
	g_assert_cmpstr(json_object_get_string_member(c, "aud"), ==, aud);
	g_assert_cmpstr(json_object_get_string_member(c, "iss"), ==, "app-1234");
	g_assert_cmpstr(json_object_get_string_member(c, "sub"), ==, "app-1234");
	g_assert_cmpint(json_object_get_int_member(c, "nbf"), ==, 1700000000);
	g_assert_cmpint(json_object_get_int_member(c, "exp"), ==, 1700000000 + 300);
	g_assert_true(g_uuid_string_is_valid(json_object_get_string_member(c, "jti")));
	/* the signature verifies with RSASSA-PSS, SHA-256, 32-byte salt */
	sig = b64url_decode(dot2 + 1, strlen(dot2 + 1), &siglen);
	g_assert_cmpint(EVP_DigestVerifyInit(ctx, &pctx, EVP_sha256(), NULL, key), ==, 1);
	EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING);
	EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 32);
	g_assert_cmpint(EVP_DigestVerify(ctx, sig, siglen, (const unsigned char *) jwt->data,
	                                 (size_t) (dot2 - jwt->data)), ==, 1);
	/* a tampered claim does not */
	((char *) jwt->data)[dot1 - jwt->data + 2] ^= 1;
	EVP_MD_CTX_reset(ctx);
	EVP_DigestVerifyInit(ctx, &pctx, EVP_sha256(), NULL, key);
	EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING);
	g_assert_cmpint(EVP_DigestVerify(ctx, sig, siglen, (const unsigned char *) jwt->data,
	                                 (size_t) (dot2 - jwt->data)), !=, 1);
	EVP_MD_CTX_free(ctx);
	/* every assertion has its own jti */
	again = p2m_jwt_build(key, cert, "app-1234", aud, 1700000000, &error);
	g_assert_cmpstr(again->data, !=, jwt->data);
}

static void
test_wrong_key(void)
{
	g_autoptr(GError) error = NULL;
	EVP_PKEY *other = EVP_RSA_gen(2048);
	EVP_PKEY *ec = EVP_EC_gen("P-256");

	g_assert_null(p2m_jwt_build(other, cert, "a", "b", 0, &error));
	g_assert_error(error, P2M_ERROR, P2M_E_SECRET);
	g_clear_error(&error);
	g_assert_null(p2m_jwt_build(ec, cert, "a", "b", 0, &error));
	g_assert_error(error, P2M_ERROR, P2M_E_SECRET);
	EVP_PKEY_free(other);
	EVP_PKEY_free(ec);
}

int
main(int argc, char **argv)
{
	int rc;

	g_test_init(&argc, &argv, NULL);
	make_credentials();
	g_test_add_func("/jwt/base64url", test_base64url);
	g_test_add_func("/jwt/assertion", test_assertion);
	g_test_add_func("/jwt/wrong-key", test_wrong_key);
	rc = g_test_run();
	X509_free(cert);
	EVP_PKEY_free(key);
	return rc;
}
