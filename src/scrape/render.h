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

#include "scrape/expo.h"
#include "scrape/stream.h"

/*
 * Render the collectors of mask (pg_prom_collector_mask or a collect[]
 * subset).  The caller must be inside a transaction with an active
 * snapshot; the renderer opens its own SPI connection and runs each unit
 * in a subtransaction.
 *
 * With sink NULL, the whole exposition, the scrape's own families
 * included, is left in out (the SQL door).  With a sink, each unit's text
 * and outcome go to the sink as the unit ends, out is only scratch, and
 * the reader writes the scrape's own families (the endpoint).
 */
extern void pgprom_render(StringInfo out, uint64 mask, ScrapeSink *sink);

/*
 * The scrape's own families (per-unit success, duration, objects left out
 * and relations skipped, and the scrape's duration) from the units'
 * outcomes: ScrapeResult *, in unit order.  Used by both doors.
 */
extern void pgprom_write_scrape_families(PromWriter *w, List *results,
										 double seconds);

/* Reserve those families' names in a writer before any unit runs. */
extern void pgprom_reserve_scrape_families(PromWriter *w);

#endif							/* PG_PROM_RENDER_H */
