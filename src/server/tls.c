/*-------------------------------------------------------------------------
 *
 * tls.c
 *		TLS for the endpoint, with the OpenSSL PostgreSQL already links.
 *
 * pg_prom.tls = on serves HTTPS only: a client that speaks plain HTTP
 * fails the handshake and is disconnected.  Certificate and key default to
 * the server's own ssl_cert_file and ssl_key_file; pg_prom.tls_ca_file
 * turns on client-certificate verification.  Everything is read again at
 * every reload.  When the files cannot be loaded the worker logs why and
 * keeps the endpoint down: it never falls back to plain text.
 *
 * All I/O is non-blocking: the handshake, reads and writes report which
 * socket event they wait for (OpenSSL may need to write while reading and
 * the other way round), and the worker's event loop waits for exactly that.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "storage/latch.h"
#include "utils/guc.h"

#include "guc.h"
#include "server/tls.h"

static SSL_CTX *context = NULL;
static bool passphrase_asked = false;

/*
 * OpenSSL asks for the passphrase of an encrypted key: the worker has no
 * terminal to prompt on (OpenSSL's default would read from one and hang),
 * so it refuses, and the reload logs why.
 */
static int
no_passphrase(char *buf, int size, int rwflag, void *userdata)
{
	passphrase_asked = true;
	return 0;
}

static const char *
ssl_error_text(void)
{
	unsigned long e = ERR_get_error();
	static char buf[256];

	if (e == 0)
		return "no further detail";
	ERR_error_string_n(e, buf, sizeof(buf));
	return buf;
}

/*
 * Build a new context from the settings.  Returns false (and leaves TLS
 * not ready, so that the endpoint stays down) when TLS is on but the
 * context cannot be built.
 */
bool
pgprom_tls_reload(void)
{
	SSL_CTX    *ctx;
	bool		key_loaded;
	const char *cert = pgprom_tls_cert_file[0] ? pgprom_tls_cert_file :
		GetConfigOption("ssl_cert_file", false, false);
	const char *key = pgprom_tls_key_file[0] ? pgprom_tls_key_file :
		GetConfigOption("ssl_key_file", false, false);

	if (context)
	{
		SSL_CTX_free(context);
		context = NULL;
	}
	if (!pgprom_tls)
		return true;

	ctx = SSL_CTX_new(TLS_server_method());
	if (ctx == NULL)
	{
		ereport(WARNING,
				(errmsg("pg_prom: could not create a TLS context: %s", ssl_error_text())));
		return false;
	}
	SSL_CTX_set_default_passwd_cb(ctx, no_passphrase);
	passphrase_asked = false;
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
	if (!SSL_CTX_set_min_proto_version(ctx, pgprom_tls_min_protocol == 13 ?
									   TLS1_3_VERSION : TLS1_2_VERSION))
		goto fail;
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1)
	{
		ereport(WARNING,
				(errmsg("pg_prom: could not load the TLS certificate \"%s\": %s", cert, ssl_error_text()),
				 errdetail("The metrics endpoint stays down until a reload finds a usable certificate."),
				 errhint("Set pg_prom.tls_cert_file, or ssl_cert_file for the server's own certificate.")));
		SSL_CTX_free(ctx);
		return false;
	}
	key_loaded = SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) == 1;
	if (!key_loaded && passphrase_asked)
	{
		ereport(WARNING,
				(errmsg("pg_prom: the TLS key \"%s\" is protected by a passphrase", key),
				 errdetail("The endpoint cannot prompt for one; it stays down until a reload finds a usable key."),
				 errhint("Give pg_prom.tls_key_file a key without a passphrase, readable by the server's user only (chmod 600).")));
		SSL_CTX_free(ctx);
		return false;
	}
	if (!key_loaded || SSL_CTX_check_private_key(ctx) != 1)
	{
		ereport(WARNING,
				(errmsg("pg_prom: could not load the TLS key \"%s\" or it does not match the certificate: %s",
						key, ssl_error_text()),
				 errdetail("The metrics endpoint stays down until a reload finds a usable key.")));
		SSL_CTX_free(ctx);
		return false;
	}
	if (pgprom_tls_ca_file[0])
	{
		if (SSL_CTX_load_verify_locations(ctx, pgprom_tls_ca_file, NULL) != 1)
		{
			ereport(WARNING,
					(errmsg("pg_prom: could not load the client CA file \"%s\": %s",
							pgprom_tls_ca_file, ssl_error_text()),
					 errdetail("The metrics endpoint stays down until a reload finds a usable CA file.")));
			SSL_CTX_free(ctx);
			return false;
		}
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	}
	context = ctx;
	return true;

fail:
	ereport(WARNING,
			(errmsg("pg_prom: could not configure TLS: %s", ssl_error_text())));
	SSL_CTX_free(ctx);
	return false;
}

/* Whether connections can be served: TLS is off, or its context is built. */
bool
pgprom_tls_ready(void)
{
	return !pgprom_tls || context != NULL;
}

/* A TLS session for an accepted socket, or NULL (the caller closes). */
void *
pgprom_tls_open(int sock)
{
	SSL		   *ssl;

	if (context == NULL)
		return NULL;
	ssl = SSL_new(context);
	if (ssl == NULL)
		return NULL;
	if (SSL_set_fd(ssl, sock) != 1)
	{
		SSL_free(ssl);
		return NULL;
	}
	SSL_set_accept_state(ssl);
	return ssl;
}

void
pgprom_tls_close(void *ssl)
{
	if (ssl)
		SSL_free((SSL *) ssl);
	ERR_clear_error();
}

/* Translate an OpenSSL result into our convention. */
static int
io_result(SSL *ssl, int rc, uint32 *want)
{
	switch (SSL_get_error(ssl, rc))
	{
		case SSL_ERROR_WANT_READ:
			*want = WL_SOCKET_READABLE;
			return TLS_IO_BLOCKED;
		case SSL_ERROR_WANT_WRITE:
			*want = WL_SOCKET_WRITEABLE;
			return TLS_IO_BLOCKED;
		case SSL_ERROR_ZERO_RETURN:
			ERR_clear_error();
			return TLS_IO_EOF;
		default:
			ERR_clear_error();
			return TLS_IO_ERROR;
	}
}

/* 1 when the handshake is done, TLS_IO_BLOCKED, or TLS_IO_ERROR. */
int
pgprom_tls_handshake(void *ssl, uint32 *want)
{
	int			rc;

	ERR_clear_error();
	rc = SSL_accept((SSL *) ssl);
	if (rc == 1)
		return 1;
	rc = io_result((SSL *) ssl, rc, want);
	return rc == TLS_IO_EOF ? TLS_IO_ERROR : rc;
}

int
pgprom_tls_recv(void *ssl, char *buf, int len, uint32 *want)
{
	int			rc;

	ERR_clear_error();
	rc = SSL_read((SSL *) ssl, buf, len);
	if (rc > 0)
		return rc;
	return io_result((SSL *) ssl, rc, want);
}

int
pgprom_tls_send(void *ssl, const char *buf, int len, uint32 *want)
{
	int			rc;

	ERR_clear_error();
	rc = SSL_write((SSL *) ssl, buf, len);
	if (rc > 0)
		return rc;
	rc = io_result((SSL *) ssl, rc, want);
	return rc == TLS_IO_EOF ? TLS_IO_ERROR : rc;
}

/* Send close_notify once, without waiting for the peer's. */
void
pgprom_tls_shutdown(void *ssl)
{
	ERR_clear_error();
	(void) SSL_shutdown((SSL *) ssl);
	ERR_clear_error();
}
