/*-------------------------------------------------------------------------
 *
 * stat_activity.c
 *		pg_stat_activity_count and pg_stat_activity_max_tx_duration, read
 *		from the backend-status array in shared memory.
 *
 * No client connection and no pg_stat_activity query: the local snapshot
 * of the backend-status array (the same copy pg_stat_activity reads) is
 * grouped by postgres_exporter's label set {datname, state, usename,
 * application_name, backend_type, wait_event_type, wait_event}.  As in
 * postgres_exporter, backends without a database or a state are not
 * counted, the caller's own process is left out, and every (database,
 * state) pair without a backend still gets a zero series with empty
 * labels, so dashboards see every database in every state.
 *
 * application_name is chosen by clients, so the number of label sets is
 * capped at MAX_GROUPS; backends beyond it are counted in their (database,
 * state) series with empty user, application, type and wait labels.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "postmaster/bgworker.h"
#include "storage/proc.h"
#include "storage/procarray.h"
#include "utils/backend_status.h"
#include "utils/hsearch.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "compat.h"
#include "scrape/collectors/collectors.h"
#include "scrape/query.h"

#define MAX_GROUPS 1000

/* PGPROC.wait_event_info is written without a lock; read it once. */
#define READ_ONCE_U32(var) ((uint32) (*((volatile uint32 *) &(var))))
#define NUM_STATES 6

static const char *const state_names[NUM_STATES] = {
	"active", "idle", "idle in transaction", "idle in transaction (aborted)",
	"fastpath function call", "disabled"
};

typedef struct ActivityKey
{
	Oid			dboid;
	Oid			userid;
	int			state;			/* index into state_names */
	char		appname[NAMEDATALEN];
	char		backend_type[BGW_MAXLEN];
	char		wait_event_type[32];
	char		wait_event[64];
} ActivityKey;

typedef struct ActivityGroup
{
	ActivityKey key;			/* hash key, zero-padded */
	double		count;
	double		max_tx_seconds;
} ActivityGroup;

static int
state_index(BackendState state)
{
	switch (state)
	{
		case STATE_RUNNING:
			return 0;
		case STATE_IDLE:
			return 1;
		case STATE_IDLEINTRANSACTION:
			return 2;
		case STATE_IDLEINTRANSACTION_ABORTED:
			return 3;
		case STATE_FASTPATH:
			return 4;
		case STATE_DISABLED:
			return 5;
		default:
			return -1;
	}
}

static void
fill_key(ActivityKey *key, PgBackendStatus *be, int state)
{
	PGPROC	   *proc;

	memset(key, 0, sizeof(ActivityKey));
	key->dboid = be->st_databaseid;
	key->userid = be->st_userid;
	key->state = state;
	strlcpy(key->appname, be->st_appname ? be->st_appname : "",
			sizeof(key->appname));

	if (be->st_backendType == B_BG_WORKER)
	{
		const char *bgw_type = GetBackgroundWorkerTypeByPid(be->st_procpid);

		strlcpy(key->backend_type, bgw_type ? bgw_type : "",
				sizeof(key->backend_type));
	}
	else
		strlcpy(key->backend_type, GetBackendTypeDesc(be->st_backendType),
				sizeof(key->backend_type));

	proc = BackendPidGetProc(be->st_procpid);
	if (proc != NULL)
	{
		uint32		info = READ_ONCE_U32(proc->wait_event_info);
		const char *type = pgstat_get_wait_event_type(info);
		const char *event = pgstat_get_wait_event(info);

		strlcpy(key->wait_event_type, type ? type : "",
				sizeof(key->wait_event_type));
		strlcpy(key->wait_event, event ? event : "", sizeof(key->wait_event));
	}
}

static void
write_family(PromWriter *w, HTAB *groups, List *databases, bool counts)
{
	static const char *const names[] = {
		"datname", "state", "usename", "application_name", "backend_type",
		"wait_event_type", "wait_event"
	};
	bool	   *seen = palloc0(sizeof(bool) * NUM_STATES * Max(list_length(databases), 1));
	HASH_SEQ_STATUS seq;
	ActivityGroup *g;
	ListCell   *lc;
	int			s;

	hash_seq_init(&seq, groups);
	while ((g = hash_seq_search(&seq)) != NULL)
	{
		const char *values[7];
		int			d = pgprom_database_index(databases, g->key.dboid);
		char	   *usename;

		if (d < 0)
			continue;
		usename = OidIsValid(g->key.userid) ?
			GetUserNameFromId(g->key.userid, true) : NULL;
		values[0] = ((PromDatabase *) list_nth(databases, d))->name;
		values[1] = state_names[g->key.state];
		values[2] = usename ? usename : "";
		values[3] = g->key.appname;
		values[4] = g->key.backend_type;
		values[5] = g->key.wait_event_type;
		values[6] = g->key.wait_event;
		pgprom_expo_sample(w, NULL, 7, names, values,
						   counts ? g->count : g->max_tx_seconds);

		seen[d * NUM_STATES + g->key.state] = true;
	}

	foreach(lc, databases)
	{
		PromDatabase *db = lfirst(lc);
		int			d = foreach_current_index(lc);

		for (s = 0; s < NUM_STATES; s++)
		{
			const char *values[7] = {db->name, state_names[s], "", "", "", "", ""};

			if (!seen[d * NUM_STATES + s])
				pgprom_expo_sample(w, NULL, 7, names, values, 0);
		}
	}
}

void
pgprom_collect_stat_activity(PromWriter *w)
{
	List	   *databases = pgprom_databases();
	TimestampTz now = GetCurrentTimestamp();
	HASHCTL		ctl;
	HTAB	   *groups;
	int			nbackends;
	int			i;

	ctl.keysize = sizeof(ActivityKey);
	ctl.entrysize = sizeof(ActivityGroup);
	ctl.hcxt = CurrentMemoryContext;
	groups = hash_create("pg_prom activity", 64, &ctl,
						 HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);

	nbackends = pgstat_fetch_stat_numbackends();
	for (i = 1; i <= nbackends; i++)
	{
		LocalPgBackendStatus *local = pgprom_local_beentry(i);
		PgBackendStatus *be;
		ActivityKey key;
		ActivityGroup *g;
		bool		found;
		int			state;

		if (local == NULL)
			continue;
		be = &local->backendStatus;
		if (be->st_procpid == MyProcPid || !OidIsValid(be->st_databaseid))
			continue;
		state = state_index(be->st_state);
		if (state < 0)
			continue;

		fill_key(&key, be, state);
		if (hash_get_num_entries(groups) >= MAX_GROUPS &&
			hash_search(groups, &key, HASH_FIND, NULL) == NULL)
		{
			/* over the cap: fold into the (database, state) series */
			memset(&key, 0, sizeof(key));
			key.dboid = be->st_databaseid;
			key.state = state;
		}
		g = hash_search(groups, &key, HASH_ENTER, &found);
		if (!found)
		{
			g->count = 0;
			g->max_tx_seconds = 0;
		}
		g->count += 1;
		if (be->st_xact_start_timestamp != 0)
		{
			double		age = (double) (now - be->st_xact_start_timestamp) / USECS_PER_SEC;

			if (age > g->max_tx_seconds)
				g->max_tx_seconds = age;
		}
	}

	if (pgprom_expo_family(w, "pg_stat_activity_count",
						   "number of connections in this state", PROM_GAUGE))
		write_family(w, groups, databases, true);
	if (pgprom_expo_family(w, "pg_stat_activity_max_tx_duration",
						   "max duration in seconds any active transaction has been running",
						   PROM_GAUGE))
		write_family(w, groups, databases, false);
}
