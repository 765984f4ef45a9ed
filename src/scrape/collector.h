/*-------------------------------------------------------------------------
 *
 * collector.h
 *		The collector worker: renders collections the endpoint asks for.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PG_PROM_COLLECTOR_H
#define PG_PROM_COLLECTOR_H

#include "compat.h"

#include "postgres.h"

extern PGDLLEXPORT void pgprom_collector_main(Datum main_arg);

#endif							/* PG_PROM_COLLECTOR_H */
