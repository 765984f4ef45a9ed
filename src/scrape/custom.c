/*-------------------------------------------------------------------------
 *
 * custom.c
 *		Collector queries defined in SQL: registration, the checks, and
 *		running one as pg_prom.custom_query_role.
 *
 * postgres_exporter's queries.yaml, inside the database: a registered query
 * has a metric name, help text, a type (gauge or counter), label columns
 * and value columns; each value column becomes the family
 * <name>_<column>, each row a series labelled by the label columns.
 * Definitions live in the extension's table pg_prom_queries (dumped by
 * pg_dump as extension configuration).
 *
 * The text of a query is SQL written by a user, so:
 *	- it must parse (raw_parser) as exactly one SELECT, VALUES or
 *	  WITH ... SELECT, without SELECT INTO, row locks or data-modifying
 *	  WITH; it is then run as the subquery of pg_prom's own SELECT, after
 *	  checking that the whole text is still one statement;
 *	- it runs as pg_prom.custom_query_role (never a superuser), in a
 *	  security-restricted operation, read-only (SPI's read-only mode and a
 *	  read-only transaction), with search_path = pg_catalog (tables are
 *	  written schema-qualified), and every setting it changes is put back
 *	  when it ends;
 *	- at scrape time it runs in a short-lived worker of its own
 *	  (custom_worker.c), which is terminated when it outlives its timeout
 *	  and takes any session state the query left with it.
 * Registering is allowed to superusers and to roles with the privileges
 * of pg_prom.custom_query_role that were granted EXECUTE on
 * pg_prom_register_query(): whoever registers decides what that role runs.
 * The registrant is recorded; a query runs only while its registrant still
 * has those privileges (or is a superuser), and only the registrant (its
 * members, a superuser) may replace or remove it.
 * The functions are not SECURITY DEFINER: they write pg_prom_queries as its
 * owner through fully qualified SQL, after the checks, and nothing a user
 * can create is ever resolved while they do.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_class.h"
#include "commands/dbcommands.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "parser/parser.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "compat.h"
#include "backend/appmetrics.h"
#include "guc.h"
#include "names.h"
#include "scrape/custom.h"
#include "scrape/query.h"
#include "scrape/scrape.h"

/* Longest name prefix; a family adds "_" and the column name. */
#define CUSTOM_NAME_MAX 100
/* Longest query text. */
#define CUSTOM_QUERY_MAX (64 * 1024)
/* Longest label value, and most text one query may write. */
#define CUSTOM_LABEL_MAX 4096
#define CUSTOM_OUTPUT_MAX (16 * 1024 * 1024)
/*
 * Name resolution of every custom query: pg_catalog only, so that no
 * function another role created in a schema can be picked by overload
 * resolution and run as the query role; queries qualify their tables.
 */
#define CUSTOM_SEARCH_PATH "pg_catalog, pg_temp"
/* Longest min_interval (longer would starve the scrape of the data). */
#define CUSTOM_MAX_INTERVAL_S 86400

PG_FUNCTION_INFO_V1(pg_prom_register_query);
PG_FUNCTION_INFO_V1(pg_prom_unregister_query);

/*---- names and columns ----*/

static void
check_definition(const char *name, const char *metric_type,
				 int nlabels, char **labels, int nvalues, char **values)
{
	int			i;
	int			j;

	if (strlen(name) > CUSTOM_NAME_MAX || !pgprom_valid_user_metric_name(name))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_NAME),
				 errmsg("invalid metric name \"%s\"", name),
				 errdetail("A metric name is 1 to %d characters from [a-zA-Z0-9_], not starting with a digit (colons are for Prometheus's recording rules).",
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
		if (!pgprom_valid_label_name(labels[i]))
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
		char	   *family = psprintf("%s_%s", name, values[i]);
		const char *why;

		if (!pgprom_valid_label_name(values[i]) || !pgprom_valid_user_metric_name(family))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_NAME),
					 errmsg("invalid value column \"%s\"", values[i]),
					 errdetail("Value columns name the families <name>_<column>, so they are made of [a-zA-Z0-9_]."),
					 errhint("Rename the column in the query, for example \"AS total\".")));
		if (pgprom_name_reserved(family, &why))
			ereport(ERROR,
					(errcode(ERRCODE_RESERVED_NAME),
					 errmsg("metric name \"%s\" is reserved for pg_prom's own metrics", family),
					 errdetail("Names starting with \"%s\" or equal to it, up to a _total, _bucket, _sum, _count, _created or _info suffix, are pg_prom's.",
							   why),
					 errhint("Prefix custom metrics with your application's name, for example \"shop_\".")));
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
bool
pgprom_custom_numeric_type(Oid type)
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

/*---- the query text ----*/

/* The text without trailing white space and semicolons, in new memory. */
static char *
trimmed(const char *query)
{
	char	   *q = pstrdup(query);
	size_t		n = strlen(q);

	while (n > 0 && (q[n - 1] == ';' || q[n - 1] == ' ' || q[n - 1] == '\t' ||
					 q[n - 1] == '\n' || q[n - 1] == '\r' || q[n - 1] == '\f' ||
					 q[n - 1] == '\v'))
		q[--n] = '\0';
	return q;
}

/*
 * A syntax error's position is in the query's text, not in the statement
 * that registers it (as SPI reports errors in the queries it runs).
 */
static void
parse_error_context(void *arg)
{
	int			pos = geterrposition();

	if (pos > 0)
	{
		errposition(0);
		internalerrposition(pos);
		internalerrquery((const char *) arg);
	}
}

/*
 * Refuse anything but one plain query: exactly one statement, a SELECT,
 * VALUES or WITH ... SELECT, with no SELECT INTO (which creates a table),
 * no row locks and no data-modifying WITH.
 */
static void
check_single_select(const char *query)
{
	List	   *stmts;
	SelectStmt *select;
	ErrorContextCallback errcb;

	if (strlen(query) > CUSTOM_QUERY_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("custom query is too long"),
				 errdetail("At most %d bytes are allowed.", CUSTOM_QUERY_MAX)));
	errcb.callback = parse_error_context;
	errcb.arg = unconstify(char *, query);
	errcb.previous = error_context_stack;
	error_context_stack = &errcb;
	stmts = raw_parser(query, RAW_PARSE_DEFAULT);
	error_context_stack = errcb.previous;
	if (list_length(stmts) != 1)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("a custom query must be a single SELECT"),
				 errdetail("The text holds %d statements.", list_length(stmts))));
	select = (SelectStmt *) ((RawStmt *) linitial(stmts))->stmt;
	if (!IsA(select, SelectStmt))
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("a custom query must be a single SELECT"),
				 errhint("SELECT, VALUES and WITH ... SELECT are allowed.")));
	if (select->intoClause != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("a custom query cannot use SELECT INTO")));
	if (select->lockingClause != NIL)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("a custom query cannot lock rows (FOR UPDATE, FOR SHARE)")));
	if (select->withClause != NULL)
	{
		ListCell   *lc;

		foreach(lc, select->withClause->ctes)
		{
			CommonTableExpr *cte = lfirst(lc);

			if (!IsA(cte->ctequery, SelectStmt))
				ereport(ERROR,
						(errcode(ERRCODE_WRONG_OBJECT_TYPE),
						 errmsg("a custom query cannot modify data"),
						 errdetail("WITH query \"%s\" is not a SELECT.", cte->ctename)));
		}
	}
}

/*---- running as the configured role ----*/

/*
 * What is wrong with pg_prom.custom_query_role, or NULL (and *roleid) when
 * it can be used: it must exist and must not be a superuser.
 */
const char *
pgprom_custom_role_problem(Oid *roleid)
{
	const char *name = pgprom_custom_query_role;

	if (name == NULL || name[0] == '\0')
		return "pg_prom.custom_query_role is not set";
	*roleid = get_role_oid(name, true);
	if (!OidIsValid(*roleid))
		return psprintf("role \"%s\" of pg_prom.custom_query_role does not exist", name);
	if (superuser_arg(*roleid))
		return psprintf("pg_prom.custom_query_role \"%s\" is a superuser", name);
	return NULL;
}

/* The role custom queries run as; errors when unusable. */
Oid
pgprom_custom_role(void)
{
	Oid			roleid = InvalidOid;
	const char *problem = pgprom_custom_role_problem(&roleid);

	if (problem == NULL)
		return roleid;
	if (OidIsValid(roleid))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("%s", problem),
				 errdetail("Custom queries never run with superuser rights."),
				 errhint("Use a role with only the privileges the queries need, for example pg_monitor plus SELECT on application tables.")));
	ereport(ERROR,
			(errcode(ERRCODE_UNDEFINED_OBJECT),
			 errmsg("%s", problem),
			 errhint("Set it to a role without superuser rights, for example pg_monitor.")));
	return InvalidOid;			/* not reached */
}

/*
 * Execute a custom query as the custom role: read-only, in a
 * security-restricted operation, with search_path = public, at most tcount
 * rows (0: all), or none at all with limit0 (the registration check).
 * SPI must be connected; the caller runs this in a (sub)transaction that an
 * error aborts, and the abort puts the user, the read-only state and the
 * settings back.  On success the settings the query changed are put back
 * here, so nothing it did outlives it.
 */
void
pgprom_custom_execute(const char *query, Oid roleid, bool limit0, uint64 tcount)
{
	char	   *q = trimmed(query);
	Oid			save_userid;
	int			save_sec_context;
	bool		save_read_only = XactReadOnly;
	int			nestlevel;
	char	   *sql;
	SPIPlanPtr	plan;
	int			ret;

	check_single_select(q);
	if (superuser_arg(roleid))
		elog(ERROR, "pg_prom: custom queries never run as a superuser");
	/* newlines: a query may end in a -- comment */
	sql = psprintf("SELECT * FROM (\n%s\n) AS pg_prom_custom_query%s", q,
				   limit0 ? " LIMIT 0" : "");

	nestlevel = NewGUCNestLevel();
	(void) set_config_option("search_path", CUSTOM_SEARCH_PATH, PGC_USERSET,
							 PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	GetUserIdAndSecContext(&save_userid, &save_sec_context);
	SetUserIdAndSecContext(roleid, save_sec_context |
						   SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
	XactReadOnly = true;

	plan = SPI_prepare(sql, 0, NULL);
	if (plan == NULL)
		elog(ERROR, "pg_prom: SPI_prepare failed: %s",
			 SPI_result_code_string(SPI_result));
	/* the wrapped text is one statement too, or it is not run at all */
	if (list_length(SPI_plan_get_plan_sources(plan)) != 1)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("a custom query must be a single SELECT")));
	ret = SPI_execute_plan(plan, NULL, NULL, true, limit0 ? 0 : (long) tcount);
	if (ret != SPI_OK_SELECT)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("a custom query must be a single SELECT")));

	XactReadOnly = save_read_only;
	SetUserIdAndSecContext(save_userid, save_sec_context);
	AtEOXact_GUC(false, nestlevel);
}

/*---- writing a query's families ----*/

void
pgprom_custom_query_write(PromWriter *w, const CustomQuery *q, Oid roleid,
						  int max_rows)
{
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

	pgprom_custom_execute(q->query, roleid, false, (uint64) max_rows + 1);
	tt = SPI_tuptable;
	desc = tt->tupdesc;
	nrows = SPI_processed;
	if (nrows > (uint64) max_rows)
	{
		pgprom_note_left_out(nrows - max_rows);
		nrows = max_rows;
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
		if (!pgprom_custom_numeric_type(value_types[i]))
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("value column \"%s\" of custom query \"%s\" is not numeric", q->values[i], q->name)));
	}

	for (i = 0; i < q->nvalues; i++)
	{
		char	   *family = psprintf("%s_%s", q->name, q->values[i]);
		char	   *help = q->nvalues > 1 ?
			psprintf("%s (%s)", q->help, q->values[i]) : q->help;

		if (!pgprom_expo_family(w, family, help, q->counter ? PROM_COUNTER : PROM_GAUGE))
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

				if (v && strlen(v) > CUSTOM_LABEL_MAX)
					ereport(ERROR,
							(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
							 errmsg("label \"%s\" of custom query \"%s\" has a value longer than %d bytes",
									q->labels[l], q->name, CUSTOM_LABEL_MAX)));
				label_values[l] = v ? v : "";
			}
			pgprom_expo_sample(w, NULL, q->nlabels, (const char *const *) q->labels,
							   label_values, value_of(d, value_types[i]));
			if (pgprom_expo_output(w)->len > CUSTOM_OUTPUT_MAX)
				ereport(ERROR,
						(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
						 errmsg("custom query \"%s\" writes more than %d MB of metrics",
								q->name, CUSTOM_OUTPUT_MAX / (1024 * 1024)),
						 errhint("Return fewer rows or shorter labels.")));
		}
	}
}

/*---- loading the definitions, for a render ----*/

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

/* The prepared read of pg_prom_queries, and the table it reads. */
static SPIPlanPtr load_plan = NULL;
static char *load_plan_table = NULL;

/*
 * The enabled definitions of this database (NIL when the extension is not
 * installed here), in CurrentMemoryContext, in name order, at most
 * CUSTOM_MAX_QUERIES.  SPI must be connected.
 */
List *
pgprom_custom_queries_load(void)
{
	MemoryContext cxt = CurrentMemoryContext;
	List	   *result = NIL;
	char	   *table = pgprom_extension_relation("pg_prom", "pg_prom_queries", NULL);
	uint64		n;
	uint64		r;
	int			ret;

	if (table == NULL)
		return NIL;
	if (strcmp(pgprom_extension_version("pg_prom"), "1.0") == 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("extension pg_prom in database \"%s\" is at version 1.0", get_database_name(MyDatabaseId)),
				 errdetail("Its custom-query functions are SECURITY DEFINER functions that are not safe; custom queries do not run until it is updated."),
				 errhint("Run ALTER EXTENSION pg_prom UPDATE in that database.")));
	/* prepared once per table name (the plan cache replans after DDL) */
	if (load_plan != NULL && strcmp(load_plan_table, table) != 0)
	{
		SPI_freeplan(load_plan);
		load_plan = NULL;
	}
	if (load_plan == NULL)
	{
		SPIPlanPtr	plan;

		plan = SPI_prepare(psprintf("SELECT name, query, help, metric_type, label_columns, value_columns,"
									" LEAST(pg_catalog.ceil(pg_catalog.date_part('epoch', min_interval)), %d)::pg_catalog.int4,"
									" registered_by::pg_catalog.text"
									" FROM %s WHERE enabled ORDER BY name LIMIT %d",
									CUSTOM_MAX_INTERVAL_S, table, CUSTOM_MAX_QUERIES),
						   0, NULL);
		if (plan == NULL || SPI_keepplan(plan) != 0)
			elog(ERROR, "pg_prom: preparing the read of pg_prom_queries failed");
		if (load_plan_table)
			pfree(load_plan_table);
		load_plan_table = MemoryContextStrdup(TopMemoryContext, table);
		load_plan = plan;
	}
	ret = SPI_execute_plan(load_plan, NULL, NULL, true, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "pg_prom: reading pg_prom_queries failed");
	n = SPI_processed;
	for (r = 0; r < n; r++)
	{
		HeapTuple	tup = SPI_tuptable->vals[r];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		MemoryContext old = MemoryContextSwitchTo(cxt);
		CustomQuery *q = palloc0(sizeof(CustomQuery));
		bool		isnull;
		Datum		d;
		char	   *type;

		q->name = SPI_getvalue(tup, desc, 1);
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
		q->registrant = SPI_getvalue(tup, desc, 8);
		if (q->help == NULL)
			q->help = "";
		snprintf(q->label, sizeof(q->label), "custom:%s", q->name);
		q->definition_hash = hash_definition(q);
		result = lappend(result, q);
		MemoryContextSwitchTo(old);
	}
	return result;
}

/*---- registration ----*/

typedef struct CheckContext
{
	const char *name;
} CheckContext;

static void
check_error_context(void *arg)
{
	CheckContext *c = arg;

	errcontext("checking custom query \"%s\" as role \"%s\" (search_path = pg_catalog: write tables with their schema)",
			   c->name, pgprom_custom_query_role ? pgprom_custom_query_role : "");
}

/*
 * Registering decides what pg_prom.custom_query_role runs at every scrape:
 * only superusers and roles that have its privileges may do it.
 */
static void
check_may_register(void)
{
	Oid			roleid = pgprom_custom_role();

	if (!superuser() && !has_privs_of_role(GetUserId(), roleid))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to change custom queries"),
				 errdetail("Custom queries run as role \"%s\" (pg_prom.custom_query_role); changing them requires the privileges of that role.",
						   pgprom_custom_query_role),
				 errhint("GRANT %s TO the role that registers them.",
						 quote_identifier(pgprom_custom_query_role))));
}

/*
 * A registered query belongs to its registrant: replacing or removing it
 * takes the registrant's privileges (being it, a member, a superuser).
 */
static void
check_may_change(const char *table, const char *name)
{
	Datum		arg = CStringGetTextDatum(name);
	Oid			argtype = TEXTOID;
	char	   *registrant;
	Oid			roleid;

	if (SPI_execute_with_args(psprintf("SELECT registered_by::pg_catalog.text FROM %s"
									   " WHERE name OPERATOR(pg_catalog.=) $1", table),
							  1, &argtype, &arg, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "pg_prom: reading pg_prom_queries failed");
	if (SPI_processed == 0 || superuser())
		return;
	registrant = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	roleid = registrant ? get_role_oid(registrant, true) : InvalidOid;
	if (!OidIsValid(roleid) || !has_privs_of_role(GetUserId(), roleid))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for custom query \"%s\"", name),
				 errdetail("It was registered by role %s; only that role, its members and superusers may change it.",
						   registrant ? quote_identifier(registrant) : "(unknown)")));
}

/*
 * Check the query as the custom role with LIMIT 0 (parse, plan,
 * permissions, nothing fetched) and work out its value columns: the given
 * ones, or every column that is not a label.
 */
static char **
check_columns(const char *name, const char *query, int nlabels, char **labels,
			  int *nvalues, char **values)
{
	TupleDesc	desc;
	ErrorContextCallback errcb;
	CheckContext ctx;
	int			i;

	ctx.name = name;
	errcb.callback = check_error_context;
	errcb.arg = &ctx;
	errcb.previous = error_context_stack;
	error_context_stack = &errcb;
	pgprom_custom_execute(query, pgprom_custom_role(), true, 0);
	desc = SPI_tuptable->tupdesc;
	error_context_stack = errcb.previous;

	for (i = 0; i < nlabels; i++)
		if (SPI_fnumber(desc, labels[i]) <= 0)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("custom query \"%s\" has no column \"%s\" for a label", name, labels[i])));
	if (values == NULL)
	{
		values = palloc(sizeof(char *) * Max(desc->natts, 1));
		*nvalues = 0;
		for (i = 0; i < desc->natts; i++)
		{
			const char *col = NameStr(TupleDescAttr(desc, i)->attname);
			bool		is_label = false;
			int			j;

			for (j = 0; j < nlabels; j++)
				is_label |= (strcmp(col, labels[j]) == 0);
			if (!is_label)
				values[(*nvalues)++] = pstrdup(col);
		}
		if (*nvalues == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("custom query \"%s\" returns no value column", name),
					 errhint("Every column is a label; add a numeric column.")));
	}
	for (i = 0; i < *nvalues; i++)
	{
		int			col = SPI_fnumber(desc, values[i]);

		if (col <= 0)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("custom query \"%s\" has no column \"%s\" for a value", name, values[i])));
		if (!pgprom_custom_numeric_type(SPI_gettypeid(desc, col)))
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("value column \"%s\" of custom query \"%s\" is of type %s", values[i], name,
							format_type_be(SPI_gettypeid(desc, col))),
					 errhint("Values must be numbers (integer, numeric, real, double precision) or boolean; cast the column.")));
	}
	return values;
}

/*
 * A family of the new definition that another source already writes: an
 * application metric, or another registered query of this database.
 */
static void
check_not_taken(const char *table, const char *name, int nvalues, char **values)
{
	Datum		arg = CStringGetTextDatum(name);
	Oid			argtype = TEXTOID;
	uint64		r;
	int			i;

	for (i = 0; i < nvalues; i++)
	{
		char	   *family = psprintf("%s_%s", name, values[i]);

		if (pgprom_app_metric_exists(family))
			ereport(ERROR,
					(errcode(ERRCODE_DUPLICATE_OBJECT),
					 errmsg("metric \"%s\" is already an application metric", family),
					 errdetail("Custom query \"%s\" would write the family %s, which pg_prom_counter_inc() and its kin already write.",
							   name, family),
					 errhint("Use another name for the query, or drop the application metric with pg_prom_metric_drop().")));
	}
	if (SPI_execute_with_args(psprintf("SELECT name, value_columns FROM %s WHERE name OPERATOR(pg_catalog.<>) $1",
									   table),
							  1, &argtype, &arg, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "pg_prom: reading pg_prom_queries failed");
	for (r = 0; r < SPI_processed; r++)
	{
		HeapTuple	tup = SPI_tuptable->vals[r];
		char	   *other = SPI_getvalue(tup, SPI_tuptable->tupdesc, 1);
		bool		isnull;
		Datum		d = SPI_getbinval(tup, SPI_tuptable->tupdesc, 2, &isnull);
		int			nother;
		char	  **ovalues = text_array(isnull ? NULL : DatumGetArrayTypeP(d), &nother, "value_columns");
		int			j;

		for (i = 0; i < nvalues; i++)
		{
			char	   *family = psprintf("%s_%s", name, values[i]);

			for (j = 0; j < nother; j++)
				if (strcmp(family, psprintf("%s_%s", other, ovalues[j])) == 0)
					ereport(ERROR,
							(errcode(ERRCODE_DUPLICATE_OBJECT),
							 errmsg("metric \"%s\" is already written by custom query \"%s\"", family, other),
							 errhint("Use another name for the query.")));
		}
	}
}

/*
 * Run sql with args on pg_prom_queries as the table's owner, with
 * search_path = pg_catalog, pg_temp, in a security-restricted operation.
 * Returns the rows processed.
 */
static uint64
write_as_owner(Oid relid, const char *sql, int nargs, Oid *argtypes,
			   Datum *args, const char *nulls)
{
	Oid			owner;
	Oid			save_userid;
	int			save_sec_context;
	int			nestlevel;
	int			ret;

	{
		HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));

		if (!HeapTupleIsValid(tup))
			elog(ERROR, "pg_prom: cache lookup failed for relation %u", relid);
		owner = ((Form_pg_class) GETSTRUCT(tup))->relowner;
		ReleaseSysCache(tup);
	}
	nestlevel = NewGUCNestLevel();
	(void) set_config_option("search_path", "pg_catalog, pg_temp", PGC_USERSET,
							 PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	GetUserIdAndSecContext(&save_userid, &save_sec_context);
	SetUserIdAndSecContext(owner, save_sec_context |
						   SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
	ret = SPI_execute_with_args(sql, nargs, argtypes, args, nulls, false, 0);
	if (ret != SPI_OK_INSERT && ret != SPI_OK_DELETE && ret != SPI_OK_UPDATE)
		elog(ERROR, "pg_prom: writing pg_prom_queries failed: %s",
			 SPI_result_code_string(ret));
	SetUserIdAndSecContext(save_userid, save_sec_context);
	AtEOXact_GUC(false, nestlevel);
	return SPI_processed;
}

static const char *
table_or_error(Oid *relid)
{
	char	   *table = pgprom_extension_relation("pg_prom", "pg_prom_queries", relid);

	if (table == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("table pg_prom_queries of extension pg_prom does not exist")));
	return table;
}

/*
 * pg_prom_register_query(name, query, help, metric_type, label_columns,
 *						  value_columns, min_interval, enabled)
 *
 * Add or replace a custom query after checking it as the custom role.
 */
Datum
pg_prom_register_query(PG_FUNCTION_ARGS)
{
	char	   *name;
	char	   *query;
	char	   *help;
	char	   *metric_type;
	char	  **labels;
	char	  **values;
	int			nlabels;
	int			nvalues = 0;
	Interval   *min_interval;
	bool		enabled;
	const char *table;
	Oid			relid;
	Oid			argtypes[9] = {TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTARRAYOID,
	TEXTARRAYOID, INTERVALOID, BOOLOID, NAMEOID};
	Datum		args[9];
	NameData	registrant;
	Datum	   *vdatums;
	int			i;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(3))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the name, query and metric type must not be null")));
	if (PG_ARGISNULL(6))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("min_interval must not be null")));
	name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	query = trimmed(text_to_cstring(PG_GETARG_TEXT_PP(1)));
	help = PG_ARGISNULL(2) ? "" : text_to_cstring(PG_GETARG_TEXT_PP(2));
	metric_type = text_to_cstring(PG_GETARG_TEXT_PP(3));
	labels = text_array(PG_ARGISNULL(4) ? NULL : PG_GETARG_ARRAYTYPE_P(4), &nlabels, "label_columns");
	values = text_array(PG_ARGISNULL(5) ? NULL : PG_GETARG_ARRAYTYPE_P(5), &nvalues, "value_columns");
	min_interval = PG_GETARG_INTERVAL_P(6);
	enabled = PG_ARGISNULL(7) ? true : PG_GETARG_BOOL(7);

	if (min_interval->month < 0 || min_interval->day < 0 || min_interval->time < 0 ||
		min_interval->month > 0 || min_interval->day > 1 ||
		(int64) min_interval->day * USECS_PER_DAY + min_interval->time >
		(int64) CUSTOM_MAX_INTERVAL_S * USECS_PER_SEC)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("min_interval must be between 0 and 1 day")));
	if (!PG_ARGISNULL(5) && nvalues == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("value_columns is empty"),
				 errhint("List at least one column, or pass NULL for every column that is not a label.")));

	check_may_register();
	check_definition(name, metric_type, nlabels, labels, nvalues, values);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "pg_prom: SPI_connect failed");
	table = table_or_error(&relid);
	check_may_change(table, name);
	values = check_columns(name, query, nlabels, labels, &nvalues,
						   PG_ARGISNULL(5) ? NULL : values);
	check_definition(name, metric_type, nlabels, labels, nvalues, values);
	check_not_taken(table, name, nvalues, values);

	vdatums = palloc(sizeof(Datum) * nvalues);
	for (i = 0; i < nvalues; i++)
		vdatums[i] = CStringGetTextDatum(values[i]);
	args[0] = CStringGetTextDatum(name);
	args[1] = CStringGetTextDatum(query);
	args[2] = CStringGetTextDatum(help);
	args[3] = CStringGetTextDatum(metric_type);
	args[4] = PG_ARGISNULL(4) ?
		PointerGetDatum(construct_empty_array(TEXTOID)) : PG_GETARG_DATUM(4);
	args[5] = PointerGetDatum(construct_array(vdatums, nvalues, TEXTOID, -1, false, TYPALIGN_INT));
	args[6] = PG_GETARG_DATUM(6);
	args[7] = BoolGetDatum(enabled);
	namestrcpy(&registrant, GetUserNameFromId(GetUserId(), false));
	args[8] = NameGetDatum(&registrant);
	(void) write_as_owner(relid,
						  psprintf("INSERT INTO %s AS t"
								   " (name, query, help, metric_type, label_columns, value_columns, min_interval, enabled,"
								   " registered_by)"
								   " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
								   " ON CONFLICT ON CONSTRAINT pg_prom_queries_pkey DO UPDATE"
								   " SET query = excluded.query, help = excluded.help,"
								   " metric_type = excluded.metric_type, label_columns = excluded.label_columns,"
								   " value_columns = excluded.value_columns, min_interval = excluded.min_interval,"
								   " enabled = excluded.enabled, registered_by = excluded.registered_by,"
								   " changed_at = pg_catalog.now()",
								   table),
						  9, argtypes, args, NULL);
	SPI_finish();
	PG_RETURN_VOID();
}

/* pg_prom_unregister_query(name) */
Datum
pg_prom_unregister_query(PG_FUNCTION_ARGS)
{
	Oid			argtype = TEXTOID;
	Datum		arg;
	char	   *name;
	const char *table;
	Oid			relid;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the name must not be null")));
	name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	check_may_register();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "pg_prom: SPI_connect failed");
	table = table_or_error(&relid);
	check_may_change(table, name);
	arg = CStringGetTextDatum(name);
	if (write_as_owner(relid,
					   psprintf("DELETE FROM %s WHERE name OPERATOR(pg_catalog.=) $1", table),
					   1, &argtype, &arg, NULL) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("custom query \"%s\" does not exist", name),
				 errhint("SELECT name FROM pg_prom_queries lists them.")));
	SPI_finish();
	PG_RETURN_VOID();
}

/*
 * pg_prom_check_query() - part of the 1.0 SQL API only.  It stays in the
 * library so that version 1.0 can still be installed and then updated; a
 * 1.0 installation must be updated before custom queries can be
 * registered again (its SECURITY DEFINER functions are not safe).
 */
PG_FUNCTION_INFO_V1(pg_prom_check_query);

Datum
pg_prom_check_query(PG_FUNCTION_ARGS)
{
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("this function belongs to version 1.0 of extension pg_prom"),
			 errhint("Run ALTER EXTENSION pg_prom UPDATE in this database.")));
	PG_RETURN_NULL();
}
