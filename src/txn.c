/*-------------------------------------------------------------------------
 *
 * txn.c
 *		Run a piece of the worker's code in a transaction of its own.
 *
 * The worker lives outside any transaction; a scrape, a round of the
 * per-database scheduler or a role check each open one with an active
 * snapshot, show up in pg_stat_activity while they run, and commit.  An
 * error that escapes them is logged, the transaction aborted and false
 * returned: the worker itself never dies of it.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "pgstat.h"
#include "tcop/tcopprot.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"

#include "txn.h"

bool
pgprom_in_transaction(const char *what, void (*fn) (void *arg), void *arg)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	volatile bool ok = true;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	pgstat_report_activity(STATE_RUNNING, what);
	debug_query_string = what;

	PG_TRY();
	{
		fn(arg);
		PopActiveSnapshot();
		CommitTransactionCommand();
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(oldcxt);
		EmitErrorReport();
		FlushErrorState();
		AbortCurrentTransaction();
		ok = false;
	}
	PG_END_TRY();

	debug_query_string = NULL;
	MemoryContextSwitchTo(oldcxt);
	pgstat_report_stat(false);
	pgstat_report_activity(STATE_IDLE, NULL);
	return ok;
}
