/*-------------------------------------------------------------------------
 *
 * listen.h
 *		Listening sockets of the worker, from pg_prom.listen_addresses.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PG_PROM_LISTEN_H
#define PG_PROM_LISTEN_H

#include "guc.h"

extern int	pgprom_listen_open(const char *addresses, int port,
							   pgsocket *socks, int max);
extern void pgprom_listen_close(pgsocket *socks, int n);

#endif							/* PG_PROM_LISTEN_H */
