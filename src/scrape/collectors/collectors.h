/*-------------------------------------------------------------------------
 *
 * collectors.h
 *		The collector table: each collector writes its own families.
 *
 * Adding a collector means adding its file and one line in collectors.c.
 * A collector may ereport(ERROR) freely: the renderer runs it in a
 * subtransaction under a statement and lock timeout, and on failure drops
 * exactly what it wrote.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PG_PROM_COLLECTORS_H
#define PG_PROM_COLLECTORS_H

#include "guc.h"
#include "scrape/expo.h"
#include "scrape/scrape.h"

typedef struct PromCollector
{
	const char *name;			/* label value of pg_scrape_collector_* */
	void		(*collect) (PromWriter *w); /* NULL: the custom queries */
	bool		slow;			/* refreshed every slow_collector_interval */
	bool		default_on;		/* in pg_prom.collectors' "default" set */
	bool		may_wait;		/* runs SQL, reads files or waits for a
								 * process (collectors.c) */
} PromCollector;

extern const PromCollector pgprom_collectors[];
extern const int pgprom_num_collectors;


extern void pgprom_collect_static(PromWriter *w);
extern void pgprom_collect_postmaster(PromWriter *w);
extern void pgprom_collect_database(PromWriter *w);
extern void pgprom_collect_stat_database(PromWriter *w);
extern void pgprom_collect_stat_activity(PromWriter *w);
extern void pgprom_collect_locks(PromWriter *w);
extern void pgprom_collect_settings(PromWriter *w);
extern void pgprom_collect_stat_bgwriter(PromWriter *w);
extern void pgprom_collect_stat_archiver(PromWriter *w);
extern void pgprom_collect_stat_wal(PromWriter *w);
extern void pgprom_collect_stat_io(PromWriter *w);
extern void pgprom_collect_stat_lock(PromWriter *w);
extern void pgprom_collect_process(PromWriter *w);
extern void pgprom_collect_self(PromWriter *w);
extern void pgprom_collect_replication(PromWriter *w);
extern void pgprom_collect_replication_slots(PromWriter *w);
extern void pgprom_collect_stat_replication(PromWriter *w);
extern void pgprom_collect_subscription(PromWriter *w);
extern void pgprom_collect_stat_recovery(PromWriter *w);
extern void pgprom_collect_roles(PromWriter *w);
extern void pgprom_collect_wal(PromWriter *w);
extern void pgprom_collect_stat_progress_vacuum(PromWriter *w);
extern void pgprom_collect_stat_user_tables(PromWriter *w);
extern void pgprom_collect_stat_user_indexes(PromWriter *w);
extern void pgprom_collect_statio_user_tables(PromWriter *w);
extern void pgprom_collect_table_sizes(PromWriter *w);
extern void pgprom_collect_long_running_transactions(PromWriter *w);
extern void pgprom_collect_autovacuum_scores(PromWriter *w);
extern void pgprom_collect_database_wraparound(PromWriter *w);
extern void pgprom_collect_statio_user_indexes(PromWriter *w);
extern void pgprom_collect_stat_wal_receiver(PromWriter *w);
extern void pgprom_collect_xlog_location(PromWriter *w);
extern void pgprom_collect_stat_statements(PromWriter *w);
extern void pgprom_collect_stat_checkpointer(PromWriter *w);
extern void pgprom_collect_process_idle(PromWriter *w);
extern void pgprom_collect_buffercache_summary(PromWriter *w);
extern void pgprom_collect_statements(PromWriter *w);
extern void pgprom_collect_errors(PromWriter *w);
extern void pgprom_collect_auth(PromWriter *w);
extern void pgprom_collect_connections(PromWriter *w);
extern void pgprom_collect_app_metrics(PromWriter *w);

#endif							/* PG_PROM_COLLECTORS_H */
