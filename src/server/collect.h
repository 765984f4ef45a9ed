/*-------------------------------------------------------------------------
 *
 * collect.h
 *		The endpoint's side of collections: asking the collector worker for
 *		one, reading it back, and sharing it between the clients that wait.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PG_PROM_COLLECT_H
#define PG_PROM_COLLECT_H

/* One collection (a render of some collectors), shared by its clients. */
typedef struct Collection Collection;

/*
 * A collection of mask for one more client: the one running or queued for
 * the same mask, a recent one within pg_prom.min_scrape_interval, or a new
 * one queued.  The caller holds a reference until it has sent the body.
 */
extern Collection *pgprom_collection_get(uint64 mask);
extern void pgprom_collection_release(Collection *c);
extern bool pgprom_collection_done(const Collection *c);

/*
 * The body of a finished collection in one format (made once, shared by
 * every client asking for it).  False when there is none to send, with
 * the status (500, 503) and the reason for the client.
 */
extern bool pgprom_collection_body(Collection *c, bool openmetrics,
								   bool protobuf, bool gzip,
								   const char **body, size_t *len,
								   bool *gzipped, int *status,
								   const char **why);

/*
 * Drive collections: start the collector and the next queued collection,
 * read what arrived, stop one past its time.  Returns true when a
 * collection finished (its waiting clients can be answered).  Never blocks.
 */
extern bool pgprom_collect_poll(void);

/* Milliseconds until pgprom_collect_poll must run again, or -1. */
extern long pgprom_collect_wakeup_ms(void);

/* The collector worker is connected and can collect (/ready). */
extern bool pgprom_collector_ready(void);

/* Stop the collector worker (the endpoint is exiting). */
extern void pgprom_collect_shutdown(void);

#endif							/* PG_PROM_COLLECT_H */
