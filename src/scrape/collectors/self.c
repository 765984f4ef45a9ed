/*-------------------------------------------------------------------------
 *
 * self.c
 *		pg_prom's own health: scrapes, HTTP answers by status code, clients
 *		refused, collector errors and duplicate series dropped.
 *
 * These counters live in shared memory and outlive the worker; without
 * shared_preload_libraries there is no shared memory and only the
 * families that need none are written (by static.c and the renderer).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "scrape/collectors/collectors.h"
#include "shmem.h"

void
pgprom_collect_self(PromWriter *w)
{
	int			i;
	double		scrapes;

	if (pgprom_shared == NULL)
		return;

	scrapes = (double) pg_atomic_read_u64(&pgprom_shared->scrapes);
	if (pgprom_expo_family(w, "pg_prom_scrapes_total",
						   "Renders of the metrics, over HTTP and through pg_prom_metrics(), since server start.",
						   PROM_COUNTER))
		pgprom_expo_value(w, scrapes);
	/* postgres_exporter's name for it, which its mixin reads */
	if (pgprom_expo_family(w, "pg_exporter_scrapes_total",
						   "Compatibility name (postgres_exporter's) for pg_prom_scrapes_total.",
						   PROM_COUNTER))
		pgprom_expo_value(w, scrapes);

	if (pgprom_expo_family(w, "pg_prom_http_requests_total",
						   "HTTP requests answered by the pg_prom worker, by status code.",
						   PROM_COUNTER))
	{
		for (i = 0; i < PGPROM_NUM_HTTP_CODES; i++)
		{
			char		code[8];

			snprintf(code, sizeof(code), "%d", pgprom_http_codes[i]);
			pgprom_expo_value1(w, "code", code,
							   (double) pg_atomic_read_u64(&pgprom_shared->http_requests[i]));
		}
	}

	if (pgprom_expo_family(w, "pg_prom_http_clients_refused_total",
						   "HTTP connections refused because the endpoint was full of connections being served.",
						   PROM_COUNTER))
		pgprom_expo_value(w, (double) pg_atomic_read_u64(&pgprom_shared->clients_refused));
	if (pgprom_expo_family(w, "pg_prom_http_clients_evicted_total",
						   "HTTP connections that were waiting for a request, closed to make room for a new one (pg_prom.max_clients, pg_prom.max_clients_per_address).",
						   PROM_COUNTER))
		pgprom_expo_value(w, (double) pg_atomic_read_u64(&pgprom_shared->clients_evicted));

	if (pgprom_expo_family(w, "pg_prom_http_clients_denied_total",
						   "HTTP connections closed because the client's address is not in pg_prom.allowed_clients.",
						   PROM_COUNTER))
		pgprom_expo_value(w, (double) pg_atomic_read_u64(&pgprom_shared->clients_denied));

	if (pgprom_expo_family(w, "pg_prom_http_auth_failures_total",
						   "Requests for the metrics refused with 401 because authentication failed.",
						   PROM_COUNTER))
		pgprom_expo_value(w, (double) pg_atomic_read_u64(&pgprom_shared->auth_failures));

	if (pgprom_expo_family(w, "pg_prom_duplicate_series_dropped_total",
						   "Series or families the writer refused because they were already in the scrape.",
						   PROM_COUNTER))
		pgprom_expo_value(w, (double) pg_atomic_read_u64(&pgprom_shared->duplicate_series));

	if (pgprom_expo_family(w, "pg_prom_collector_errors_total",
						   "Collector failures (errors and timeouts) since server start.",
						   PROM_COUNTER))
		for (i = 0; i < pgprom_num_collectors; i++)
			pgprom_expo_value1(w, "collector", pgprom_collectors[i].name,
							   (double) pg_atomic_read_u64(&pgprom_shared->collector_errors[i]));
}
