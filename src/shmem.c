/*-------------------------------------------------------------------------
 *
 * shmem.c
 *		Create and attach pg_prom's fixed shared-memory area.
 *
 * The area holds atomics, read and written without a lock, and the
 * endpoint-collector handoff under its spinlock.  _PG_init's shared memory
 * hooks (pg_prom.c) size and create it with the other modules' areas.  It
 * exists only when the library is in shared_preload_libraries; every user
 * must cope with pgprom_shared == NULL (the SQL function works without it).
 * After a crash-restart the postmaster runs the startup hook again and the
 * counters start from zero, which rate() in Prometheus handles.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"

#include "shmem.h"

PgPromShared *pgprom_shared = NULL;

const int	pgprom_http_codes[PGPROM_NUM_HTTP_CODES] = PGPROM_HTTP_CODES_INIT;

Size
pgprom_shmem_size(void)
{
	return MAXALIGN(sizeof(PgPromShared));
}

/* Create or attach the area; the caller holds AddinShmemInitLock. */
void
pgprom_shmem_init(void)
{
	bool		found;

	pgprom_shared = ShmemInitStruct("pg_prom", sizeof(PgPromShared), &found);
	if (!found)
	{
		int			i;

		pg_atomic_init_u32(&pgprom_shared->worker_pid, 0);
		pg_atomic_init_u32(&pgprom_shared->bound_port, 0);
		pg_atomic_init_u32(&pgprom_shared->connect_failures, 0);
		SpinLockInit(&pgprom_shared->mutex);
		pgprom_shared->collector_latch = NULL;
		pgprom_shared->collector_pid = 0;
		pgprom_shared->collect_handle = DSM_HANDLE_INVALID;
		pgprom_shared->collect_slot = 0;
		pgprom_shared->collect_seq = 0;
		pg_atomic_init_u64(&pgprom_shared->scrapes, 0);
		for (i = 0; i < PGPROM_NUM_HTTP_CODES; i++)
			pg_atomic_init_u64(&pgprom_shared->http_requests[i], 0);
		pg_atomic_init_u64(&pgprom_shared->clients_refused, 0);
		pg_atomic_init_u64(&pgprom_shared->clients_evicted, 0);
		pg_atomic_init_u64(&pgprom_shared->clients_denied, 0);
		pg_atomic_init_u64(&pgprom_shared->auth_failures, 0);
		pg_atomic_init_u64(&pgprom_shared->duplicate_series, 0);
		for (i = 0; i < PGPROM_MAX_COLLECTORS; i++)
			pg_atomic_init_u64(&pgprom_shared->collector_errors[i], 0);
	}
}

/*
 * Count one HTTP response by status code; unknown codes are not counted
 * (the table above lists every code the worker produces).
 */
void
pgprom_count_http_status(int status)
{
	int			i;

	if (pgprom_shared == NULL)
		return;
	for (i = 0; i < PGPROM_NUM_HTTP_CODES; i++)
	{
		if (pgprom_http_codes[i] == status)
		{
			pg_atomic_fetch_add_u64(&pgprom_shared->http_requests[i], 1);
			return;
		}
	}
}
