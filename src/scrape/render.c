/*-------------------------------------------------------------------------
 *
 * render.c
 *		The one renderer behind /metrics and pg_prom_metrics().
 *
 * Both doors call pgprom_render() inside a transaction with an active
 * snapshot: the worker opens one per scrape, the SQL function runs in the
 * caller's.  Each collector runs in its own internal subtransaction with a
 * lock_timeout and a statement timeout taken from what is left of
 * pg_prom.scrape_timeout.  When a collector fails, the writer forgets what
 * it wrote, the error is logged (at most once a minute per collector and
 * process) and counted, and the scrape goes on: the failure shows only as
 * pg_scrape_collector_success{collector} 0.
 *
 * Collectors marked slow (expensive, slowly changing: database sizes) keep
 * their output in a per-process cache for pg_prom.slow_collector_interval
 * seconds and are replayed from it in between.
 *
 * Custom queries (custom.c) run after the collectors, each isolated the
 * same way and reported as its own collector "custom:<name>"; a query with
 * a min_interval is served from the same kind of cache in between.
 *
 * Query cancels that are not our own timeout (a user's Ctrl-C or
 * statement_timeout on the SQL door) are rethrown, never swallowed.
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
#include "scrape/expo.h"
#include "scrape/query.h"
#include "scrape/render.h"
#include "scrape/tables.h"
#include "shmem.h"

/* Seconds between two log lines about the same failing collector. */
#define COLLECTOR_LOG_INTERVAL_S 60

/* A slow collector's last good output, kept between scrapes. */
typedef struct CollectorCache
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
} CollectorCache;

/* Outcome of one collector in one render. */
typedef struct CollectorResult
{
	bool		success;
	double		seconds;
	int64		left_out;
	int64		skipped_locked;
} CollectorResult;

/* A custom query's cache and log throttle, by query name. */
typedef struct CustomState
{
	char		name[NAMEDATALEN * 2];	/* hash key */
	uint64		definition_hash;	/* of the definition the cache was made with */
	CollectorCache cache;
	TimestampTz last_log;
	bool		seen;			/* still registered at the last render */
} CustomState;

/* A custom query's outcome in one render. */
typedef struct CustomResult
{
	const char *label;			/* "custom:<name>" */
	CollectorResult result;
} CustomResult;

typedef void (*IsolatedFn) (PromWriter *w, void *arg);

static MemoryContext render_cxt = NULL;
static uint64 render_mask = 0;	/* the collectors of the current render */

#define RENDERED(i) ((render_mask & (UINT64CONST(1) << (i))) != 0)
static CollectorResult *current_result = NULL;
static CollectorCache caches[PGPROM_MAX_COLLECTORS];
static TimestampTz last_failure_log[PGPROM_MAX_COLLECTORS];
static HTAB *custom_states = NULL;

static void run_collector(PromWriter *w, int idx, MemoryContext collector_cxt,
						  TimestampTz deadline, CollectorResult *result);
static void run_isolated(PromWriter *w, const char *name, IsolatedFn fn,
						 void *arg, MemoryContext collector_cxt,
						 TimestampTz deadline, long cap_ms,
						 CollectorResult *result, TimestampTz *last_log,
						 pg_atomic_uint64 *error_counter);
static List *run_custom_queries(PromWriter *w, MemoryContext collector_cxt,
								TimestampTz deadline);
static bool replay_cached(PromWriter *w, CollectorCache *cache, int interval_s);
static void save_cache(PromWriter *w, CollectorCache *cache, PromMark mark,
					   CollectorResult *result);
static void log_failure(const char *name, TimestampTz *last_log,
						const char *message);
static void write_scrape_families(PromWriter *w, CollectorResult *results,
								  List *custom_results, instr_time started);

void
pgprom_note_left_out(int64 n)
{
	if (current_result && n > 0)
		current_result->left_out += n;
}

void
pgprom_note_skipped_locked(int64 n)
{
	if (current_result && n > 0)
		current_result->skipped_locked += n;
}

MemoryContext
pgprom_render_context(void)
{
	Assert(render_cxt != NULL);
	return render_cxt;
}

void
pgprom_render(StringInfo out)
{
	pgprom_render_subset(out, pgprom_collector_mask);
}

void
pgprom_render_subset(StringInfo out, uint64 mask)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	MemoryContext collector_cxt;
	PromWriter *w;
	CollectorResult results[PGPROM_MAX_COLLECTORS];
	List	   *custom_results;
	instr_time	started;
	TimestampTz deadline;
	int			nestlevel;
	int			i;

	render_mask = mask;
	INSTR_TIME_SET_CURRENT(started);
	deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
										   pgprom_scrape_timeout_ms);

	render_cxt = AllocSetContextCreate(oldcxt, "pg_prom render",
									   ALLOCSET_DEFAULT_SIZES);
	collector_cxt = AllocSetContextCreate(render_cxt, "pg_prom collector",
										  ALLOCSET_DEFAULT_SIZES);
	pgprom_forget_databases();
	pgprom_tables_forget();
	pgprom_custom_queries_forget();

	PG_TRY();
	{
		MemoryContextSwitchTo(render_cxt);
		w = expo_create(out);

		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "pg_prom: SPI_connect failed");
		MemoryContextSwitchTo(render_cxt);

		/* no collector may queue behind a lock for long */
		nestlevel = NewGUCNestLevel();
		if (pgprom_lock_timeout_ms > 0 &&
			(LockTimeout == 0 || LockTimeout > pgprom_lock_timeout_ms))
		{
			char		buf[32];

			snprintf(buf, sizeof(buf), "%d", pgprom_lock_timeout_ms);
			(void) set_config_option("lock_timeout", buf, PGC_USERSET,
									 PGC_S_SESSION, GUC_ACTION_SAVE, true, 0,
									 false);
		}

		for (i = 0; i < pgprom_num_collectors; i++)
			if (RENDERED(i))
				run_collector(w, i, collector_cxt, deadline, &results[i]);
		custom_results = run_custom_queries(w, collector_cxt, deadline);

		AtEOXact_GUC(true, nestlevel);

		write_scrape_families(w, results, custom_results, started);
		SPI_finish();

		if (pgprom_shared)
		{
			pg_atomic_fetch_add_u64(&pgprom_shared->scrapes, 1);
			if (expo_duplicates(w) > 0)
				pg_atomic_fetch_add_u64(&pgprom_shared->duplicate_series,
										expo_duplicates(w));
		}
	}
	PG_FINALLY();
	{
		pgprom_forget_databases();
		pgprom_tables_forget();
		pgprom_custom_queries_forget();
		MemoryContextSwitchTo(oldcxt);
		MemoryContextDelete(render_cxt);
		render_cxt = NULL;
	}
	PG_END_TRY();
}

/* Adapter: a collector of the table as an isolated function. */
static void
call_collector(PromWriter *w, void *arg)
{
	((const PromCollector *) arg)->collect(w);
}

static void
run_collector(PromWriter *w, int idx, MemoryContext collector_cxt,
			  TimestampTz deadline, CollectorResult *result)
{
	const PromCollector *c = &pgprom_collectors[idx];
	PromMark	mark = expo_mark(w);

	memset(result, 0, sizeof(CollectorResult));
	if (c->slow && replay_cached(w, &caches[idx], pgprom_slow_collector_interval_s))
	{
		result->success = true;
		result->left_out = caches[idx].left_out;
		result->skipped_locked = caches[idx].skipped_locked;
		return;
	}
	run_isolated(w, c->name, call_collector, (void *) c, collector_cxt,
				 deadline, 0, result, &last_failure_log[idx],
				 pgprom_shared ? &pgprom_shared->collector_errors[idx] : NULL);
	if (result->success && c->slow && pgprom_slow_collector_interval_s > 0)
		save_cache(w, &caches[idx], mark, result);
}

/*
 * Run fn in its own subtransaction with a statement timeout of what is
 * left of the scrape budget (and at most cap_ms, when positive).  On
 * failure, whatever fn wrote is rolled back, the error is logged (at most
 * once a minute, through *last_log) and counted, and the render goes on.
 */
static void
run_isolated(PromWriter *w, const char *name, IsolatedFn fn, void *arg,
			 MemoryContext collector_cxt, TimestampTz deadline, long cap_ms,
			 CollectorResult *result, TimestampTz *last_log,
			 pg_atomic_uint64 *error_counter)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	PromMark	mark = expo_mark(w);
	instr_time	t0,
				t1;
	long		remaining_ms;
	TimestampTz timer_end;
	volatile bool armed = false;

	INSTR_TIME_SET_CURRENT(t0);
	memset(result, 0, sizeof(CollectorResult));

	remaining_ms = TimestampDifferenceMilliseconds(GetCurrentTimestamp(),
												   deadline);
	if (remaining_ms <= 0)
	{
		if (error_counter)
			pg_atomic_fetch_add_u64(error_counter, 1);
		log_failure(name, last_log, "skipped: pg_prom.scrape_timeout was used up by earlier collectors");
		return;
	}
	if (cap_ms > 0 && cap_ms < remaining_ms)
		remaining_ms = cap_ms;

	timer_end = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
											Max(remaining_ms, 1));
	current_result = result;
	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(collector_cxt);

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
		MemoryContextSwitchTo(render_cxt);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;
		expo_rollback(w, mark);

		/* A cancel that is not ours belongs to the caller. */
		if (edata->sqlerrcode == ERRCODE_QUERY_CANCELED && !own_timeout)
			ReThrowError(edata);

		if (error_counter)
			pg_atomic_fetch_add_u64(error_counter, 1);
		log_failure(name, last_log, edata->message);
		FreeErrorData(edata);
	}
	PG_END_TRY();

	current_result = NULL;

	/* A timer that fired just as the collector finished must not leak. */
	if (QueryCancelPending && get_timeout_indicator(STATEMENT_TIMEOUT, true))
		QueryCancelPending = false;

	MemoryContextReset(collector_cxt);

	INSTR_TIME_SET_CURRENT(t1);
	INSTR_TIME_SUBTRACT(t1, t0);
	result->seconds = INSTR_TIME_GET_DOUBLE(t1);
}

/*
 * Run the custom queries the custom_queries collector loaded, each on its
 * own (served from its cache within its min_interval).  Returns their
 * outcomes, CustomResult *, in render memory.
 */
static List *
run_custom_queries(PromWriter *w, MemoryContext collector_cxt,
				   TimestampTz deadline)
{
	List	   *results = NIL;
	ListCell   *lc;
	HASH_SEQ_STATUS seq;
	CustomState *st;

	if (custom_states == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = NAMEDATALEN * 2;
		ctl.entrysize = sizeof(CustomState);
		custom_states = hash_create("pg_prom custom queries", 64, &ctl,
									HASH_ELEM | HASH_STRINGS);
	}
	hash_seq_init(&seq, custom_states);
	while ((st = hash_seq_search(&seq)) != NULL)
		st->seen = false;

	foreach(lc, pgprom_custom_queries_loaded())
	{
		CustomQuery *q = lfirst(lc);
		CustomResult *cr = MemoryContextAllocZero(render_cxt, sizeof(CustomResult));
		char		key[NAMEDATALEN * 2];
		bool		found;
		PromMark	mark = expo_mark(w);

		strlcpy(key, q->name, sizeof(key));
		st = hash_search(custom_states, key, HASH_ENTER, &found);
		if (!found)
		{
			memset(&st->cache, 0, sizeof(CollectorCache));
			st->last_log = 0;
			st->definition_hash = 0;
		}
		st->seen = true;
		cr->label = q->label;
		results = lappend(results, cr);

		if (st->definition_hash == q->definition_hash &&
			replay_cached(w, &st->cache, q->min_interval_s))
		{
			cr->result.success = true;
			cr->result.left_out = st->cache.left_out;
			continue;
		}
		run_isolated(w, q->label, pgprom_custom_query_run, q, collector_cxt,
					 deadline, pgprom_custom_query_timeout_ms, &cr->result,
					 &st->last_log, NULL);
		if (cr->result.success && q->min_interval_s > 0)
		{
			save_cache(w, &st->cache, mark, &cr->result);
			st->definition_hash = q->definition_hash;
		}
	}

	/* forget the caches of queries that are gone */
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
	return results;
}

static bool
replay_cached(PromWriter *w, CollectorCache *cache, int interval_s)
{
	if (!cache->valid || interval_s <= 0)
		return false;
	if (strcmp(cache->server_label, pgprom_server_label ? pgprom_server_label : "") != 0)
		return false;			/* the labels changed at a reload */
	if (TimestampDifferenceExceeds(cache->taken, GetCurrentTimestamp(),
								   interval_s * 1000))
		return false;
	return expo_replay(w, cache->text, cache->len, cache->families);
}

static void
save_cache(PromWriter *w, CollectorCache *cache, PromMark mark,
		   CollectorResult *result)
{
	MemoryContext old;
	StringInfo	out;

	if (cache->cxt == NULL)
		cache->cxt = AllocSetContextCreate(TopMemoryContext,
										   "pg_prom collector cache",
										   ALLOCSET_SMALL_SIZES);
	else
		MemoryContextReset(cache->cxt);

	out = expo_output(w);
	old = MemoryContextSwitchTo(cache->cxt);
	cache->len = out->len - mark.out_len;
	cache->text = palloc(cache->len + 1);
	memcpy(cache->text, out->data + mark.out_len, cache->len);
	cache->text[cache->len] = '\0';
	cache->families = expo_families_since(w, mark);
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
									COLLECTOR_LOG_INTERVAL_S * 1000))
		return;
	*last_log = now;
	ereport(LOG,
			(errmsg("pg_prom: collector \"%s\" failed: %s",
					name, message ? message : "unknown error"),
			 errdetail("Its metrics are left out of this scrape; pg_scrape_collector_success{collector=\"%s\"} is 0.",
					   name),
			 errhint("Further failures of this collector are logged at most once every %d seconds.",
					 COLLECTOR_LOG_INTERVAL_S)));
}

typedef enum ResultField
{
	FIELD_SUCCESS,
	FIELD_SECONDS,
	FIELD_LEFT_OUT,
	FIELD_SKIPPED_LOCKED
} ResultField;

static double
field_of(const CollectorResult *r, ResultField field)
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

/* One family with a series per collector and per custom query. */
static void
write_per_collector(PromWriter *w, const char *name, const char *help,
					ResultField field, CollectorResult *results,
					List *custom_results)
{
	ListCell   *lc;
	int			i;

	if (!expo_family(w, name, help, PROM_GAUGE))
		return;
	for (i = 0; i < pgprom_num_collectors; i++)
		if (RENDERED(i))
			expo_value1(w, "collector", pgprom_collectors[i].name,
						field_of(&results[i], field));
	foreach(lc, custom_results)
	{
		CustomResult *cr = lfirst(lc);

		expo_value1(w, "collector", cr->label, field_of(&cr->result, field));
	}
}

/*
 * Families about the scrape itself: per-collector outcome (postgres_exporter's
 * names) and the render's own duration.
 */
static void
write_scrape_families(PromWriter *w, CollectorResult *results,
					  List *custom_results, instr_time started)
{
	instr_time	now;

	write_per_collector(w, "pg_scrape_collector_success",
						"Whether a collector succeeded (1) or failed (0) in this scrape.",
						FIELD_SUCCESS, results, custom_results);
	write_per_collector(w, "pg_scrape_collector_duration_seconds",
						"Time a collector took in this scrape, in seconds.",
						FIELD_SECONDS, results, custom_results);
	write_per_collector(w, "pg_prom_collector_objects_left_out",
						"Objects (tables, ...) a collector left out of this scrape because of a cap such as pg_prom.max_tables.",
						FIELD_LEFT_OUT, results, custom_results);
	write_per_collector(w, "pg_prom_collector_relations_skipped_locked",
						"Relations a collector skipped in this scrape because their lock was not free at once.",
						FIELD_SKIPPED_LOCKED, results, custom_results);

	INSTR_TIME_SET_CURRENT(now);
	INSTR_TIME_SUBTRACT(now, started);
	if (expo_family(w, "pg_prom_scrape_duration_seconds",
					"Time this scrape took to render, in seconds.",
					PROM_GAUGE))
		expo_value(w, INSTR_TIME_GET_DOUBLE(now));
}
