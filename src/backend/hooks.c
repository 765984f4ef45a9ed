/*-------------------------------------------------------------------------
 *
 * hooks.c
 *		Hooks in every backend that count what no external exporter can
 *		see: the latency of every top-level statement and transaction,
 *		every error by severity and SQLSTATE, every authentication outcome.
 *
 * Rules for everything here, because it runs in every backend and in the
 * postmaster:
 *	- no allocation, no lock, no ereport, nothing that can throw: a clock
 *	  read and a few atomic adds on fixed shared memory;
 *	- every hook chains to the previous one (or the standard function), and
 *	  the nesting counter is restored with PG_FINALLY;
 *	- the emit_log and authentication hooks do nothing outside a backend
 *	  under the postmaster or before shared memory is attached (the
 *	  postmaster's mapping goes away across a crash-restart);
 *	- each kind can be switched off: pg_prom.track_statements,
 *	  pg_prom.track_errors, pg_prom.track_auth.
 *
 * Statements are timed at nesting level 0 only, so functions, nested SPI
 * and EXECUTE of a prepared statement are not counted twice; parallel
 * workers and pg_prom's own processes are left out.  As in
 * pg_stat_statements, the level counts the planner and utility commands
 * as well as the executor (ExecutorStart included), so the queries a
 * function runs while a statement is planned (an IMMUTABLE function folded
 * to a constant) are nested, not top-level.  A statement is timed from
 * ExecutorStart to ExecutorEnd; one that fails never reaches ExecutorEnd,
 * so its entry is forgotten when its (sub)transaction aborts (a
 * subtransaction callback): no start time is ever matched to a later
 * statement.  The open-statement table starts in static memory and grows
 * (never throwing) for sessions with many portals open at once.  A database gets one
 * of pg_prom.max_databases slots the first time it is seen (a backend
 * remembers its slot); databases beyond that are counted together in the
 * last slot, never lost.  Counters live until the server restarts, so they
 * are monotonic whatever backends come and go.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/parallel.h"
#include "access/xact.h"
#include "executor/executor.h"
#include "libpq/auth.h"
#include "libpq/libpq-be.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "optimizer/planner.h"
#include "portability/instr_time.h"
#include "tcop/utility.h"
#include "utils/elog.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "backend/hooks.h"
#include "compat.h"
#include "guc.h"

/* The class errors raised by users' functions are counted in: P0. */
#define PL_RAISE_CLASS (MAKE_SQLSTATE('P', '0', '0', '0', '0') & 0xFFF)

/* Top-level queries open at once before the table grows (cursors, portals). */
#define FIXED_OPEN_QUERIES 16

const double pgprom_latency_bounds[PGPROM_LATENCY_BUCKETS] = {
	0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
	0.25, 0.5, 1, 2.5, 5, 10, 30, 60
};

const char *const pgprom_command_names[PROM_NUM_COMMANDS] = {
	"select", "insert", "update", "delete", "merge", "utility", "other"
};

const char *const pgprom_severity_names[PGPROM_SEVERITIES] = {
	"WARNING", "ERROR", "FATAL", "PANIC"
};

const char *const pgprom_auth_result_names[PGPROM_AUTH_RESULTS] = {
	"success", "failure", "client_aborted"
};

const PromErrorCode pgprom_error_codes[PGPROM_ERROR_CODES] = {
	{ERRCODE_T_R_SERIALIZATION_FAILURE, "serialization_failure"},
	{ERRCODE_T_R_DEADLOCK_DETECTED, "deadlock_detected"},
	{ERRCODE_QUERY_CANCELED, "query_canceled"},
	{ERRCODE_LOCK_NOT_AVAILABLE, "lock_not_available"},
	{ERRCODE_UNIQUE_VIOLATION, "unique_violation"},
	{ERRCODE_FOREIGN_KEY_VIOLATION, "foreign_key_violation"},
	{ERRCODE_TOO_MANY_CONNECTIONS, "too_many_connections"},
	{ERRCODE_INVALID_PASSWORD, "invalid_password"},
	{ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION, "invalid_authorization_specification"},
	{ERRCODE_DISK_FULL, "disk_full"},
	{ERRCODE_OUT_OF_MEMORY, "out_of_memory"},
	{ERRCODE_ADMIN_SHUTDOWN, "admin_shutdown"},
	{ERRCODE_DIVISION_BY_ZERO, "division_by_zero"},
	{ERRCODE_IN_FAILED_SQL_TRANSACTION, "in_failed_sql_transaction"},
	{ERRCODE_CONNECTION_FAILURE, "connection_failure"},
	{ERRCODE_UNDEFINED_DATABASE, "invalid_catalog_name"},
};

PromHookCounters *pgprom_hook_counters = NULL;
bool		pgprom_in_own_process = false;

/*---- Local state ----*/

static planner_hook_type prev_planner = NULL;
static ExecutorStart_hook_type prev_ExecutorStart = NULL;
static ExecutorRun_hook_type prev_ExecutorRun = NULL;
static ExecutorFinish_hook_type prev_ExecutorFinish = NULL;
static ExecutorEnd_hook_type prev_ExecutorEnd = NULL;
static ProcessUtility_hook_type prev_ProcessUtility = NULL;
static emit_log_hook_type prev_emit_log_hook = NULL;
static ClientAuthentication_hook_type prev_ClientAuthentication = NULL;

static int	nesting_level = 0;
static int	my_slot = -1;		/* this backend's database slot */

/* A top-level statement between ExecutorStart and ExecutorEnd. */
typedef struct OpenQuery
{
	QueryDesc  *query;
	instr_time	start;
	SubTransactionId subxid;	/* forgotten when this aborts */
} OpenQuery;

static OpenQuery fixed_open[FIXED_OPEN_QUERIES];
static OpenQuery *open_queries = fixed_open;
static int	open_capacity = FIXED_OPEN_QUERIES;
static int	nopen = 0;

static PlannedStmt *pgprom_planner(PGPROM_PLANNER_ARGS);
static void pgprom_ExecutorStart(QueryDesc *queryDesc, int eflags);
static void pgprom_ExecutorRun(PGPROM_EXECUTOR_RUN_ARGS);
static void pgprom_ExecutorFinish(QueryDesc *queryDesc);
static void pgprom_ExecutorEnd(QueryDesc *queryDesc);
static void pgprom_ProcessUtility(PlannedStmt *pstmt, const char *queryString,
								  bool readOnlyTree,
								  ProcessUtilityContext context,
								  ParamListInfo params,
								  QueryEnvironment *queryEnv,
								  DestReceiver *dest, QueryCompletion *qc);
static void pgprom_emit_log(ErrorData *edata);
static void pgprom_client_authentication(Port *port, int status);
static void pgprom_xact_callback(XactEvent event, void *arg);
static void pgprom_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
									SubTransactionId parentSubid, void *arg);

Size
pgprom_hook_counters_size(void)
{
	return add_size(offsetof(PromHookCounters, databases),
					mul_size(sizeof(PromDatabaseCounters),
							 pgprom_max_databases + 1));
}

static void
init_histogram(PromHistogram *h)
{
	int			i;

	for (i = 0; i <= PGPROM_LATENCY_BUCKETS; i++)
		pg_atomic_init_u64(&h->buckets[i], 0);
	pg_atomic_init_u64(&h->sum_us, 0);
	pg_atomic_init_u64(&h->count, 0);
	pg_atomic_init_u64(&h->native_zero, 0);
	for (i = 0; i < PGPROM_NATIVE_BUCKETS; i++)
		pg_atomic_init_u64(&h->native[i], 0);
}

/* Called once when the shared memory is created (postmaster). */
void
pgprom_hook_counters_init(PromHookCounters *c)
{
	int			i;
	int			j;

	c->ndatabases = pgprom_max_databases + 1;
	for (i = 0; i < PGPROM_SEVERITIES; i++)
		for (j = 0; j < PGPROM_SQLSTATE_CLASSES; j++)
			pg_atomic_init_u64(&c->errors[i][j], 0);
	for (i = 0; i < PGPROM_ERROR_CODES; i++)
		pg_atomic_init_u64(&c->error_codes[i], 0);
	for (i = 0; i < PGPROM_AUTH_RESULTS; i++)
		for (j = 0; j < PGPROM_AUTH_METHODS; j++)
			pg_atomic_init_u64(&c->auth[i][j], 0);
	for (i = 0; i < c->ndatabases; i++)
	{
		pg_atomic_init_u32(&c->databases[i].dboid, InvalidOid);
		for (j = 0; j < PROM_NUM_COMMANDS; j++)
			init_histogram(&c->databases[i].statements[j]);
		init_histogram(&c->databases[i].transactions);
	}
}

/* Called from _PG_init in the postmaster. */
void
pgprom_install_hooks(void)
{
	prev_planner = planner_hook;
	planner_hook = pgprom_planner;
	prev_ExecutorStart = ExecutorStart_hook;
	ExecutorStart_hook = pgprom_ExecutorStart;
	prev_ExecutorRun = ExecutorRun_hook;
	ExecutorRun_hook = pgprom_ExecutorRun;
	prev_ExecutorFinish = ExecutorFinish_hook;
	ExecutorFinish_hook = pgprom_ExecutorFinish;
	prev_ExecutorEnd = ExecutorEnd_hook;
	ExecutorEnd_hook = pgprom_ExecutorEnd;
	prev_ProcessUtility = ProcessUtility_hook;
	ProcessUtility_hook = pgprom_ProcessUtility;
	prev_emit_log_hook = emit_log_hook;
	emit_log_hook = pgprom_emit_log;
	prev_ClientAuthentication = ClientAuthentication_hook;
	ClientAuthentication_hook = pgprom_client_authentication;
	RegisterXactCallback(pgprom_xact_callback, NULL);
	RegisterSubXactCallback(pgprom_subxact_callback, NULL);
}

const char *
pgprom_auth_method_name(int method)
{
	if (method < 0 || method > USER_AUTH_LAST)
		return "unknown";
	return hba_authname((UserAuth) method);
}

/*
 * Free the slot of database dboid, which no longer exists, so that a new
 * database gets a slot of its own rather than "[other]" (called by the
 * renderer when it cannot name a slot's database).  No backend of a dropped
 * database is left to count into it (DROP DATABASE waits for them to
 * exit), so the counters are zeroed, then the slot is released.
 */
void
pgprom_release_database_slot(int slot, Oid dboid)
{
	PromHookCounters *c = pgprom_hook_counters;
	PromDatabaseCounters *d;
	uint32		expected = dboid;
	int			i;

	if (c == NULL || slot < 0 || slot >= c->ndatabases - 1 || !OidIsValid(dboid))
		return;
	d = &c->databases[slot];
	if (pg_atomic_read_u32(&d->dboid) != dboid)
		return;
	for (i = 0; i <= PROM_NUM_COMMANDS; i++)
	{
		PromHistogram *h = i < PROM_NUM_COMMANDS ? &d->statements[i] : &d->transactions;
		int			b;

		for (b = 0; b <= PGPROM_LATENCY_BUCKETS; b++)
			pg_atomic_write_u64(&h->buckets[b], 0);
		pg_atomic_write_u64(&h->sum_us, 0);
		pg_atomic_write_u64(&h->count, 0);
		pg_atomic_write_u64(&h->native_zero, 0);
		for (b = 0; b < PGPROM_NATIVE_BUCKETS; b++)
			pg_atomic_write_u64(&h->native[b], 0);
	}
	pg_write_barrier();
	(void) pg_atomic_compare_exchange_u32(&d->dboid, &expected, InvalidOid);
}

/*
 * This backend's database slot: found or claimed once (a compare-and-swap
 * on a free slot), then remembered.  -1 when nothing may be counted.
 */
static int
database_slot(void)
{
	PromHookCounters *c = pgprom_hook_counters;
	int			i;

	if (my_slot >= 0)
		return my_slot;
	if (c == NULL || !OidIsValid(MyDatabaseId))
		return -1;
	for (i = 0; i < c->ndatabases - 1; i++)
	{
		uint32		oid = pg_atomic_read_u32(&c->databases[i].dboid);

		if (oid == MyDatabaseId)
			return my_slot = i;
		if (oid == InvalidOid)
		{
			uint32		expected = InvalidOid;

			if (pg_atomic_compare_exchange_u32(&c->databases[i].dboid,
											   &expected, MyDatabaseId) ||
				expected == MyDatabaseId)
				return my_slot = i;
		}
	}
	return my_slot = c->ndatabases - 1; /* others */
}

/* Whether this process's statements and transactions are counted. */
static inline bool
counting(void)
{
	return pgprom_hook_counters != NULL && pgprom_track_statements &&
		!pgprom_in_own_process && !IsParallelWorker() &&
		MyBackendType == B_BACKEND;
}

/*
 * The native bucket of a value above 0 at a schema from 0 to 3:
 * ceil(2^schema * log2(value)), exactly, from frexp() and a table instead
 * of a logarithm (whose rounding puts values just above a power of two in
 * the bucket below): value = m * 2^e with m in [0.5, 1), the index is
 * 2^schema * e plus the smallest j in [-2^schema, 0] with
 * m <= 2^(j / 2^schema).  The table holds the schema-3 boundaries, each
 * the largest double at or below 2^(j/8 - 1) (checked with exact rational
 * arithmetic), so "m > bound" is exact for every double; a coarser schema
 * uses every 2nd, 4th or 8th.
 */
int
pgprom_native_bucket(double value, int schema)
{
	static const double mantissa_bounds[9] = {
		0.5, 0.5452538663326287, 0.5946035575013605, 0.6484197773255048,
		0.7071067811865475, 0.7711054127039704, 0.8408964152537145,
		0.9170040432046712, 1.0
	};
	int			per_octave = 1 << schema;
	int			step = 8 >> schema;
	int			e;
	int			j = 0;
	double		m = frexp(value, &e);

	Assert(schema >= 0 && schema <= 3 && value > 0);
	while (j < per_octave && m > mantissa_bounds[j * step])
		j++;
	return per_octave * e + (j - per_octave);
}

/*
 * The native bucket of a duration above the zero threshold (schema 3),
 * clamped to the buckets kept.
 */
int
pgprom_native_index(double seconds)
{
	int			index = pgprom_native_bucket(seconds, PGPROM_NATIVE_SCHEMA);

	if (index < PGPROM_NATIVE_MIN_INDEX)
		index = PGPROM_NATIVE_MIN_INDEX;
	if (index > PGPROM_NATIVE_MAX_INDEX)
		index = PGPROM_NATIVE_MAX_INDEX;
	return index;
}

static void
observe(PromHistogram *h, double seconds)
{
	int			b = 0;

	while (b < PGPROM_LATENCY_BUCKETS && seconds > pgprom_latency_bounds[b])
		b++;
	pg_atomic_fetch_add_u64(&h->buckets[b], 1);
	if (seconds <= PGPROM_NATIVE_ZERO_THRESHOLD)
		pg_atomic_fetch_add_u64(&h->native_zero, 1);
	else
		pg_atomic_fetch_add_u64(&h->native[pgprom_native_index(seconds) -
										   PGPROM_NATIVE_MIN_INDEX], 1);
	pg_atomic_fetch_add_u64(&h->sum_us, (uint64) (seconds * 1000000.0));
	pg_atomic_fetch_add_u64(&h->count, 1);
}

static void
observe_statement(PromCommand cmd, instr_time start)
{
	instr_time	now;
	int			slot = database_slot();

	if (slot < 0)
		return;
	INSTR_TIME_SET_CURRENT(now);
	INSTR_TIME_SUBTRACT(now, start);
	observe(&pgprom_hook_counters->databases[slot].statements[cmd],
			INSTR_TIME_GET_DOUBLE(now));
}

static PromCommand
command_of(CmdType operation)
{
	switch (operation)
	{
		case CMD_SELECT:
			return PROM_CMD_SELECT;
		case CMD_INSERT:
			return PROM_CMD_INSERT;
		case CMD_UPDATE:
			return PROM_CMD_UPDATE;
		case CMD_DELETE:
			return PROM_CMD_DELETE;
		case CMD_MERGE:
			return PROM_CMD_MERGE;
		default:
			return PROM_CMD_OTHER;
	}
}

/*---- Open statements ----*/

/*
 * Remember a top-level statement's start.  The table grows when full;
 * if memory for that is short the statement is simply not timed (hooks
 * never throw).
 */
static void
open_query(QueryDesc *queryDesc)
{
	OpenQuery  *q;

	if (nopen == open_capacity)
	{
		int			newcap = open_capacity * 2;
		OpenQuery  *bigger = MemoryContextAllocExtended(TopMemoryContext,
														sizeof(OpenQuery) * newcap,
														MCXT_ALLOC_NO_OOM);

		if (bigger == NULL)
			return;
		memcpy(bigger, open_queries, sizeof(OpenQuery) * nopen);
		if (open_queries != fixed_open)
			pfree(open_queries);
		open_queries = bigger;
		open_capacity = newcap;
	}
	q = &open_queries[nopen++];
	q->query = queryDesc;
	q->subxid = GetCurrentSubTransactionId();
	INSTR_TIME_SET_CURRENT(q->start);
}

/* Forget entry i (order does not matter). */
static inline void
forget_query(int i)
{
	open_queries[i] = open_queries[--nopen];
}

/*---- Planner and executor hooks ----*/

/*
 * Planning is a nesting level too: what the planner runs (a function folded
 * to a constant, say) belongs to the statement being planned.
 */
static PlannedStmt *
pgprom_planner(PGPROM_PLANNER_ARGS)
{
	PlannedStmt *result;

	nesting_level++;
	PG_TRY();
	{
		if (prev_planner)
			result = prev_planner(PGPROM_PLANNER_PASS);
		else
			result = standard_planner(PGPROM_PLANNER_PASS);
	}
	PG_FINALLY();
	{
		nesting_level--;
	}
	PG_END_TRY();
	return result;
}

static void
pgprom_ExecutorStart(QueryDesc *queryDesc, int eflags)
{
	bool		top = nesting_level == 0 && counting() &&
		(eflags & EXEC_FLAG_EXPLAIN_ONLY) == 0;

	/* what runs while the executor starts (initial pruning) is nested */
	nesting_level++;
	PG_TRY();
	{
		if (prev_ExecutorStart)
			prev_ExecutorStart(queryDesc, eflags);
		else
			standard_ExecutorStart(queryDesc, eflags);
	}
	PG_FINALLY();
	{
		nesting_level--;
	}
	PG_END_TRY();

	if (top)
		open_query(queryDesc);
}

static void
pgprom_ExecutorRun(PGPROM_EXECUTOR_RUN_ARGS)
{
	nesting_level++;
	PG_TRY();
	{
		if (prev_ExecutorRun)
			prev_ExecutorRun(PGPROM_EXECUTOR_RUN_PASS);
		else
			standard_ExecutorRun(PGPROM_EXECUTOR_RUN_PASS);
	}
	PG_FINALLY();
	{
		nesting_level--;
	}
	PG_END_TRY();
}

static void
pgprom_ExecutorFinish(QueryDesc *queryDesc)
{
	nesting_level++;
	PG_TRY();
	{
		if (prev_ExecutorFinish)
			prev_ExecutorFinish(queryDesc);
		else
			standard_ExecutorFinish(queryDesc);
	}
	PG_FINALLY();
	{
		nesting_level--;
	}
	PG_END_TRY();
}

static void
pgprom_ExecutorEnd(QueryDesc *queryDesc)
{
	int			i;

	for (i = 0; i < nopen; i++)
	{
		if (open_queries[i].query == queryDesc)
		{
			instr_time	start = open_queries[i].start;

			forget_query(i);
			if (counting())
				observe_statement(command_of(queryDesc->operation), start);
			break;
		}
	}

	if (prev_ExecutorEnd)
		prev_ExecutorEnd(queryDesc);
	else
		standard_ExecutorEnd(queryDesc);
}

/*---- Utility statements ----*/

static void
pgprom_ProcessUtility(PlannedStmt *pstmt, const char *queryString,
					  bool readOnlyTree, ProcessUtilityContext context,
					  ParamListInfo params, QueryEnvironment *queryEnv,
					  DestReceiver *dest, QueryCompletion *qc)
{
	Node	   *parsetree = pstmt->utilityStmt;
	bool		timed;
	instr_time	start;

	/*
	 * EXECUTE runs its statement through the executor at this same level,
	 * where it is counted with its real command type; PREPARE and DEALLOCATE
	 * are bookkeeping.  Like pg_stat_statements, leave them.
	 */
	timed = nesting_level == 0 && counting() &&
		!IsA(parsetree, ExecuteStmt) && !IsA(parsetree, PrepareStmt) &&
		!IsA(parsetree, DeallocateStmt);

	if (!timed)
	{
		if (prev_ProcessUtility)
			prev_ProcessUtility(pstmt, queryString, readOnlyTree, context,
								params, queryEnv, dest, qc);
		else
			standard_ProcessUtility(pstmt, queryString, readOnlyTree, context,
									params, queryEnv, dest, qc);
		return;
	}

	INSTR_TIME_SET_CURRENT(start);
	nesting_level++;
	PG_TRY();
	{
		if (prev_ProcessUtility)
			prev_ProcessUtility(pstmt, queryString, readOnlyTree, context,
								params, queryEnv, dest, qc);
		else
			standard_ProcessUtility(pstmt, queryString, readOnlyTree, context,
									params, queryEnv, dest, qc);
	}
	PG_FINALLY();
	{
		nesting_level--;
	}
	PG_END_TRY();

	/* completed utility statements only; errors are counted as errors */
	observe_statement(PROM_CMD_UTILITY, start);
}

/*---- Transactions ----*/

static void
pgprom_xact_callback(XactEvent event, void *arg)
{
	int			slot;

	/* a query whose ExecutorEnd never ran must not be matched later */
	if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT)
		nopen = 0;

	if ((event != XACT_EVENT_COMMIT && event != XACT_EVENT_ABORT) || !counting())
		return;
	slot = database_slot();
	if (slot < 0)
		return;
	observe(&pgprom_hook_counters->databases[slot].transactions,
			(double) Max(0, GetCurrentTimestamp() - GetCurrentTransactionStartTimestamp()) /
			USECS_PER_SEC);
}

/*
 * A subtransaction aborts: the statements that started in it, or in one
 * begun after it (its children), failed without reaching ExecutorEnd.
 */
static void
pgprom_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
						SubTransactionId parentSubid, void *arg)
{
	int			i = 0;

	if (event != SUBXACT_EVENT_ABORT_SUB)
		return;
	while (i < nopen)
	{
		if (open_queries[i].subxid >= mySubid)
			forget_query(i);
		else
			i++;
	}
}

/*---- Errors ----*/

/*
 * Whether edata refuses a connection for a database's or a role's own
 * CONNECTION LIMIT: the same SQLSTATE as the server out of slots (53300),
 * but set by whoever owns the database or role, so not the condition that
 * alerts read.  message_id is the untranslated format string.
 */
static bool
own_connection_limit(const ErrorData *edata)
{
	return edata->sqlerrcode == ERRCODE_TOO_MANY_CONNECTIONS &&
		edata->message_id != NULL &&
		strncmp(edata->message_id, "too many connections for ", 25) == 0;
}

/*
 * Runs with ErrorContext current, possibly in a critical section or while
 * out of memory, in any process including the postmaster: atomics only.
 */
static void
pgprom_emit_log(ErrorData *edata)
{
	PromHookCounters *c = pgprom_hook_counters;
	int			severity;

	/*
	 * The logging collector detached from shared memory when it started: the
	 * pointer it inherited from the postmaster leads nowhere there.
	 */
	if (edata->elevel >= WARNING && c != NULL && IsUnderPostmaster &&
		MyBackendType != B_LOGGER && pgprom_track_errors)
	{
		switch (edata->elevel)
		{
			case WARNING:
				severity = 0;
				break;
			case ERROR:
				severity = 1;
				break;
			case FATAL:
				severity = 2;
				break;
			case PANIC:
				severity = 3;
				break;
			default:
				severity = -1;
				break;
		}
		if (severity >= 0)
		{
			int			i;

			/*
			 * What a user's function raises with a SQLSTATE of its choice
			 * (PL/pgSQL RAISE, PL/Python plpy.error) is an application error:
			 * counted as class P0, never as the server conditions alerts read
			 * (disk_full, out_of_memory, ...).
			 */
			if (edata->funcname &&
				(strcmp(edata->funcname, "exec_stmt_raise") == 0 ||
				 strcmp(edata->funcname, "PLy_output") == 0))
			{
				pg_atomic_fetch_add_u64(&c->errors[severity][PL_RAISE_CLASS], 1);
			}
			else
			{
				/* the class is the first two 6-bit characters of the code */
				pg_atomic_fetch_add_u64(&c->errors[severity][edata->sqlerrcode & 0xFFF], 1);
				if (severity > 0 && !own_connection_limit(edata))
					for (i = 0; i < PGPROM_ERROR_CODES; i++)
						if (pgprom_error_codes[i].sqlstate == edata->sqlerrcode)
							pg_atomic_fetch_add_u64(&c->error_codes[i], 1);
			}
		}
	}

	if (prev_emit_log_hook)
		prev_emit_log_hook(edata);
}

/*---- Authentication ----*/

/* The method of a connection's pg_hba.conf line, as a counter index. */
static int
auth_method_index(Port *port)
{
	int			method = (port && port->hba) ? (int) port->hba->auth_method :
		USER_AUTH_LAST + 1;

	if (method < 0 || method > USER_AUTH_LAST)
		method = USER_AUTH_LAST + 1;
	return method;
}

/* A login another hook refused after the method accepted it. */
static int	auth_refused_method = -1;

static void
count_auth_refused(int code, Datum arg)
{
	if (auth_refused_method >= 0 && pgprom_hook_counters != NULL)
		pg_atomic_fetch_add_u64(&pgprom_hook_counters->auth[1][auth_refused_method], 1);
	auth_refused_method = -1;
}

/*
 * Called after the authentication method ran, before the client is told.
 * STATUS_EOF is a client that hung up when asked for a password (psql's
 * first, password-less attempt): counted apart from real failures.  The
 * previous hook (another extension's) runs first: when it refuses a login
 * the method accepted, it ends the process with FATAL, and the exit
 * callback counts a failure instead of a success.
 */
static void
pgprom_client_authentication(Port *port, int status)
{
	PromHookCounters *c = pgprom_hook_counters;
	bool		track = c != NULL && IsUnderPostmaster && pgprom_track_auth;
	int			method = auth_method_index(port);

	if (prev_ClientAuthentication)
	{
		if (track && status == STATUS_OK)
		{
			auth_refused_method = method;
			before_shmem_exit(count_auth_refused, (Datum) 0);
		}
		prev_ClientAuthentication(port, status);
		auth_refused_method = -1;
	}

	if (track)
	{
		int			result = (status == STATUS_OK) ? 0 :
			(status == STATUS_EOF) ? 2 : 1;

		pg_atomic_fetch_add_u64(&c->auth[result][method], 1);
	}
}
