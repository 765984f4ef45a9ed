/*-------------------------------------------------------------------------
 *
 * tables.h
 *		Per-table and per-index statistics of every database: the numbers
 *		live from the shared statistics at every scrape, the names from a
 *		relation catalog per database (relcat.h).
 *
 * tables.c keeps the catalogs in the collector: its own database's, read
 * in process again when its catalog changes, and every other database's,
 * read by short-lived per-database workers (tables_worker.c) on an
 * interval and promptly when a scrape meets a database or a relation it
 * cannot name.  tables_render.c writes the families: numbers of every
 * table of every live database, the most relevant ones with their own
 * series and the rest folded into one "[other]" series per database.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PG_PROM_TABLES_H
#define PG_PROM_TABLES_H

#include "compat.h"

#include "nodes/pg_list.h"
#include "scrape/expo.h"
#include "scrape/relcat.h"
#include "utils/timestamp.h"

/* Which families a collector writes. */
typedef enum TableFamilies
{
	TABLE_FAMILIES_STAT,		/* pg_stat_user_tables_* counters and gauges */
	TABLE_FAMILIES_STATIO,		/* pg_statio_user_tables_* */
	TABLE_FAMILIES_SIZE,		/* pg_stat_user_tables_*size_bytes */
	TABLE_FAMILIES_INDEX_STAT,	/* pg_stat_user_indexes_* */
	TABLE_FAMILIES_INDEX_STATIO /* pg_statio_user_indexes_* */
} TableFamilies;

/*
 * The catalog of one database as the renderer uses it.  Owned by tables.c
 * (in the collector, kept across scrapes; elsewhere, for one scrape);
 * tables_render.c keeps its per-catalog state in the fields below the line.
 */
typedef struct DbCatalog
{
	Oid			dboid;
	char	   *datname;
	MemoryContext cxt;			/* everything this catalog points to */
	RelCatHeader *cat;			/* names; NULL until first read */
	RelCatHeader *sizes;		/* the last catalog read with sizes, or NULL */
	TimestampTz taken;			/* when cat was read */
	TimestampTz sizes_taken;
	uint64		generation;		/* new (unique in the process) whenever cat or
								 * datname changes */

	/* tables.c: scheduling */
	bool		refresh_wanted; /* a scrape met something it cannot name */
	TimestampTz refreshed_at;	/* the last job started for it */
	int			failures;		/* jobs in a row that brought nothing */
	uint32		last_len;		/* bytes of its last catalog */

	/* tables_render.c: state of the current generation */
	uint64		render_generation;
	MemoryContext render_cxt;	/* the arrays below; reset with a new
								 * generation */
	MemoryContext labels_cxt;	/* the label texts; reset with them */
	bool	   *selected;		/* per table: has its own series */
	bool	   *seen;			/* per table: had a statistics entry */
	bool	   *carried;		/* per table: seen only in an earlier catalog */
	struct LabelText **table_labels;	/* per table: label text, built lazily */
	struct LabelText **index_labels;	/* per index */
	struct LabelText *other_table_labels;	/* the "[other]" series */
	struct LabelText *other_index_labels;
	char	   *labels_server;	/* the server label they were made with */

	/* tables_render.c: the selection, kept across generations by OID */
	Oid		   *selected_relids;	/* sorted */
	int			nselected_relids;
	TimestampTz selected_at;
	int			selected_limit; /* pg_prom.max_tables it was made with */
	Oid		   *seen_relids;	/* sorted: the tables seen with an entry */
	int			nseen_relids;
} DbCatalog;

/*
 * Renderer: the catalogs to write, for the databases in the list (the
 * live pg_database rows, PromDatabase *): the current database's, then
 * those of the others the collector has.  In the collector, a database or
 * relation without a name makes pgprom_tables_want_refresh() ask for its
 * catalog again.
 */
extern List *pgprom_tables_catalogs(List *databases);
extern void pgprom_tables_want_refresh(DbCatalog *db);
extern bool pgprom_tables_in_collector(void);
extern uint64 pgprom_tables_new_generation(void);

/*
 * The catalog holding db's sizes: the last one read by its per-database
 * worker; for the current database, read now when older than
 * pg_prom.slow_collector_interval (in a backend, for every scrape).  NULL
 * when there is none yet.
 */
extern RelCatHeader *pgprom_tables_sizes(DbCatalog *db);

/* Renderer: write the families of one kind for every database. */
extern void pgprom_write_table_families(PromWriter *w, TableFamilies which);

/*
 * A relation of database dboid named as relid::regclass would (bare in
 * schema public, else schema.name), from the catalogs; its OID when
 * unknown.
 */
extern char *pgprom_tables_relname(Oid dboid, Oid relid);

/* The collector: set up once connected, then tick on every loop. */
extern void pgprom_tables_collector_init(void);
extern void pgprom_tables_tick(void);
extern long pgprom_tables_wakeup_ms(void);

/*
 * The dynamic shared memory segment of a per-database worker: set up by
 * the collector, filled by the worker with the catalog of its database
 * (sizes included).  The worker sets status last, after a write barrier;
 * JOB_TOO_SMALL asks for a segment of needed bytes.
 */
typedef enum TablesJobStatus
{
	JOB_PENDING = 0,
	JOB_DONE,
	JOB_TOO_SMALL
} TablesJobStatus;

typedef struct TablesJob
{
	Oid			dboid;
	Oid			roleoid;
	int			lock_timeout_ms;
	uint32		capacity;		/* bytes of data */
	uint32		len;			/* bytes written */
	uint32		needed;			/* with JOB_TOO_SMALL */
	volatile int status;
	char		data[FLEXIBLE_ARRAY_MEMBER] pg_attribute_aligned(MAXIMUM_ALIGNOF);
} TablesJob;

/* tables_worker.c: a per-database worker's entry point. */
extern PGDLLEXPORT void pgprom_tables_worker_main(Datum main_arg);

#endif							/* PG_PROM_TABLES_H */
