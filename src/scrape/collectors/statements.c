/*-------------------------------------------------------------------------
 *
 * statements.c
 *		pg_statement_duration_seconds{datname, command} and
 *		pg_transaction_duration_seconds{datname}: latency histograms fed by
 *		the executor, utility and transaction hooks of every backend
 *		(hooks.c).
 *
 * Top-level statements of client backends only (functions, nested SPI,
 * parallel workers and pg_prom itself are not counted twice or at all).
 * Databases beyond pg_prom.max_databases share datname="[other]"; a
 * database really named "[other]" is left out rather than pose as them.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "commands/dbcommands.h"
#include "utils/lsyscache.h"	/* get_database_name() from 19 on */

#include "backend/hooks.h"
#include "scrape/collectors/collectors.h"

#define OTHER_DATABASES "[other]"

/* Label of a slot: the database's name, "[other]", or NULL to skip it. */
static const char *
slot_name(PromHookCounters *c, int slot)
{
	Oid			oid;
	char	   *name;

	if (slot == c->ndatabases - 1)
		return OTHER_DATABASES;
	oid = pg_atomic_read_u32(&c->databases[slot].dboid);
	if (!OidIsValid(oid))
		return NULL;
	name = get_database_name(oid);
	if (name == NULL)
		pgprom_release_database_slot(slot, oid);	/* dropped: free it */
	else if (strcmp(name, OTHER_DATABASES) == 0)
		return NULL;			/* a database named like the fold: left out */
	return name;
}

/*
 * One histogram series.  For the protobuf format its native buckets too,
 * read first, and the classic counts cut to their total (which the
 * protobuf sample_count must equal): pgprom_expo_cut_counts().
 */
static void
write_histogram(PromWriter *w, PromHistogram *h, int nlabels,
				const char *const *names, const char *const *values)
{
	uint64		counts[PGPROM_LATENCY_BUCKETS + 1];
	uint64		native[PGPROM_NATIVE_BUCKETS];
	uint64		native_zero = 0;
	bool		with_native = pgprom_expo_native_wanted(w);
	int			b;

	if (pg_atomic_read_u64(&h->count) == 0)
		return;
	if (with_native)
	{
		uint64		total;

		native_zero = pg_atomic_read_u64(&h->native_zero);
		total = native_zero;
		for (b = 0; b < PGPROM_NATIVE_BUCKETS; b++)
		{
			native[b] = pg_atomic_read_u64(&h->native[b]);
			total += native[b];
		}
		pg_read_barrier();
		for (b = 0; b <= PGPROM_LATENCY_BUCKETS; b++)
			counts[b] = pg_atomic_read_u64(&h->buckets[b]);
		pgprom_expo_cut_counts(counts, PGPROM_LATENCY_BUCKETS + 1, total);
	}
	else
	{
		for (b = 0; b <= PGPROM_LATENCY_BUCKETS; b++)
			counts[b] = pg_atomic_read_u64(&h->buckets[b]);
	}
	pgprom_expo_histogram(w, nlabels, names, values, pgprom_latency_bounds,
						  PGPROM_LATENCY_BUCKETS, counts,
						  (double) pg_atomic_read_u64(&h->sum_us) / 1000000.0);
	if (with_native)
		pgprom_expo_native(w, PGPROM_NATIVE_SCHEMA, PGPROM_NATIVE_ZERO_THRESHOLD,
						   native_zero, PGPROM_NATIVE_MIN_INDEX, native, NULL,
						   PGPROM_NATIVE_BUCKETS);
}

void
pgprom_collect_statements(PromWriter *w)
{
	PromHookCounters *c = pgprom_hook_counters;
	int			slot;

	if (c == NULL)
		return;

	if (pgprom_expo_family(w, "pg_statement_duration_seconds",
						   "Duration of top-level statements of client sessions, by database and command.",
						   PROM_HISTOGRAM))
	{
		static const char *const names[] = {"datname", "command"};

		for (slot = 0; slot < c->ndatabases; slot++)
		{
			const char *datname = slot_name(c, slot);
			int			cmd;

			if (datname == NULL)
				continue;
			for (cmd = 0; cmd < PROM_NUM_COMMANDS; cmd++)
			{
				const char *values[2] = {datname, pgprom_command_names[cmd]};

				write_histogram(w, &c->databases[slot].statements[cmd], 2,
								names, values);
			}
		}
	}

	if (pgprom_expo_family(w, "pg_transaction_duration_seconds",
						   "Duration of transactions of client sessions (committed or rolled back), by database.",
						   PROM_HISTOGRAM))
	{
		static const char *const names[] = {"datname"};

		for (slot = 0; slot < c->ndatabases; slot++)
		{
			const char *values[1] = {slot_name(c, slot)};

			if (values[0] != NULL)
				write_histogram(w, &c->databases[slot].transactions, 1,
								names, values);
		}
	}
}
