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

/* Memory that lives for the whole render (for per-scrape caches). */
extern MemoryContext pgprom_render_context(void);

#endif							/* PG_PROM_RENDER_H */
