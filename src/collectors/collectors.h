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

#include "../expo.h"

typedef struct PromCollector
{
	const char *name;			/* label value of pg_scrape_collector_* */
	void		(*collect) (PromWriter *w);
	bool		slow;			/* refreshed every slow_collector_interval */
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
extern void pgprom_collect_self(PromWriter *w);

#endif							/* PG_PROM_COLLECTORS_H */
