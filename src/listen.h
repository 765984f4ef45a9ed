/*-------------------------------------------------------------------------
 *
 * listen.h
 *		Listening sockets of the worker, from pg_prom.listen_addresses.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PG_PROM_LISTEN_H
#define PG_PROM_LISTEN_H

#include "utils/guc.h"

#define PGPROM_MAX_LISTEN 16

extern int	pgprom_listen_open(const char *addresses, int port,
							   pgsocket *socks, int max);
extern void pgprom_listen_close(pgsocket *socks, int n);
extern bool pgprom_check_listen_addresses(char **newval, void **extra,
										  GucSource source);

#endif							/* PG_PROM_LISTEN_H */
