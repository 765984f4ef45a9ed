/*-------------------------------------------------------------------------
 *
 * tls.h
 *		TLS for the endpoint, with OpenSSL, non-blocking inside the event loop.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PG_PROM_TLS_H
#define PG_PROM_TLS_H


/* Results of the I/O functions besides a byte count. */
#define TLS_IO_EOF 0
#define TLS_IO_BLOCKED (-1)		/* *want says which socket event to wait for */
#define TLS_IO_ERROR (-2)

extern bool pgprom_tls_reload(void);
extern bool pgprom_tls_ready(void);
extern void *pgprom_tls_open(int sock);
extern void pgprom_tls_close(void *ssl);
extern int	pgprom_tls_handshake(void *ssl, uint32 *want);
extern int	pgprom_tls_recv(void *ssl, char *buf, int len, uint32 *want);
extern int	pgprom_tls_send(void *ssl, const char *buf, int len, uint32 *want);
extern void pgprom_tls_shutdown(void *ssl);

#endif							/* PG_PROM_TLS_H */
