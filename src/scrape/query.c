/*-------------------------------------------------------------------------
 *
 * query.c
 *		SPI helpers for collectors that read catalog and statistics views.
 *
 * Each query is prepared once per process and kept (SPI_keepplan), so a
 * scrape pays for execution only; the plan cache replans by itself after
 * catalog changes.  Queries are fixed strings that schema-qualify every
 * object: nothing from a request or a user ever reaches SQL.  Results are
 * read from SPI_tuptable of the last pgprom_query(); columns must be text
 * or float8 (queries cast).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/builtins.h"
#include "utils/memutils.h"

#include "scrape/expo.h"
#include "scrape/query.h"
#include "scrape/render.h"

/* Databases of the current render; reset by the renderer. */
static List *render_databases = NIL;
static bool render_databases_valid = false;

uint64
pgprom_query(SPIPlanPtr *plan, const char *sql)
{
	return pgprom_query_limit(plan, sql, 0);
}

/* pgprom_query returning at most limit rows (0: all). */
uint64
pgprom_query_limit(SPIPlanPtr *plan, const char *sql, int limit)
{
	int			rc;

	if (*plan == NULL)
	{
		SPIPlanPtr	p = SPI_prepare(sql, 0, NULL);

		if (p == NULL)
			elog(ERROR, "pg_prom: SPI_prepare failed: %s",
				 SPI_result_code_string(SPI_result));
		if (SPI_keepplan(p) != 0)
			elog(ERROR, "pg_prom: SPI_keepplan failed");
		*plan = p;
	}
	rc = SPI_execute_plan(*plan, NULL, NULL, true, limit);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "pg_prom: query failed: %s", SPI_result_code_string(rc));
	return SPI_processed;
}

bool
pgprom_isnull(uint64 row, int col)
{
	bool		isnull;

	(void) SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc,
						 col, &isnull);
	return isnull;
}

/* Text column as a C string in CurrentMemoryContext; "" for NULL. */
char *
pgprom_text(uint64 row, int col)
{
	bool		isnull;
	Datum		d = SPI_getbinval(SPI_tuptable->vals[row],
								  SPI_tuptable->tupdesc, col, &isnull);

	if (isnull)
		return pstrdup("");
	return TextDatumGetCString(d);
}

double
pgprom_double(uint64 row, int col, double if_null)
{
	bool		isnull;
	Datum		d = SPI_getbinval(SPI_tuptable->vals[row],
								  SPI_tuptable->tupdesc, col, &isnull);

	if (isnull)
		return if_null;
	return DatumGetFloat8(d);
}

/*
 * The databases in pg_database, read once per render and kept in the
 * render's memory so that every collector labels them the same way.
 */
List *
pgprom_databases(void)
{
	static SPIPlanPtr plan = NULL;
	MemoryContext old;
	uint64		n;
	uint64		i;
	List	   *result = NIL;

	if (render_databases_valid)
		return render_databases;

	n = pgprom_query(&plan,
					 "SELECT oid::pg_catalog.int8::pg_catalog.float8, datname::pg_catalog.text,"
					 " datconnlimit::pg_catalog.float8, datallowconn::pg_catalog.int4::pg_catalog.float8"
					 " FROM pg_catalog.pg_database ORDER BY datname");
	old = MemoryContextSwitchTo(pgprom_render_context());
	for (i = 0; i < n; i++)
	{
		PromDatabase *db = palloc(sizeof(PromDatabase));

		db->oid = (Oid) pgprom_double(i, 1, 0);
		db->name = pgprom_text(i, 2);
		db->connlimit = (int) pgprom_double(i, 3, -1);
		db->allowconn = pgprom_double(i, 4, 0) != 0;
		result = lappend(result, db);
	}
	MemoryContextSwitchTo(old);
	render_databases = result;
	render_databases_valid = true;
	return result;
}

/* Position of a database in pgprom_databases(), or -1. */
int
pgprom_database_index(List *databases, Oid oid)
{
	ListCell   *lc;

	foreach(lc, databases)
	{
		if (((PromDatabase *) lfirst(lc))->oid == oid)
			return foreach_current_index(lc);
	}
	return -1;
}

/* Called by the renderer at the start and end of every render. */
void
pgprom_forget_databases(void)
{
	render_databases = NIL;
	render_databases_valid = false;
}

/*
 * Write one family per value column of the last query's result; each row
 * is a series labelled by the leading text columns.
 */
void
pgprom_emit_columns(PromWriter *w, uint64 nrows, int nlabels,
					const char *const *labels, const PromColumn *cols,
					int ncols)
{
	const char **labelvalues = palloc(sizeof(char *) * Max(nrows * nlabels, 1));
	double	   *values = palloc(sizeof(double) * Max(nrows * ncols, 1));
	bool	   *nulls = palloc(sizeof(bool) * Max(nrows * ncols, 1));
	uint64		r;
	int			c;

	for (r = 0; r < nrows; r++)
	{
		for (c = 0; c < nlabels; c++)
			labelvalues[r * nlabels + c] = pgprom_text(r, c + 1);
		for (c = 0; c < ncols; c++)
		{
			nulls[r * ncols + c] = pgprom_isnull(r, nlabels + c + 1);
			values[r * ncols + c] = pgprom_double(r, nlabels + c + 1, 0);
		}
	}
	expo_columns(w, cols, ncols, (int) nrows, nlabels, labels, labelvalues,
				 values, nulls);
}

void
pgprom_emit_family(PromWriter *w, uint64 nrows, const PromFamilySpec *spec)
{
	const char *values[PGPROM_MAX_SPEC_LABELS];
	uint64		r;

	Assert(spec->nlabels <= PGPROM_MAX_SPEC_LABELS);
	if (!expo_family(w, spec->name, spec->help, spec->type))
		return;
	for (r = 0; r < nrows; r++)
	{
		int			l;

		if (spec->skip_null && pgprom_isnull(r, spec->value_col))
			continue;
		for (l = 0; l < spec->nlabels; l++)
			values[l] = pgprom_text(r, spec->label_cols[l]);
		expo_sample(w, NULL, spec->nlabels, spec->labels, values,
					pgprom_double(r, spec->value_col, 0) /
					(spec->divisor != 0 ? spec->divisor : 1));
	}
}

void
pgprom_emit_families(PromWriter *w, uint64 nrows, const PromFamilySpec *specs,
					 int nspecs)
{
	int			i;

	for (i = 0; i < nspecs; i++)
		pgprom_emit_family(w, nrows, &specs[i]);
}
