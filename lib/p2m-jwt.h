/* SPDX-License-Identifier: Apache-2.0 */
/* p2m-jwt.h - the JWT client assertion (PS256, x5t#S256) that proves an app's certificate to Entra. */
#ifndef P2M_JWT_H
#define P2M_JWT_H

#include <glib.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "p2m-secret.h"

#define P2M_JWT_LIFETIME   300          /* exp = nbf + 5 min (Entra allows up to 10) */
#define P2M_JWT_CERT_MAX   (64 * 1024)

/* base64url without padding (RFC 7515 §2).  Caller frees. */
char *p2m_jwt_base64url(const guint8 *data, gsize len);

/* Pure but for the random jti: build and sign the assertion.  Header
 * {"alg":"PS256","typ":"JWT","x5t#S256":base64url(SHA-256(DER cert))},
 * claims {"aud":AUD,"iss":CLIENT_ID,"sub":CLIENT_ID,"jti":<random>,
 * "nbf":NOW,"iat":NOW,"exp":NOW+P2M_JWT_LIFETIME}.  KEY must be RSA (PSS
 * padding, salt length = digest length).  Errors: P2M_E_SECRET. */
p2m_secret *p2m_jwt_build(EVP_PKEY *key, X509 *cert, const char *client_id, const char *aud,
                          gint64 now, GError **error);

/* Read CERT_FILE (PEM, public) and KEY_FILE (PEM, must be 0600 like every
 * secret: P2M_E_SECRET_MODE otherwise) and build the assertion. */
p2m_secret *p2m_jwt_assertion(const char *cert_file, const char *key_file, const char *client_id,
                              const char *aud, gint64 now, GError **error);

/* Load a PEM certificate of at most P2M_JWT_CERT_MAX bytes (P2M_E_SECRET). */
X509 *p2m_jwt_load_cert(const char *cert_file, GError **error);
/* The certificate's notAfter as unix seconds. */
gboolean p2m_jwt_cert_not_after(const char *cert_file, gint64 *not_after, GError **error);

#endif /* P2M_JWT_H */
