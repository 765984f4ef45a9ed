/*-------------------------------------------------------------------------
 *
 * query.c
 *		SPI helpers for collectors that read catalog and statistics views,
 *		and the databases of a render (a catalog scan, not SQL).
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

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/dependency.h"
#include "catalog/indexing.h"
#include "catalog/pg_class.h"
#include "catalog/pg_database.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_proc.h"
#include "utils/builtins.h"
#include "utils/catcache.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include "scrape/expo.h"
#include "scrape/query.h"
#include "scrape/scrape.h"

/* Databases of the current scrape, in its memory. */
static List *render_databases = NIL;
static bool render_databases_valid = false;

static void forget_databases(void *arg);

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

/* Order of pgprom_databases(): by name, as ORDER BY datname (C collation). */
static int
database_cmp(const ListCell *a, const ListCell *b)
{
	return strcmp(((PromDatabase *) lfirst(a))->name,
				  ((PromDatabase *) lfirst(b))->name);
}

/*
 * The databases in pg_database, read once per render and kept in the
 * render's memory so that every collector labels them the same way.  Read
 * with a catalog scan (a query per scrape cost more than the collectors
 * using it); the lock taken is the one a query would take, so a migration
 * holding pg_database makes the caller wait up to lock_timeout as before.
 */
List *
pgprom_databases(void)
{
	MemoryContext old;
	Relation	rel;
	SysScanDesc scan;
	HeapTuple	tup;
	List	   *result = NIL;

	if (render_databases_valid)
		return render_databases;
	pgprom_scrape_on_end(forget_databases);

	old = MemoryContextSwitchTo(pgprom_scrape_context());
	rel = table_open(DatabaseRelationId, AccessShareLock);
	scan = systable_beginscan(rel, InvalidOid, false, NULL, 0, NULL);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_database f = (Form_pg_database) GETSTRUCT(tup);
		PromDatabase *db = palloc(sizeof(PromDatabase));

		db->oid = f->oid;
		db->name = pstrdup(NameStr(f->datname));
		db->connlimit = f->datconnlimit;
		db->allowconn = f->datallowconn;
		db->istemplate = f->datistemplate;
		db->frozenxid = f->datfrozenxid;
		db->minmxid = f->datminmxid;
		result = lappend(result, db);
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	list_sort(result, database_cmp);
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

/* The scrape is over: its memory, and the list in it, go away. */
static void
forget_databases(void *arg)
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
	pgprom_expo_columns(w, cols, ncols, (int) nrows, nlabels, labels, labelvalues,
						values, nulls);
}

void
pgprom_emit_family(PromWriter *w, uint64 nrows, const PromFamilySpec *spec)
{
	const char *values[PGPROM_MAX_SPEC_LABELS];
	uint64		r;

	Assert(spec->nlabels <= PGPROM_MAX_SPEC_LABELS);
	if (!pgprom_expo_family(w, spec->name, spec->help, spec->type))
		return;
	for (r = 0; r < nrows; r++)
	{
		int			l;

		if (spec->skip_null && pgprom_isnull(r, spec->value_col))
			continue;
		for (l = 0; l < spec->nlabels; l++)
			values[l] = pgprom_text(r, spec->label_cols[l]);
		pgprom_expo_sample(w, NULL, spec->nlabels, spec->labels, values,
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

/*
 * The OID and schema of an installed extension; false when it is not
 * installed in this database.
 */
static bool
extension_of(const char *extname, Oid *extoid, Oid *nspoid, char **version)
{
	Relation	rel;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	bool		found = false;

	rel = table_open(ExtensionRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_extension_extname, BTEqualStrategyNumber,
				F_NAMEEQ, CStringGetDatum(extname));
	scan = systable_beginscan(rel, ExtensionNameIndexId, true, NULL, 1, &key);
	tup = systable_getnext(scan);
	if (HeapTupleIsValid(tup))
	{
		Form_pg_extension ext = (Form_pg_extension) GETSTRUCT(tup);

		*extoid = ext->oid;
		*nspoid = ext->extnamespace;
		if (version)
		{
			bool		isnull;
			Datum		d = heap_getattr(tup, Anum_pg_extension_extversion,
										 RelationGetDescr(rel), &isnull);

			*version = isnull ? NULL : TextDatumGetCString(d);
		}
		found = true;
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return found;
}

/*
 * The schema-qualified name of function funcname of extension extname, for
 * a query: NULL when the extension or the function is not there.  Found
 * through the extension's membership (pg_depend), never by name alone, and
 * refused with an error when a function of the same name that is not the
 * extension's lives in the same schema (a role with CREATE there could
 * otherwise slip in an overload that the call resolves to).
 */
char *
pgprom_extension_function(const char *extname, const char *funcname)
{
	Oid			extoid;
	Oid			nspoid;
	CatCList   *list;
	int			members = 0;
	int			others = 0;
	int			i;

	if (!extension_of(extname, &extoid, &nspoid, NULL))
		return NULL;
	list = SearchSysCacheList1(PROCNAMEARGSNSP, CStringGetDatum(funcname));
	for (i = 0; i < list->n_members; i++)
	{
		Form_pg_proc proc = (Form_pg_proc) GETSTRUCT(&list->members[i]->tuple);

		if (proc->pronamespace != nspoid)
			continue;
		if (getExtensionOfObject(ProcedureRelationId, proc->oid) == extoid)
			members++;
		else
			others++;
	}
	ReleaseSysCacheList(list);
	if (members == 0)
		return NULL;
	if (others > 0)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("function %s.%s is overloaded by a function that is not part of extension \"%s\"",
						get_namespace_name(nspoid), funcname, extname),
				 errdetail("pg_prom does not call it: the call could run the other function."),
				 errhint("Drop the other function, or install the extension in a schema where only trusted roles have CREATE.")));
	return quote_qualified_identifier(get_namespace_name(nspoid), funcname);
}

/*
 * The schema-qualified name of table relname of extension extname, or NULL
 * when the extension or the table is not there (found through membership,
 * as above: a relation name is unique in its schema).
 */
char *
pgprom_extension_relation(const char *extname, const char *relname, Oid *relidp)
{
	Oid			extoid;
	Oid			nspoid;
	Oid			relid;

	if (!extension_of(extname, &extoid, &nspoid, NULL))
		return NULL;
	relid = get_relname_relid(relname, nspoid);
	if (!OidIsValid(relid) ||
		getExtensionOfObject(RelationRelationId, relid) != extoid)
		return NULL;
	if (relidp)
		*relidp = relid;
	return quote_qualified_identifier(get_namespace_name(nspoid), relname);
}

/* The installed version of an extension, or NULL when it is not installed. */
char *
pgprom_extension_version(const char *extname)
{
	Oid			extoid;
	Oid			nspoid;
	char	   *version = NULL;

	if (!extension_of(extname, &extoid, &nspoid, &version))
		return NULL;
	return version;
}
