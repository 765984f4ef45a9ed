/*-------------------------------------------------------------------------
 *
 * custom.c
 *		Collector queries defined in SQL (pg_prom_register_query).
 *
 * postgres_exporter's queries.yaml, inside the database: a registered query
 * has a metric name, help text, a type (gauge or counter), label columns
 * and value columns; each value column becomes the family
 * <name>_<column>, each row a series labelled by the label columns.
 * Definitions live in the extension's table pg_prom_queries (dumped by
 * pg_dump as extension configuration), in pg_prom.database for the HTTP
 * endpoint.
 *
 * At scrape time each query runs on its own, in the renderer's isolation
 * (a subtransaction with lock_timeout and a statement timeout of at most
 * pg_prom.custom_query_timeout), and additionally:
 *	- as pg_prom.custom_query_role, a role that must not be a superuser,
 *	  in a security-restricted operation;
 *	- read-only: SPI's read-only mode and a read-only subtransaction, so
 *	  that neither the statement nor a function it calls can write;
 *	- with search_path = public (at registration too), so names resolve
 *	  the same way for the registering session and the worker;
 *	- over at most pg_prom.custom_query_max_rows rows.
 * Its failure drops only its own families and shows as
 * pg_scrape_collector_success{collector="custom:<name>"} 0.
 *
 * pg_prom_check_query() is the registration-time check: names, type and
 * columns, and a run of the query with LIMIT 0 as the same role, so that a
 * query that cannot parse, names a missing column, returns a non-numeric
 * value or lacks privileges is refused when it is registered.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"

#include "guc.h"
#include "scrape/custom.h"
#include "scrape/render.h"

/* Longest name prefix; a family adds "_" and the column name. */
#define CUSTOM_NAME_MAX 100
#define CUSTOM_MAX_LABELS 16
#define CUSTOM_MAX_VALUES 16
/* Most definitions loaded per render. */
#define CUSTOM_MAX_QUERIES 200
/* Name resolution of every custom query: qualify other schemas' tables. */
#define CUSTOM_SEARCH_PATH "public"


static List *loaded = NIL;

PG_FUNCTION_INFO_V1(pg_prom_check_query);

/* ---------- names and columns ---------- */

static void
check_definition(const char *name, const char *metric_type,
				 int nlabels, char **labels, int nvalues, char **values)
{
	int			i;
	int			j;

	if (strlen(name) > CUSTOM_NAME_MAX || !expo_valid_metric_name(name))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_NAME),
				 errmsg("invalid metric name \"%s\"", name),
				 errdetail("A metric name is 1 to %d characters from [a-zA-Z0-9_:], not starting with a digit.",
						   CUSTOM_NAME_MAX)));
	if (strcmp(metric_type, "gauge") != 0 && strcmp(metric_type, "counter") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid metric type \"%s\"", metric_type),
				 errhint("A custom query's values are a \"gauge\" or a \"counter\".")));
	if (nlabels > CUSTOM_MAX_LABELS || nvalues > CUSTOM_MAX_VALUES)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("too many columns for custom query \"%s\"", name),
				 errdetail("At most %d label columns and %d value columns are allowed.",
						   CUSTOM_MAX_LABELS, CUSTOM_MAX_VALUES)));
	for (i = 0; i < nlabels; i++)
	{
		if (!expo_valid_label_name(labels[i]))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_NAME),
					 errmsg("invalid label column \"%s\"", labels[i]),
					 errdetail("A label name is made of [a-zA-Z0-9_], does not start with a digit and does not start with \"__\"."),
					 errhint("Rename the column in the query, for example \"AS region\".")));
		for (j = 0; j < i; j++)
			if (strcmp(labels[i], labels[j]) == 0)
				ereport(ERROR,
						(errcode(ERRCODE_DUPLICATE_COLUMN),
						 errmsg("label column \"%s\" is listed twice", labels[i])));
	}
	for (i = 0; i < nvalues; i++)
	{
		char		family[CUSTOM_NAME_MAX + NAMEDATALEN + 2];

		snprintf(family, sizeof(family), "%s_%s", name, values[i]);
		if (!expo_valid_label_name(values[i]) || !expo_valid_metric_name(family))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_NAME),
					 errmsg("invalid value column \"%s\"", values[i]),
					 errdetail("Value columns name the families <name>_<column>, so they are made of [a-zA-Z0-9_]."),
					 errhint("Rename the column in the query, for example \"AS total\".")));
		for (j = 0; j < i; j++)
			if (strcmp(values[i], values[j]) == 0)
				ereport(ERROR,
						(errcode(ERRCODE_DUPLICATE_COLUMN),
						 errmsg("value column \"%s\" is listed twice", values[i])));
		for (j = 0; j < nlabels; j++)
			if (strcmp(values[i], labels[j]) == 0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("column \"%s\" cannot be both a label and a value", values[i])));
	}
}

/* Whether a column type can be a sample value. */
static bool
numeric_type(Oid type)
{
	switch (getBaseType(type))
	{
		case INT2OID:
		case INT4OID:
		case INT8OID:
		case FLOAT4OID:
		case FLOAT8OID:
		case NUMERICOID:
		case OIDOID:
		case BOOLOID:
			return true;
		default:
			return false;
	}
}

static double
value_of(Datum d, Oid type)
{
	switch (getBaseType(type))
	{
		case INT2OID:
			return DatumGetInt16(d);
		case INT4OID:
			return DatumGetInt32(d);
		case INT8OID:
			return (double) DatumGetInt64(d);
		case FLOAT4OID:
			return DatumGetFloat4(d);
		case FLOAT8OID:
			return DatumGetFloat8(d);
		case NUMERICOID:
			return DatumGetFloat8(DirectFunctionCall1(numeric_float8_no_overflow, d));
		case OIDOID:
			return DatumGetObjectId(d);
		case BOOLOID:
			return DatumGetBool(d) ? 1 : 0;
		default:
			return 0;
	}
}

/* ---------- running as the configured role ---------- */

/* The role custom queries run as; errors when unusable. */
static Oid
custom_role(void)
{
	const char *name = pgprom_custom_query_role;
	Oid			roleid;

	if (name == NULL || name[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("pg_prom.custom_query_role is not set"),
				 errhint("Set it to a role without superuser rights, for example pg_monitor.")));
	roleid = get_role_oid(name, true);
	if (!OidIsValid(roleid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("role \"%s\" of pg_prom.custom_query_role does not exist", name)));
	if (superuser_arg(roleid))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("pg_prom.custom_query_role \"%s\" is a superuser", name),
				 errdetail("Custom queries never run with superuser rights."),
				 errhint("Use a role with only the privileges the queries need, for example pg_monitor plus SELECT on application tables.")));
	return roleid;
}

/*
 * Execute sql read-only as the custom role, at most tcount rows.  The
 * caller runs this in a subtransaction or transaction that an error
 * aborts; aborting restores the user and the read-only state.
 */
static void
execute_as_role(const char *sql, long tcount)
{
	Oid			roleid = custom_role();
	Oid			save_userid;
	int			save_sec_context;
	bool		save_read_only = XactReadOnly;
	int			nestlevel;
	int			ret;

	/* the same name resolution at registration and at every scrape */
	nestlevel = NewGUCNestLevel();
	(void) set_config_option("search_path", CUSTOM_SEARCH_PATH, PGC_USERSET,
							 PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	GetUserIdAndSecContext(&save_userid, &save_sec_context);
	SetUserIdAndSecContext(roleid, save_sec_context |
						   SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
	XactReadOnly = true;

	ret = SPI_execute(sql, true, tcount);

	XactReadOnly = save_read_only;
	SetUserIdAndSecContext(save_userid, save_sec_context);
	AtEOXact_GUC(true, nestlevel);
	if (ret != SPI_OK_SELECT)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("a custom query must be a single SELECT")));
}

static char *
wrapped(const char *query, const char *suffix)
{
	/* newlines: a query may end in a -- comment */
	return psprintf("SELECT * FROM (\n%s\n) AS pg_prom_custom_query%s", query, suffix);
}

typedef struct CheckContext
{
	const char *name;
} CheckContext;

static void
check_error_context(void *arg)
{
	CheckContext *c = arg;

	errcontext("checking custom query \"%s\" as role \"%s\"", c->name,
			   pgprom_custom_query_role ? pgprom_custom_query_role : "");
}

static char **
text_array(ArrayType *arr, int *n, const char *what)
{
	Datum	   *elems;
	bool	   *nulls;
	char	  **out;
	int			i;

	if (arr == NULL)
	{
		*n = 0;
		return NULL;
	}
	if (ARR_NDIM(arr) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("%s must be a one-dimensional array", what)));
	deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, n);
	out = palloc(sizeof(char *) * Max(*n, 1));
	for (i = 0; i < *n; i++)
	{
		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("%s must not contain nulls", what)));
		out[i] = TextDatumGetCString(elems[i]);
	}
	return out;
}

/*
 * pg_prom_check_query(name, query, metric_type, label_columns,
 *					   value_columns) returns text[]
 *
 * Checks a definition and returns its value columns (when value_columns is
 * NULL: every column that is not a label).  Called by
 * pg_prom_register_query() before it stores the definition.
 */
Datum
pg_prom_check_query(PG_FUNCTION_ARGS)
{
	char	   *name;
	char	   *query;
	char	   *metric_type;
	char	  **labels;
	char	  **values;
	int			nlabels;
	int			nvalues;
	TupleDesc	desc;
	ErrorContextCallback errcb;
	CheckContext ctx;
	Datum	   *out;
	int			i;

	for (i = 0; i < 3; i++)
		if (PG_ARGISNULL(i))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("the name, query and metric type must not be null")));
	name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	query = text_to_cstring(PG_GETARG_TEXT_PP(1));
	metric_type = text_to_cstring(PG_GETARG_TEXT_PP(2));
	labels = text_array(PG_ARGISNULL(3) ? NULL : PG_GETARG_ARRAYTYPE_P(3), &nlabels, "label_columns");
	values = text_array(PG_ARGISNULL(4) ? NULL : PG_GETARG_ARRAYTYPE_P(4), &nvalues, "value_columns");
	if (!PG_ARGISNULL(4) && nvalues == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("value_columns is empty"),
				 errhint("List at least one column, or pass NULL for every column that is not a label.")));
	check_definition(name, metric_type, nlabels, labels, nvalues, values);

	/* run it with LIMIT 0: parse, plan, permissions, nothing fetched */
	ctx.name = name;
	errcb.callback = check_error_context;
	errcb.arg = &ctx;
	errcb.previous = error_context_stack;
	error_context_stack = &errcb;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "pg_prom: SPI_connect failed");
	execute_as_role(wrapped(query, " LIMIT 0"), 0);
	desc = SPI_tuptable->tupdesc;
	error_context_stack = errcb.previous;

	for (i = 0; i < nlabels; i++)
		if (SPI_fnumber(desc, labels[i]) <= 0)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("custom query \"%s\" has no column \"%s\" for a label", name, labels[i])));
	if (PG_ARGISNULL(4))
	{
		/* every column that is not a label */
		values = palloc(sizeof(char *) * Max(desc->natts, 1));
		nvalues = 0;
		for (i = 0; i < desc->natts; i++)
		{
			Form_pg_attribute att = TupleDescAttr(desc, i);
			const char *col = NameStr(att->attname);
			int			j;
			bool		is_label = false;

			for (j = 0; j < nlabels; j++)
				is_label |= (strcmp(col, labels[j]) == 0);
			if (!is_label)
				values[nvalues++] = pstrdup(col);
		}
		if (nvalues == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("custom query \"%s\" returns no value column", name),
					 errhint("Every column is a label; add a numeric column.")));
		check_definition(name, metric_type, nlabels, labels, nvalues, values);
	}
	for (i = 0; i < nvalues; i++)
	{
		int			col = SPI_fnumber(desc, values[i]);

		if (col <= 0)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("custom query \"%s\" has no column \"%s\" for a value", name, values[i])));
		if (!numeric_type(SPI_gettypeid(desc, col)))
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("value column \"%s\" of custom query \"%s\" is of type %s", values[i], name,
							format_type_be(SPI_gettypeid(desc, col))),
					 errhint("Values must be numbers (integer, numeric, real, double precision) or boolean; cast the column.")));
	}
	SPI_finish();

	out = palloc(sizeof(Datum) * nvalues);
	for (i = 0; i < nvalues; i++)
		out[i] = CStringGetTextDatum(values[i]);
	PG_RETURN_ARRAYTYPE_P(construct_array(out, nvalues, TEXTOID, -1, false, TYPALIGN_INT));
}

/* ---------- loading, for a render ---------- */

static uint64
hash_definition(const CustomQuery *q)
{
	StringInfoData s;
	uint64		h;
	int			i;

	initStringInfo(&s);
	appendStringInfo(&s, "%s\x1f%s\x1f%s\x1f%d\x1f%d", q->name, q->query, q->help,
					 q->counter, q->min_interval_s);
	for (i = 0; i < q->nlabels; i++)
		appendStringInfo(&s, "\x1fl%s", q->labels[i]);
	for (i = 0; i < q->nvalues; i++)
		appendStringInfo(&s, "\x1fv%s", q->values[i]);
	h = hash_bytes_extended((const unsigned char *) s.data, s.len, 0);
	pfree(s.data);
	return h;
}

/*
 * The custom_queries collector: read the enabled definitions of this
 * database, if the extension is installed here.  It writes nothing
 * itself; the renderer runs each query on its own afterwards.
 */
void
pgprom_collect_custom_queries(PromWriter *w)
{
	MemoryContext render_cxt = pgprom_render_context();
	char	   *schema;
	uint64		n;
	uint64		r;
	int			ret;

	loaded = NIL;
	ret = SPI_execute("SELECT n.nspname FROM pg_catalog.pg_extension e"
					  " JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) e.extnamespace"
					  " WHERE e.extname OPERATOR(pg_catalog.=) 'pg_prom'", true, 1);
	if (ret != SPI_OK_SELECT || SPI_processed == 0)
		return;
	schema = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);

	ret = SPI_execute(psprintf("SELECT name, query, help, metric_type, label_columns, value_columns,"
							   " pg_catalog.ceil(pg_catalog.date_part('epoch', min_interval))::pg_catalog.int4"
							   " FROM %s.pg_prom_queries WHERE enabled ORDER BY name LIMIT %d",
							   quote_identifier(schema), CUSTOM_MAX_QUERIES),
					  true, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "pg_prom: reading pg_prom_queries failed");
	n = SPI_processed;
	for (r = 0; r < n; r++)
	{
		HeapTuple	tup = SPI_tuptable->vals[r];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		MemoryContext old;
		CustomQuery *q;
		bool		isnull;
		Datum		d;
		char	   *type;

		old = MemoryContextSwitchTo(render_cxt);
		q = palloc0(sizeof(CustomQuery));
		q->name = SPI_getvalue(tup, desc, 1);
		q->label = psprintf("custom:%s", q->name);
		q->query = SPI_getvalue(tup, desc, 2);
		q->help = SPI_getvalue(tup, desc, 3);
		type = SPI_getvalue(tup, desc, 4);
		q->counter = (type != NULL && strcmp(type, "counter") == 0);
		d = SPI_getbinval(tup, desc, 5, &isnull);
		q->labels = text_array(isnull ? NULL : DatumGetArrayTypeP(d), &q->nlabels, "label_columns");
		d = SPI_getbinval(tup, desc, 6, &isnull);
		q->values = text_array(isnull ? NULL : DatumGetArrayTypeP(d), &q->nvalues, "value_columns");
		d = SPI_getbinval(tup, desc, 7, &isnull);
		q->min_interval_s = isnull ? 0 : DatumGetInt32(d);
		if (q->help == NULL)
			q->help = "";
		q->definition_hash = hash_definition(q);
		loaded = lappend(loaded, q);
		MemoryContextSwitchTo(old);
	}
}

List *
pgprom_custom_queries_loaded(void)
{
	return loaded;
}

void
pgprom_custom_queries_forget(void)
{
	loaded = NIL;
}

/* ---------- running one, at scrape time ---------- */

void
pgprom_custom_query_run(PromWriter *w, void *arg)
{
	CustomQuery *q = arg;
	int			label_cols[CUSTOM_MAX_LABELS];
	int			value_cols[CUSTOM_MAX_VALUES];
	Oid			value_types[CUSTOM_MAX_VALUES];
	const char *label_values[CUSTOM_MAX_LABELS];
	SPITupleTable *tt;
	TupleDesc	desc;
	uint64		nrows;
	uint64		r;
	int			i;

	if (q->nlabels > CUSTOM_MAX_LABELS || q->nvalues > CUSTOM_MAX_VALUES || q->nvalues == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("custom query \"%s\" has an invalid column list", q->name)));

	execute_as_role(wrapped(q->query, ""), (long) pgprom_custom_query_max_rows + 1);
	tt = SPI_tuptable;
	desc = tt->tupdesc;
	nrows = SPI_processed;
	if (nrows > (uint64) pgprom_custom_query_max_rows)
	{
		pgprom_note_left_out(nrows - pgprom_custom_query_max_rows);
		nrows = pgprom_custom_query_max_rows;
	}

	for (i = 0; i < q->nlabels; i++)
	{
		label_cols[i] = SPI_fnumber(desc, q->labels[i]);
		if (label_cols[i] <= 0)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("custom query \"%s\" no longer returns column \"%s\"", q->name, q->labels[i])));
	}
	for (i = 0; i < q->nvalues; i++)
	{
		value_cols[i] = SPI_fnumber(desc, q->values[i]);
		if (value_cols[i] <= 0)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("custom query \"%s\" no longer returns column \"%s\"", q->name, q->values[i])));
		value_types[i] = SPI_gettypeid(desc, value_cols[i]);
		if (!numeric_type(value_types[i]))
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("value column \"%s\" of custom query \"%s\" is not numeric", q->values[i], q->name)));
	}

	for (i = 0; i < q->nvalues; i++)
	{
		char	   *family = psprintf("%s_%s", q->name, q->values[i]);
		char	   *help = q->nvalues > 1 ?
			psprintf("%s (%s)", q->help, q->values[i]) : q->help;

		if (!expo_family(w, family, help, q->counter ? PROM_COUNTER : PROM_GAUGE))
			ereport(ERROR,
					(errcode(ERRCODE_DUPLICATE_OBJECT),
					 errmsg("metric \"%s\" of custom query \"%s\" is already in the scrape", family, q->name),
					 errhint("Rename the custom query; another collector or query writes this name.")));
		for (r = 0; r < nrows; r++)
		{
			HeapTuple	tup = tt->vals[r];
			bool		isnull;
			Datum		d = SPI_getbinval(tup, desc, value_cols[i], &isnull);
			int			l;

			if (isnull)
				continue;
			for (l = 0; l < q->nlabels; l++)
			{
				char	   *v = SPI_getvalue(tup, desc, label_cols[l]);

				label_values[l] = v ? v : "";
			}
			expo_sample(w, NULL, q->nlabels, (const char *const *) q->labels,
						label_values, value_of(d, value_types[i]));
		}
	}
}
