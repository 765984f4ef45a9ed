/*-------------------------------------------------------------------------
 *
 * render.h
 *		The one renderer behind /metrics and pg_prom_metrics().
 *
 *-------------------------------------------------------------------------
 */
#ifndef PG_PROM_RENDER_H
#define PG_PROM_RENDER_H

#include "lib/stringinfo.h"

/*
 * Render every collector into out.  The caller must be inside a transaction
 * with an active snapshot; the renderer opens its own SPI connection and
 * runs each collector in a subtransaction.
 */
extern void pgprom_render(StringInfo out);

/* The same, for the collectors of mask only (collect[] of a request). */
extern void pgprom_render_subset(StringInfo out, uint64 mask);

/*
 * For collectors that bound their output: how many objects (tables, ...)
 * they left out over a cap, and how many relations they skipped because a
 * lock was not free.  Reported per collector at the end of the scrape.
 */
extern void pgprom_note_left_out(int64 n);
extern void pgprom_note_skipped_locked(int64 n);

/* Memory that lives for the whole render (for per-scrape caches). */
extern MemoryContext pgprom_render_context(void);

#endif							/* PG_PROM_RENDER_H */
