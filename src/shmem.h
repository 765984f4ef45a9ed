/*-------------------------------------------------------------------------
 *
 * shmem.h
 *		pg_prom's fixed shared-memory area: counters that outlive processes.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PG_PROM_SHMEM_H
#define PG_PROM_SHMEM_H

#include "port/atomics.h"
#include "storage/dsm.h"
#include "storage/latch.h"
#include "storage/spin.h"

/* HTTP status codes the worker can answer with, in counter order. */
#define PGPROM_HTTP_CODES_INIT {200, 400, 401, 403, 404, 405, 408, 413, 414, 429, 431, 500, 501, 503, 505}
#define PGPROM_NUM_HTTP_CODES 15

/* Upper bound on the collector table (collectors.c checks it at build). */
#define PGPROM_MAX_COLLECTORS 48

/*
 * A collection's mask has a bit per collector (below PGPROM_MAX_COLLECTORS)
 * and this one: write native-histogram lines for the protobuf format.
 */
#define PGPROM_MASK_NATIVE (UINT64CONST(1) << 63)

typedef struct PgPromShared
{
	pg_atomic_uint32 worker_pid;	/* the endpoint's; 0 while none runs */
	pg_atomic_uint32 bound_port;	/* port the endpoint listens on, 0 if none */
	pg_atomic_uint32 connect_failures;	/* collector starts that did not
										 * connect */

	/*
	 * The handoff between the endpoint and the collector worker, under mutex:
	 * the collector publishes its latch once connected (NULL while none is),
	 * the endpoint publishes its channel segment and the slot of the
	 * collection it wants (stream.h) and bumps collect_seq.
	 */
	slock_t		mutex;
	Latch	   *collector_latch;
	pid_t		collector_pid;
	dsm_handle	collect_handle;
	int			collect_slot;
	uint32		collect_seq;

	pg_atomic_uint64 scrapes;	/* renders, both doors */
	pg_atomic_uint64 http_requests[PGPROM_NUM_HTTP_CODES];
	pg_atomic_uint64 clients_refused;	/* over pg_prom.max_clients */
	pg_atomic_uint64 clients_evicted;	/* closed to make room for another */
	pg_atomic_uint64 clients_denied;	/* not in pg_prom.allowed_clients */
	pg_atomic_uint64 auth_failures; /* 401 answers */
	pg_atomic_uint64 duplicate_series;	/* dropped by the writer */
	pg_atomic_uint64 collector_errors[PGPROM_MAX_COLLECTORS];
} PgPromShared;

/* NULL unless loaded through shared_preload_libraries */
extern PgPromShared *pgprom_shared;

extern const int pgprom_http_codes[PGPROM_NUM_HTTP_CODES];

extern Size pgprom_shmem_size(void);
extern void pgprom_shmem_init(void);
extern void pgprom_count_http_status(int status);

#endif							/* PG_PROM_SHMEM_H */
