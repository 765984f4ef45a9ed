/*-------------------------------------------------------------------------
 *
 * stat_io.c
 *		pg_stat_io_*{backend_type,object,context}: what pg_stat_io shows
 *		(PostgreSQL 16+), read from the shared statistics.
 *
 * One family per column of the view: operations as counters
 * (pg_stat_io_reads_total, ..._writes_total, ..._writebacks_total,
 * ..._extends_total, ..._hits_total, ..._evictions_total, ..._reuses_total,
 * ..._fsyncs_total), their times in seconds (..._read_time_seconds_total,
 * ...; zero unless track_io_timing, or track_wal_io_timing for WAL from 18),
 * and the bytes of reads, writes and extends (..._read_bytes_total, ...:
 * the view's columns from 18, operations times BLCKSZ before, which is what
 * op_bytes said there).  Like the view, a series exists only for the
 * combinations of backend type, object and context PostgreSQL tracks
 * (pgstat_tracks_io_op), so the series are the view's non-NULL cells.
 * PostgreSQL 18 added the "wal" object and the "init" context: the labels
 * come from PostgreSQL's own names, so they appear by themselves.
 *
 * On 15 the collector writes nothing (pg_stat_io does not exist).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "pgstat.h"

#include "compat.h"
#include "scrape/collectors/collectors.h"

#ifdef PGPROM_HAS_STAT_IO

/* What a family reads from a cell of the statistics. */
typedef enum IoValue
{
	IO_COUNT,
	IO_SECONDS,
	IO_BYTES
} IoValue;

typedef struct IoFamily
{
	const char *name;
	const char *help;
	IOOp		op;
	IoValue		value;
} IoFamily;

static const IoFamily io_families[] = {
	{"pg_stat_io_reads_total", "Read operations (pg_stat_io.reads)", IOOP_READ, IO_COUNT},
	{"pg_stat_io_read_bytes_total", "Bytes read (pg_stat_io.read_bytes from 18; reads times BLCKSZ before)", IOOP_READ, IO_BYTES},
	{"pg_stat_io_read_time_seconds_total", "Time spent in read operations, in seconds (needs track_io_timing)", IOOP_READ, IO_SECONDS},
	{"pg_stat_io_writes_total", "Write operations (pg_stat_io.writes)", IOOP_WRITE, IO_COUNT},
	{"pg_stat_io_write_bytes_total", "Bytes written (pg_stat_io.write_bytes from 18; writes times BLCKSZ before)", IOOP_WRITE, IO_BYTES},
	{"pg_stat_io_write_time_seconds_total", "Time spent in write operations, in seconds (needs track_io_timing)", IOOP_WRITE, IO_SECONDS},
	{"pg_stat_io_writebacks_total", "Units of size BLCKSZ the process asked the kernel to write out to permanent storage (pg_stat_io.writebacks)", IOOP_WRITEBACK, IO_COUNT},
	{"pg_stat_io_writeback_time_seconds_total", "Time spent in writeback operations, in seconds (needs track_io_timing)", IOOP_WRITEBACK, IO_SECONDS},
	{"pg_stat_io_extends_total", "Relation extend operations (pg_stat_io.extends)", IOOP_EXTEND, IO_COUNT},
	{"pg_stat_io_extend_bytes_total", "Bytes added by extend operations (pg_stat_io.extend_bytes from 18; extends times BLCKSZ before)", IOOP_EXTEND, IO_BYTES},
	{"pg_stat_io_extend_time_seconds_total", "Time spent in extend operations, in seconds (needs track_io_timing)", IOOP_EXTEND, IO_SECONDS},
	{"pg_stat_io_hits_total", "Times a desired block was found in a shared buffer (pg_stat_io.hits)", IOOP_HIT, IO_COUNT},
	{"pg_stat_io_evictions_total", "Times a block was written out of a shared or local buffer to make it available for another use (pg_stat_io.evictions)", IOOP_EVICT, IO_COUNT},
	{"pg_stat_io_reuses_total", "Times an existing buffer in a size-limited ring buffer outside of shared buffers was reused (pg_stat_io.reuses)", IOOP_REUSE, IO_COUNT},
	{"pg_stat_io_fsyncs_total", "fsync calls (pg_stat_io.fsyncs)", IOOP_FSYNC, IO_COUNT},
	{"pg_stat_io_fsync_time_seconds_total", "Time spent in fsync operations, in seconds (needs track_io_timing)", IOOP_FSYNC, IO_SECONDS},
};

/* Only reads, writes and extends have bytes in the view. */
static bool
has_bytes(IOOp op)
{
	return op == IOOP_READ || op == IOOP_WRITE || op == IOOP_EXTEND;
}

static double
cell(const PgStat_BktypeIO *bk, IOObject obj, IOContext ctx, const IoFamily *f)
{
	switch (f->value)
	{
		case IO_COUNT:
			return (double) bk->counts[obj][ctx][f->op];
		case IO_SECONDS:
			/* kept in microseconds */
			return (double) bk->times[obj][ctx][f->op] / 1000000.0;
		case IO_BYTES:
			return PGPROM_IO_BYTES(bk, obj, ctx, f->op);
	}
	return 0;
}

void
pgprom_collect_stat_io(PromWriter *w)
{
	static const char *const names[] = {"backend_type", "object", "context"};
	PgStat_IO  *io = pgstat_fetch_stat_io();
	int			i;

	for (i = 0; i < lengthof(io_families); i++)
	{
		const IoFamily *f = &io_families[i];
		int			bktype;

		if (f->value == IO_BYTES && !has_bytes(f->op))
			continue;
		if (!pgprom_expo_family(w, f->name, f->help, PROM_COUNTER))
			continue;
		for (bktype = 0; bktype < BACKEND_NUM_TYPES; bktype++)
		{
			const PgStat_BktypeIO *bk = &io->stats[bktype];
			int			obj;

			if (!pgstat_tracks_io_bktype((BackendType) bktype))
				continue;
			for (obj = 0; obj < IOOBJECT_NUM_TYPES; obj++)
			{
				int			ctx;

				for (ctx = 0; ctx < IOCONTEXT_NUM_TYPES; ctx++)
				{
					const char *values[3];

					if (!pgstat_tracks_io_object((BackendType) bktype,
												 (IOObject) obj,
												 (IOContext) ctx) ||
						!pgstat_tracks_io_op((BackendType) bktype,
											 (IOObject) obj,
											 (IOContext) ctx, f->op))
						continue;
					values[0] = GetBackendTypeDesc((BackendType) bktype);
					values[1] = pgstat_get_io_object_name((IOObject) obj);
					values[2] = pgstat_get_io_context_name((IOContext) ctx);
					pgprom_expo_sample(w, NULL, 3, names, values,
									   cell(bk, (IOObject) obj,
											(IOContext) ctx, f));
				}
			}
		}
	}
}

#else							/* !PGPROM_HAS_STAT_IO */

void
pgprom_collect_stat_io(PromWriter *w)
{
	/* pg_stat_io came with PostgreSQL 16 */
}

#endif
