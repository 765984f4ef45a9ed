/*-------------------------------------------------------------------------
 *
 * stream.h
 *		What a render hands on, unit by unit, and the messages that carry
 *		it from one process to another over a shared-memory queue.
 *
 * A render is a sequence of units (collectors, custom queries).  For each
 * one it reports the start, the text the unit wrote (only when it
 * succeeded), the families that text declares, and the outcome.  Where
 * the reader is another process (the endpoint reading the collector, the
 * renderer reading a custom-query worker), every report is a message on a
 * shm_mq, so whatever finished before the writer was stopped has already
 * arrived: the reader can answer with it and say what did not finish.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PG_PROM_STREAM_H
#define PG_PROM_STREAM_H

#include "datatype/timestamp.h"
#include "storage/shm_mq.h"
#include "storage/spin.h"

#include "scrape/expo.h"
#include "scrape/scrape.h"

/* Where a render's units go. */
typedef struct ScrapeSink ScrapeSink;

struct ScrapeSink
{
	/* may_wait: the unit may block (what came before must be visible) */
	void		(*unit_start) (ScrapeSink *sink, const char *label,
							   bool may_wait);
	/* text of a unit that succeeded, with the families it declares */
	void		(*unit_text) (ScrapeSink *sink, const char *text, int len,
							  List *families);
	/* outcome; message is the reason of a failure, or NULL */
	void		(*unit_result) (ScrapeSink *sink, const ScrapeResult *result,
								const char *message);
	/* the render is complete */
	void		(*done) (ScrapeSink *sink);
};

/* Size of the queue between processes. */
#define PGPROM_STREAM_QUEUE_SIZE (1024 * 1024)

/*
 * The channel between the endpoint and the collector: one dynamic shared
 * memory segment the endpoint makes once and keeps, of PGPROM_COLLECT_SLOTS
 * slots used in turn, each this request and then the queue the collector
 * streams a collection's units into.  A slot is written again only after a
 * collection in the other slot ended cleanly (the collector had let go of
 * this one before it began that one); after any other ending the endpoint
 * makes a new segment.
 */
typedef struct CollectRequest
{
	uint64		mask;			/* the collectors to run */
	slock_t		mutex;			/* protects running */
	char		running[PGPROM_LABEL_MAX];	/* the unit started, "" between */
} CollectRequest;

/*
 * A sink writing messages to a queue (the sending side must be attached).
 *
 * With a request (the collector's sink), a unit's start is written to its
 * running field, and the messages go out (wake the reader) only at the
 * end, when a quarter of the queue is waiting, or at the start of a unit
 * that may wait (or that starts PGPROM_STREAM_FLUSH_MS after they last went
 * out): a handful of wake-ups of the endpoint per collection instead of one
 * per unit.  The endpoint names the unit that hung from running.  Only a
 * unit that cannot wait, stuck on a lightweight lock, could take finished
 * units (those since the last flush) with it.  Without a request (a
 * custom-query worker's sink) every start goes out at once.
 */
#define PGPROM_STREAM_FLUSH_MS 10

typedef struct StreamSink
{
	ScrapeSink	sink;
	shm_mq_handle *mqh;
	bool		detached;		/* the reader went away: stop sending */
	CollectRequest *progress;	/* or NULL */
	TimestampTz last_flush;
} StreamSink;

extern void pgprom_stream_sink_init(StreamSink *s, shm_mq_handle *mqh,
									CollectRequest *progress);

/* Kinds of messages. */
typedef enum StreamMsgKind
{
	STREAM_START = 'S',
	STREAM_TEXT = 'T',
	STREAM_FAMILIES = 'F',
	STREAM_RESULT = 'R',
	STREAM_DONE = 'D',
	STREAM_ERROR = 'E'
} StreamMsgKind;

/* One message as read back; pointers point into the received bytes. */
typedef struct StreamMsg
{
	StreamMsgKind kind;
	const char *label;			/* START */
	const char *data;			/* TEXT: text; FAMILIES: encoded list */
	int			len;
	ScrapeResult result;		/* RESULT */
	const char *message;		/* RESULT (may be NULL), ERROR */
} StreamMsg;

/* Decode one received message; false if it is malformed. */
extern bool pgprom_stream_decode(const void *data, Size len, StreamMsg *msg);

/* The families of a FAMILIES message, as pgprom_expo_families_since() lists them. */
extern List *pgprom_stream_families(const StreamMsg *msg);

/* Send a render error (the whole render failed); false if detached. */
extern bool pgprom_stream_send_error(shm_mq_handle *mqh, const char *message);

#define PGPROM_COLLECT_SLOTS 2
#define PGPROM_COLLECT_QUEUE_OFFSET MAXALIGN(sizeof(CollectRequest))
#define PGPROM_COLLECT_SLOT_SIZE \
	MAXALIGN(PGPROM_COLLECT_QUEUE_OFFSET + PGPROM_STREAM_QUEUE_SIZE)

/* The request of slot i of a channel mapped at base. */
#define PGPROM_COLLECT_SLOT(base, i) \
	((CollectRequest *) ((char *) (base) + (Size) (i) * PGPROM_COLLECT_SLOT_SIZE))

#endif							/* PG_PROM_STREAM_H */
