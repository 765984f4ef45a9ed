/*-------------------------------------------------------------------------
 *
 * render.c
 *		The one renderer behind /metrics and pg_prom_metrics().
 *
 * Both doors call pgprom_render() inside a transaction with an active
 * snapshot: the collector worker opens one per scrape, the SQL function
 * runs in the caller's.  A render is a sequence of units: the collectors
 * of the table (collectors.c) and, at the custom_queries collector's
 * place, one unit per custom query.  Each collector runs in its own
 * internal subtransaction with a lock_timeout and a statement timeout taken
 * from what is left of pg_prom.scrape_timeout.  When one fails, the writer
 * forgets what it wrote, the error is logged (at most once a minute per
 * unit and process) and counted, and the render goes on: the failure shows
 * only as pg_scrape_collector_success{collector} 0.
 *
 * Privileges: everything here is pg_prom's own SQL, fully qualified, run
 * with search_path = pg_catalog, pg_temp; whatever a query changes in the
 * settings is put back at the end.  A superuser renders as pg_monitor, in
 * a security-restricted operation: no collector needs more, so nothing
 * that might still resolve to a user's object could run as a superuser.
 * Custom queries, the only user SQL, run in a worker of their own
 * (custom_worker.c), never in this session.
 *
 * Collectors marked slow (expensive, slowly changing: database sizes) keep
 * their output in a per-process cache for pg_prom.slow_collector_interval
 * seconds and are replayed from it in between; a custom query with a
 * min_interval is cached the same way.
 *
 * Query cancels that are not our own timeout (a user's Ctrl-C or
 * statement_timeout on the SQL door, the endpoint stopping a collection)
 * are rethrown, never swallowed.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "portability/instr_time.h"
#include "storage/proc.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/timeout.h"
#include "utils/timestamp.h"

#include "guc.h"
#include "scrape/collectors/collectors.h"
#include "scrape/custom.h"
#include "scrape/custom_worker.h"
#include "scrape/expo.h"
#include "scrape/render.h"
#include "scrape/scrape.h"
#include "shmem.h"
#include "workers.h"

/* Seconds between two log lines about the same failing unit. */
#define UNIT_LOG_INTERVAL_S 60

/* A unit's last good output, kept between scrapes. */
typedef struct UnitCache
{
	MemoryContext cxt;			/* holds text and families; reset on refresh */
	bool		valid;
	TimestampTz taken;
	char	   *text;
	int			len;
	List	   *families;
	char	   *server_label;	/* pg_prom.server_label the text was made with */
	int64		left_out;		/* the notes of the cached run */
	int64		skipped_locked;
} UnitCache;

/* A custom query's cache and log throttle, by query name. */
typedef struct CustomState
{
	char		name[NAMEDATALEN * 2];	/* hash key */
	uint64		definition_hash;	/* of the definition the cache was made
									 * with */
	UnitCache	cache;
	TimestampTz last_log;
	bool		seen;			/* still registered at the last render */
} CustomState;

/* The render in progress. */
typedef struct Render
{
	PromWriter *w;
	StringInfo	out;
	ScrapeSink *sink;			/* NULL: everything stays in out */
	List	   *results;		/* ScrapeResult *, in unit order */
	TimestampTz deadline;
	MemoryContext unit_cxt;		/* reset after each unit */
} Render;

typedef void (*IsolatedFn) (PromWriter *w, void *arg);

/* The families a scrape writes about itself, after every unit. */
static const struct
{
	const char *name;
	PromType	type;
}			scrape_families[] = {
	{"pg_scrape_collector_success", PROM_GAUGE},
	{"pg_scrape_collector_duration_seconds", PROM_GAUGE},
	{"pg_prom_collector_objects_left_out", PROM_GAUGE},
	{"pg_prom_collector_relations_skipped_locked", PROM_GAUGE},
	{"pg_prom_scrape_duration_seconds", PROM_GAUGE},
	{"pg_exporter_last_scrape_duration_seconds", PROM_GAUGE},
	{"pg_exporter_last_scrape_error", PROM_GAUGE},
};

static UnitCache caches[PGPROM_MAX_COLLECTORS];
static TimestampTz last_failure_log[PGPROM_MAX_COLLECTORS];
static HTAB *custom_states = NULL;

static void run_collector(Render *r, int idx);
static void run_custom_queries(Render *r, int idx);
static char *run_isolated(Render *r, const char *name, IsolatedFn fn,
						  void *arg, long cap_ms, ScrapeResult *result);
static bool replay_cached(PromWriter *w, UnitCache *cache, int interval_s);
static void save_cache(PromWriter *w, UnitCache *cache, PromMark mark,
					   ScrapeResult *result);
static void log_failure(const char *name, TimestampTz *last_log,
						const char *message);

void
pgprom_reserve_scrape_families(PromWriter *w)
{
	int			i;

	for (i = 0; i < lengthof(scrape_families); i++)
		(void) pgprom_expo_reserve(w, scrape_families[i].name, scrape_families[i].type);
}

void
pgprom_render(StringInfo out, uint64 mask, ScrapeSink *sink)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	Render		r;
	instr_time	started;
	int			nestlevel;
	Oid			save_userid;
	int			save_sec_context;
	int			i;

	INSTR_TIME_SET_CURRENT(started);
	memset(&r, 0, sizeof(r));
	r.out = out;
	r.sink = sink;
	r.deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
											 pgprom_scrape_timeout_ms);

	(void) pgprom_scrape_begin(oldcxt);
	PG_TRY();
	{
		MemoryContextSwitchTo(pgprom_scrape_context());
		r.unit_cxt = AllocSetContextCreate(pgprom_scrape_context(),
										   "pg_prom unit",
										   ALLOCSET_DEFAULT_SIZES);
		r.w = pgprom_expo_create(out);
		pgprom_expo_set_native(r.w, (mask & PGPROM_MASK_NATIVE) != 0);
		pgprom_reserve_scrape_families(r.w);

		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "pg_prom: SPI_connect failed");
		MemoryContextSwitchTo(pgprom_scrape_context());

		/*
		 * pg_prom's own name resolution, and no collector queueing behind a
		 * lock for long; whatever anything changes is put back below.
		 */
		nestlevel = NewGUCNestLevel();
		(void) set_config_option("search_path", "pg_catalog, pg_temp",
								 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
								 true, 0, false);
		if (pgprom_lock_timeout_ms > 0 &&
			(LockTimeout == 0 || LockTimeout > pgprom_lock_timeout_ms))
		{
			char		buf[32];

			snprintf(buf, sizeof(buf), "%d", pgprom_lock_timeout_ms);
			(void) set_config_option("lock_timeout", buf, PGC_USERSET,
									 PGC_S_SESSION, GUC_ACTION_SAVE, true, 0,
									 false);
		}

		/* no collector needs more than pg_monitor */
		pgprom_become_monitor(&save_userid, &save_sec_context);

		for (i = 0; i < pgprom_num_collectors; i++)
		{
			if ((mask & (UINT64CONST(1) << i)) == 0)
				continue;
			if (pgprom_collectors[i].collect == NULL)
				run_custom_queries(&r, i);
			else
				run_collector(&r, i);
		}

		SetUserIdAndSecContext(save_userid, save_sec_context);
		AtEOXact_GUC(false, nestlevel);
		SPI_finish();

		if (sink == NULL)
		{
			instr_time	now;

			INSTR_TIME_SET_CURRENT(now);
			INSTR_TIME_SUBTRACT(now, started);
			pgprom_write_scrape_families(r.w, r.results,
										 INSTR_TIME_GET_DOUBLE(now));
		}
		else
			sink->done(sink);

		if (pgprom_shared)
		{
			pg_atomic_fetch_add_u64(&pgprom_shared->scrapes, 1);
			if (pgprom_expo_duplicates(r.w) > 0)
				pg_atomic_fetch_add_u64(&pgprom_shared->duplicate_series,
										pgprom_expo_duplicates(r.w));
		}
	}
	PG_FINALLY();
	{
		MemoryContextSwitchTo(oldcxt);
		pgprom_scrape_end();
	}
	PG_END_TRY();
}

/*---- units ----*/

static ScrapeResult *
unit_begin(Render *r, const char *label, bool may_wait, PromMark *mark)
{
	ScrapeResult *result = MemoryContextAllocZero(pgprom_scrape_context(),
												  sizeof(ScrapeResult));

	strlcpy(result->label, label, sizeof(result->label));
	if (r->sink)
		r->sink->unit_start(r->sink, label, may_wait);
	*mark = pgprom_expo_mark(r->w);
	return result;
}

/*
 * A unit is over: hand its text (when it succeeded) and outcome to the
 * sink, and keep the outcome for the scrape's own families.  With a sink,
 * out only ever holds the unit being written.
 */
static void
unit_end(Render *r, ScrapeResult *result, PromMark mark, const char *message)
{
	MemoryContext old = MemoryContextSwitchTo(pgprom_scrape_context());

	if (r->sink)
	{
		if (result->success)
			r->sink->unit_text(r->sink, r->out->data + mark.out_len,
							   r->out->len - mark.out_len, NIL);
		r->out->len = mark.out_len;
		r->out->data[r->out->len] = '\0';
		r->sink->unit_result(r->sink, result, message);
	}
	r->results = lappend(r->results, result);
	MemoryContextSwitchTo(old);
}

/* Adapter: a collector of the table as an isolated function. */
static void
call_collector(PromWriter *w, void *arg)
{
	((const PromCollector *) arg)->collect(w);
}

/*
 * pg_prom.test_stall_collector: in the collector worker (the render with a
 * sink), the named collector waits 10 s with interrupts held, as one stuck
 * in an uninterruptible wait would: it ignores the cancel at
 * pg_prom.scrape_timeout and the endpoint's terminate until then.
 */
static void
test_stall(Render *r, const char *name)
{
	int			i;

	if (r->sink == NULL || pgprom_test_stall_collector == NULL ||
		strcmp(pgprom_test_stall_collector, name) != 0)
		return;
	HOLD_INTERRUPTS();
	for (i = 0; i < 100; i++)
		pg_usleep(100 * 1000L);
	RESUME_INTERRUPTS();
}

static void
run_collector(Render *r, int idx)
{
	const PromCollector *c = &pgprom_collectors[idx];
	PromMark	mark;
	ScrapeResult *result = unit_begin(r, c->name, c->may_wait, &mark);
	char	   *message = NULL;

	test_stall(r, c->name);
	if (c->slow && replay_cached(r->w, &caches[idx], pgprom_slow_collector_interval_s))
	{
		result->success = true;
		result->left_out = caches[idx].left_out;
		result->skipped_locked = caches[idx].skipped_locked;
	}
	else
	{
		message = run_isolated(r, c->name, call_collector, (void *) c, 0,
							   result);
		if (!result->success)
		{
			if (pgprom_shared)
				pg_atomic_fetch_add_u64(&pgprom_shared->collector_errors[idx], 1);
			log_failure(c->name, &last_failure_log[idx], message);
		}
		else if (c->slow && pgprom_slow_collector_interval_s > 0)
			save_cache(r->w, &caches[idx], mark, result);
	}
	unit_end(r, result, mark, message);
}

/*
 * Run fn in its own subtransaction with a statement timeout of what is
 * left of the scrape budget (and at most cap_ms, when positive).  On
 * failure, whatever fn wrote is rolled back and the reason returned (in
 * scrape memory); the render goes on.
 */
static char *
run_isolated(Render *r, const char *name, IsolatedFn fn, void *arg,
			 long cap_ms, ScrapeResult *result)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	PromWriter *w = r->w;
	PromMark	mark = pgprom_expo_mark(w);
	instr_time	t0,
				t1;
	long		remaining_ms;
	TimestampTz timer_end;
	volatile bool armed = false;
	char	   *message = NULL;

	INSTR_TIME_SET_CURRENT(t0);
	result->success = false;

	remaining_ms = TimestampDifferenceMilliseconds(GetCurrentTimestamp(),
												   r->deadline);
	if (remaining_ms <= 0)
		return pstrdup("skipped: pg_prom.scrape_timeout was used up by earlier collectors");
	if (cap_ms > 0 && cap_ms < remaining_ms)
		remaining_ms = cap_ms;

	timer_end = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
											Max(remaining_ms, 1));
	pgprom_scrape_set_unit(result);
	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(r->unit_cxt);

	PG_TRY();
	{
		if (!get_timeout_active(STATEMENT_TIMEOUT))
		{
			enable_timeout_after(STATEMENT_TIMEOUT, (int) Max(remaining_ms, 1));
			armed = true;
		}

		fn(w, arg);

		if (armed)
		{
			disable_timeout(STATEMENT_TIMEOUT, false);
			armed = false;
		}
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;
		result->success = true;
	}
	PG_CATCH();
	{
		ErrorData  *edata;
		bool		own_timeout = false;

		/*
		 * ProcessInterrupts has already reset the timeout's indicator, so
		 * tell our timeout from a cancel by the clock.
		 */
		if (armed)
		{
			own_timeout = GetCurrentTimestamp() >= timer_end;
			disable_timeout(STATEMENT_TIMEOUT, false);
		}
		MemoryContextSwitchTo(pgprom_scrape_context());
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;
		pgprom_expo_rollback(w, mark);

		/* A cancel that is not ours belongs to the caller. */
		if (edata->sqlerrcode == ERRCODE_QUERY_CANCELED && !own_timeout)
			ReThrowError(edata);
		message = edata->message ? edata->message : "unknown error";
		/* the hint says what to do about it: keep it with the message */
		if (edata->hint)
			message = MemoryContextStrdup(pgprom_scrape_context(),
										  psprintf("%s (hint: %s)", message, edata->hint));
	}
	PG_END_TRY();

	pgprom_scrape_set_unit(NULL);

	/* A timer that fired just as the collector finished must not leak. */
	if (QueryCancelPending && get_timeout_indicator(STATEMENT_TIMEOUT, true))
		QueryCancelPending = false;

	MemoryContextReset(r->unit_cxt);

	INSTR_TIME_SET_CURRENT(t1);
	INSTR_TIME_SUBTRACT(t1, t0);
	result->seconds = INSTR_TIME_GET_DOUBLE(t1);
	return message;
}

/*---- custom queries ----*/

/* What the custom_queries unit hands over to the per-query units. */
typedef struct CustomRun
{
	TimestampTz deadline;
	List	   *queries;		/* CustomQuery *, all enabled ones */
	List	   *due;			/* CustomQuery *, those to run now */
	List	   *outcomes;		/* CustomOutcome *, one per due query */
} CustomRun;

static CustomState *
custom_state(const CustomQuery *q)
{
	char		key[NAMEDATALEN * 2];
	CustomState *st;
	bool		found;

	if (custom_states == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = NAMEDATALEN * 2;
		ctl.entrysize = sizeof(CustomState);
		custom_states = hash_create("pg_prom custom queries", 64, &ctl,
									HASH_ELEM | HASH_STRINGS);
	}
	memset(key, 0, sizeof(key));
	strlcpy(key, q->name, sizeof(key));
	st = hash_search(custom_states, key, HASH_ENTER, &found);
	if (!found)
	{
		memset(&st->cache, 0, sizeof(UnitCache));
		st->last_log = 0;
		st->definition_hash = 0;
	}
	return st;
}

/* A query is due unless its cached output is young enough. */
static bool
cache_fresh(const CustomQuery *q, CustomState *st)
{
	return st->definition_hash == q->definition_hash &&
		st->cache.valid && q->min_interval_s > 0 &&
		!TimestampDifferenceExceeds(st->cache.taken, GetCurrentTimestamp(),
									q->min_interval_s * 1000) &&
		strcmp(st->cache.server_label,
			   pgprom_server_label ? pgprom_server_label : "") == 0;
}

/*
 * The custom_queries unit: read the definitions (pg_prom's own SQL on the
 * extension's table) and run those that are due in custom-query workers.
 */
static void
load_and_run_custom(PromWriter *w, void *arg)
{
	CustomRun  *run = (CustomRun *) arg;
	MemoryContext old = MemoryContextSwitchTo(pgprom_scrape_context());
	ListCell   *lc;

	run->queries = pgprom_custom_queries_load();
	foreach(lc, run->queries)
	{
		CustomQuery *q = lfirst(lc);

		if (!cache_fresh(q, custom_state(q)))
			run->due = lappend(run->due, q);
	}
	if (run->due != NIL)
		run->outcomes = pgprom_custom_run(run->due, run->deadline);
	MemoryContextSwitchTo(old);
}

static void
run_custom_queries(Render *r, int idx)
{
	PromMark	mark;
	ScrapeResult *result = unit_begin(r, pgprom_collectors[idx].name,
									  pgprom_collectors[idx].may_wait, &mark);
	CustomRun	run;
	char	   *message;
	HASH_SEQ_STATUS seq;
	CustomState *st;
	ListCell   *lc;
	int			next_outcome = 0;

	memset(&run, 0, sizeof(run));
	run.deadline = r->deadline;
	message = run_isolated(r, pgprom_collectors[idx].name, load_and_run_custom,
						   &run, 0, result);
	if (!result->success)
	{
		if (pgprom_shared)
			pg_atomic_fetch_add_u64(&pgprom_shared->collector_errors[idx], 1);
		log_failure(pgprom_collectors[idx].name, &last_failure_log[idx], message);
	}
	unit_end(r, result, mark, message);
	if (!result->success)
		return;

	if (custom_states)
	{
		hash_seq_init(&seq, custom_states);
		while ((st = hash_seq_search(&seq)) != NULL)
			st->seen = false;
	}

	/* one unit per query, in name order, from its cache or its outcome */
	foreach(lc, run.queries)
	{
		CustomQuery *q = lfirst(lc);

		/* replays: what may wait ran in the unit above */
		ScrapeResult *qresult = unit_begin(r, q->label, false, &mark);
		const char *qmessage = NULL;

		st = custom_state(q);
		st->seen = true;
		if (!list_member_ptr(run.due, q))
		{
			qresult->success = replay_cached(r->w, &st->cache, q->min_interval_s);
			qresult->left_out = st->cache.left_out;
			if (!qresult->success)
				qmessage = "a family name of its cached output is already in the scrape";
		}
		else
		{
			CustomOutcome *o = list_nth(run.outcomes, next_outcome++);

			*qresult = o->result;
			strlcpy(qresult->label, q->label, sizeof(qresult->label));
			qmessage = o->message;
			if (qresult->success &&
				!pgprom_expo_replay(r->w, o->text, o->len, o->families))
			{
				/* a built-in or earlier family has the name: it wins */
				qresult->success = false;
				qmessage = "a family name it writes is already in the scrape (pg_prom's own families always win)";
				if (pgprom_shared)
					pg_atomic_fetch_add_u64(&pgprom_shared->duplicate_series, 1);
			}
			else if (qresult->success && q->min_interval_s > 0)
			{
				save_cache(r->w, &st->cache, mark, qresult);
				st->definition_hash = q->definition_hash;
			}
		}
		if (!qresult->success)
			log_failure(q->label, &st->last_log, qmessage);
		unit_end(r, qresult, mark, qmessage);
	}

	/* forget the caches of queries that are gone */
	if (custom_states)
	{
		hash_seq_init(&seq, custom_states);
		while ((st = hash_seq_search(&seq)) != NULL)
		{
			if (!st->seen)
			{
				if (st->cache.cxt)
					MemoryContextDelete(st->cache.cxt);
				hash_search(custom_states, st->name, HASH_REMOVE, NULL);
			}
		}
	}
}

/*---- caches ----*/

static bool
replay_cached(PromWriter *w, UnitCache *cache, int interval_s)
{
	if (!cache->valid || interval_s <= 0)
		return false;
	if (strcmp(cache->server_label, pgprom_server_label ? pgprom_server_label : "") != 0)
		return false;			/* the labels changed at a reload */
	if (TimestampDifferenceExceeds(cache->taken, GetCurrentTimestamp(),
								   interval_s * 1000))
		return false;
	return pgprom_expo_replay(w, cache->text, cache->len, cache->families);
}

static void
save_cache(PromWriter *w, UnitCache *cache, PromMark mark,
		   ScrapeResult *result)
{
	MemoryContext old;
	StringInfo	out;

	if (cache->cxt == NULL)
		cache->cxt = AllocSetContextCreate(TopMemoryContext,
										   "pg_prom unit cache",
										   ALLOCSET_SMALL_SIZES);
	else
		MemoryContextReset(cache->cxt);

	out = pgprom_expo_output(w);
	old = MemoryContextSwitchTo(cache->cxt);
	cache->len = out->len - mark.out_len;
	cache->text = palloc(cache->len + 1);
	memcpy(cache->text, out->data + mark.out_len, cache->len);
	cache->text[cache->len] = '\0';
	cache->families = pgprom_expo_families_since(w, mark);
	cache->server_label = pstrdup(pgprom_server_label ? pgprom_server_label : "");
	MemoryContextSwitchTo(old);
	cache->left_out = result->left_out;
	cache->skipped_locked = result->skipped_locked;
	cache->taken = GetCurrentTimestamp();
	cache->valid = true;
}

static void
log_failure(const char *name, TimestampTz *last_log, const char *message)
{
	TimestampTz now = GetCurrentTimestamp();

	if (*last_log != 0 &&
		!TimestampDifferenceExceeds(*last_log, now,
									UNIT_LOG_INTERVAL_S * 1000))
		return;
	*last_log = now;
	ereport(LOG,
			(errmsg("pg_prom: collector \"%s\" failed: %s",
					name, message ? message : "unknown error"),
			 errdetail("Its metrics are left out of this scrape; pg_scrape_collector_success{collector=\"%s\"} is 0.",
					   name),
			 errhint("Further failures of this collector are logged at most once every %d seconds.",
					 UNIT_LOG_INTERVAL_S)));
}

/*---- the scrape's own families ----*/

typedef enum ResultField
{
	FIELD_SUCCESS,
	FIELD_SECONDS,
	FIELD_LEFT_OUT,
	FIELD_SKIPPED_LOCKED
} ResultField;

static double
field_of(const ScrapeResult *r, ResultField field)
{
	switch (field)
	{
		case FIELD_SUCCESS:
			return r->success ? 1 : 0;
		case FIELD_SECONDS:
			return r->seconds;
		case FIELD_LEFT_OUT:
			return (double) r->left_out;
		case FIELD_SKIPPED_LOCKED:
			return (double) r->skipped_locked;
	}
	return 0;
}

/* One family with a series per unit. */
static void
write_per_unit(PromWriter *w, const char *name, const char *help,
			   ResultField field, List *results)
{
	ListCell   *lc;

	if (!pgprom_expo_family(w, name, help, PROM_GAUGE))
		return;
	foreach(lc, results)
	{
		ScrapeResult *r = lfirst(lc);

		pgprom_expo_value1(w, "collector", r->label, field_of(r, field));
	}
}

void
pgprom_write_scrape_families(PromWriter *w, List *results, double seconds)
{
	int			i;

	/* the names were reserved against the units: free them for this */
	for (i = 0; i < lengthof(scrape_families); i++)
		pgprom_expo_release(w, scrape_families[i].name, scrape_families[i].type);

	write_per_unit(w, "pg_scrape_collector_success",
				   "Whether a collector succeeded (1) or failed (0) in this scrape.",
				   FIELD_SUCCESS, results);
	write_per_unit(w, "pg_scrape_collector_duration_seconds",
				   "Time a collector took in this scrape, in seconds.",
				   FIELD_SECONDS, results);
	write_per_unit(w, "pg_prom_collector_objects_left_out",
				   "Objects (tables, ...) a collector left out of this scrape because of a cap such as pg_prom.max_tables.",
				   FIELD_LEFT_OUT, results);
	write_per_unit(w, "pg_prom_collector_relations_skipped_locked",
				   "Relations a collector skipped in this scrape because their lock was not free at once.",
				   FIELD_SKIPPED_LOCKED, results);
	if (pgprom_expo_family(w, "pg_prom_scrape_duration_seconds",
						   "Time this scrape took to render, in seconds.",
						   PROM_GAUGE))
		pgprom_expo_value(w, seconds);

	/*
	 * postgres_exporter's names for the same, which its mixin's alerts and
	 * public dashboards read.
	 */
	if (pgprom_expo_family(w, "pg_exporter_last_scrape_duration_seconds",
						   "Compatibility name (postgres_exporter's) for pg_prom_scrape_duration_seconds.",
						   PROM_GAUGE))
		pgprom_expo_value(w, seconds);
	if (pgprom_expo_family(w, "pg_exporter_last_scrape_error",
						   "Compatibility name (postgres_exporter's): 1 when a collector failed in this scrape (see pg_scrape_collector_success), else 0.",
						   PROM_GAUGE))
	{
		bool		failed = false;
		ListCell   *lc;

		foreach(lc, results)
			failed |= field_of(lfirst(lc), FIELD_SUCCESS) == 0;
		pgprom_expo_value(w, failed ? 1 : 0);
	}
}
