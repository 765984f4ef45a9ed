/*-------------------------------------------------------------------------
 *
 * connections.c
 *		Connection-slot pressure from the backend-status array: slots used
 *		against max_connections and the reserved ones, processes by type,
 *		client sessions per database and per user (bounded), the oldest
 *		transaction, the oldest idle-in-transaction session and the
 *		sessions waiting for a lock.
 *
 * Read from shared memory, so these keep coming exactly when
 * max_connections is exhausted and an external exporter cannot log in.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "postmaster/bgworker.h"
#include "postmaster/postmaster.h"
#include "storage/proc.h"
#include "storage/procarray.h"
#include "utils/backend_status.h"
#include "utils/hsearch.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "compat.h"
#include "scrape/collectors/collectors.h"
#include "scrape/query.h"

/* Users with their own series; the rest are summed as "[other]". */
#define MAX_USERS 50

typedef struct CountEntry
{
	char		key[NAMEDATALEN + BGW_MAXLEN];
	double		count;
} CountEntry;

static HTAB *
count_table(const char *name)
{
	HASHCTL		ctl;

	ctl.keysize = NAMEDATALEN + BGW_MAXLEN;
	ctl.entrysize = sizeof(CountEntry);
	ctl.hcxt = CurrentMemoryContext;
	return hash_create(name, 32, &ctl, HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
}

static void
count_key(HTAB *table, const char *key)
{
	char		buf[NAMEDATALEN + BGW_MAXLEN];
	CountEntry *e;
	bool		found;

	strlcpy(buf, key, sizeof(buf));
	e = hash_search(table, buf, HASH_ENTER, &found);
	if (!found)
		e->count = 0;
	e->count += 1;
}

static void
write_counts(PromWriter *w, HTAB *table, const char *label)
{
	HASH_SEQ_STATUS seq;
	CountEntry *e;

	hash_seq_init(&seq, table);
	while ((e = hash_seq_search(&seq)) != NULL)
		pgprom_expo_value1(w, label, e->key, e->count);
}

void
pgprom_collect_connections(PromWriter *w)
{
	List	   *databases = pgprom_databases();
	TimestampTz now = GetCurrentTimestamp();
	HTAB	   *by_type = count_table("pg_prom backends by type");
	HTAB	   *by_user = count_table("pg_prom backends by user");
	double	   *by_db = palloc0(sizeof(double) * Max(list_length(databases), 1));
	double		clients = 0;
	double		oldest_xact = 0;
	double		oldest_idle_xact = 0;
	double		waiting = 0;
	double		other_users = 0;
	int			n = pgstat_fetch_stat_numbackends();
	ListCell   *lc;
	int			i;

	for (i = 1; i <= n; i++)
	{
		LocalPgBackendStatus *local = pgprom_local_beentry(i);
		PgBackendStatus *be;
		PGPROC	   *proc;
		int			d;

		if (local == NULL)
			continue;
		be = &local->backendStatus;

		if (be->st_backendType == B_BG_WORKER)
		{
			const char *t = GetBackgroundWorkerTypeByPid(be->st_procpid);

			count_key(by_type, t ? t : "background worker");
		}
		else
			count_key(by_type, GetBackendTypeDesc(be->st_backendType));

		if (be->st_backendType != B_BACKEND)
			continue;

		/* client sessions: what max_connections counts */
		clients += 1;
		d = pgprom_database_index(databases, be->st_databaseid);
		if (d >= 0)
			by_db[d] += 1;
		{
			char	   *user = OidIsValid(be->st_userid) ?
				GetUserNameFromId(be->st_userid, true) : NULL;

			if (user == NULL)
				user = "";
			if (hash_get_num_entries(by_user) < MAX_USERS ||
				hash_search(by_user, user, HASH_FIND, NULL) != NULL)
				count_key(by_user, user);
			else
				other_users += 1;
		}

		if (be->st_xact_start_timestamp != 0)
			oldest_xact = Max(oldest_xact,
							  (double) (now - be->st_xact_start_timestamp) / USECS_PER_SEC);
		if ((be->st_state == STATE_IDLEINTRANSACTION ||
			 be->st_state == STATE_IDLEINTRANSACTION_ABORTED) &&
			be->st_state_start_timestamp != 0)
			oldest_idle_xact = Max(oldest_idle_xact,
								   (double) (now - be->st_state_start_timestamp) / USECS_PER_SEC);

		proc = BackendPidGetProc(be->st_procpid);
		if (proc != NULL &&
			(((volatile PGPROC *) proc)->wait_event_info & 0xFF000000) == PG_WAIT_LOCK)
			waiting += 1;
	}

	if (pgprom_expo_family(w, "pg_connections_max", "The max_connections setting: client connection slots.", PROM_GAUGE))
		pgprom_expo_value(w, MaxConnections);
	if (pgprom_expo_family(w, "pg_connections_superuser_reserved", "Slots of max_connections reserved for superusers (superuser_reserved_connections).", PROM_GAUGE))
		pgprom_expo_value(w, PGPROM_SUPERUSER_RESERVED);
	if (pgprom_expo_family(w, "pg_connections_used", "Client sessions, the processes that take max_connections slots.", PROM_GAUGE))
		pgprom_expo_value(w, clients);
	if (pgprom_expo_family(w, "pg_connections_available", "Slots left for ordinary roles: max_connections minus superuser_reserved_connections and reserved_connections (16+) minus the sessions (negative when reserved slots are in use).", PROM_GAUGE))
		pgprom_expo_value(w, MaxConnections - PGPROM_SUPERUSER_RESERVED - PGPROM_ROLE_RESERVED - clients);

	if (pgprom_expo_family(w, "pg_backends", "Server processes by type.", PROM_GAUGE))
		write_counts(w, by_type, "backend_type");
	if (pgprom_expo_family(w, "pg_backends_by_database", "Client sessions by database.", PROM_GAUGE))
		foreach(lc, databases)
			pgprom_expo_value1(w, "datname", ((PromDatabase *) lfirst(lc))->name,
							   by_db[foreach_current_index(lc)]);
	if (pgprom_expo_family(w, "pg_backends_by_user", "Client sessions by user; beyond 50 users the rest are summed as [other].", PROM_GAUGE))
	{
		write_counts(w, by_user, "usename");
		if (other_users > 0)
			pgprom_expo_value1(w, "usename", "[other]", other_users);
	}
	if (pgprom_expo_family(w, "pg_oldest_transaction_age_seconds", "Age of the oldest open transaction of a client session, in seconds (0 if none).", PROM_GAUGE))
		pgprom_expo_value(w, oldest_xact);
	if (pgprom_expo_family(w, "pg_oldest_idle_in_transaction_age_seconds", "Time the longest idle-in-transaction client session has been idle, in seconds (0 if none).", PROM_GAUGE))
		pgprom_expo_value(w, oldest_idle_xact);
	if (pgprom_expo_family(w, "pg_backends_waiting_on_lock", "Client sessions waiting for a heavyweight lock.", PROM_GAUGE))
		pgprom_expo_value(w, waiting);
}
