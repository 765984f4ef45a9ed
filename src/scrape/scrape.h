/*-------------------------------------------------------------------------
 *
 * scrape.h
 *		The current scrape: its memory, the outcome of each unit (a
 *		collector or a custom query) and the clean-up of modules that keep
 *		per-scrape state.
 *
 * A scrape begins and ends in the process that renders (the collector
 * worker, or the backend of a pg_prom_metrics() caller).  Helpers note what
 * they left out or skipped against the unit that is running; modules that
 * cache something for one scrape register a reset callback on the scrape's
 * memory, so the renderer never calls them to forget.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PG_PROM_SCRAPE_H
#define PG_PROM_SCRAPE_H

#include "nodes/pg_list.h"
#include "utils/memutils.h"

/* Longest unit label: "custom:" plus a metric name prefix. */
#define PGPROM_LABEL_MAX 128

/* Outcome of one unit of a scrape. */
typedef struct ScrapeResult
{
	char		label[PGPROM_LABEL_MAX];	/* collector name or
											 * "custom:<name>" */
	bool		success;
	double		seconds;
	int64		left_out;		/* objects left out over a cap */
	int64		skipped_locked; /* relations skipped: lock not free */
} ScrapeResult;

/* Begin a scrape in memory under parent; returns the scrape's context. */
extern MemoryContext pgprom_scrape_begin(MemoryContext parent);
extern void pgprom_scrape_end(void);
extern bool pgprom_scrape_active(void);

/* Memory that lives for the whole scrape; reset callbacks may hang on it. */
extern MemoryContext pgprom_scrape_context(void);
extern void pgprom_scrape_on_end(MemoryContextCallbackFunction fn);

/* The unit that runs now receives the notes below (NULL: none). */
extern void pgprom_scrape_set_unit(ScrapeResult *result);

/*
 * For helpers that bound their output: objects (tables, rows, ...) left out
 * over a cap, relations skipped because a lock was not free at once.
 */
extern void pgprom_note_left_out(int64 n);
extern void pgprom_note_skipped_locked(int64 n);

#endif							/* PG_PROM_SCRAPE_H */
