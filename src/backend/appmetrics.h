/*-------------------------------------------------------------------------
 *
 * appmetrics.h
 *		Application metrics recorded from SQL: counters, gauges and
 *		histograms in shared memory.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PG_PROM_APPMETRICS_H
#define PG_PROM_APPMETRICS_H

#include "scrape/expo.h"

/* pg_prom.max_app_series (pg_prom.c) */

extern Size pgprom_app_metrics_shmem_size(void);
extern void pgprom_app_metrics_shmem_request(void);
extern void pgprom_app_metrics_shmem_init(void);

/* The app_metrics collector. */
extern void pgprom_collect_app_metrics(PromWriter *w);

#endif							/* PG_PROM_APPMETRICS_H */
