/*-------------------------------------------------------------------------
 *
 * endpoint.h
 *		The pg_prom endpoint worker: registration and main.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PG_PROM_ENDPOINT_H
#define PG_PROM_ENDPOINT_H

#include "postmaster/bgworker.h"

#include "compat.h"

/* Register the endpoint worker; called from _PG_init in the postmaster. */
extern void pgprom_register_worker(void);

extern PGDLLEXPORT void pgprom_worker_main(Datum main_arg);

#endif							/* PG_PROM_ENDPOINT_H */
