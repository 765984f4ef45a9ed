/*-------------------------------------------------------------------------
 *
 * stream.c
 *		Render units as messages on a shared-memory queue, and back.
 *
 * Message layout: one kind byte, then
 *	START		label, NUL-terminated
 *	TEXT		the bytes of exposition text (a unit's text may take several)
 *	FAMILIES	(type byte, name, NUL) for each family the unit declares
 *	RESULT		success byte, seconds (float8), left_out, skipped_locked
 *				(int64), label NUL, reason NUL (empty: none)
 *	DONE		nothing
 *	ERROR		message, NUL-terminated
 * Both ends are pg_prom's own processes of the same build, so numbers are
 * copied in native byte order.  The reader still checks every length and
 * terminator: a malformed message is refused, never read past its end.
 *
 * Sending blocks while the queue is full (the reader drains it from its
 * event loop) and gives up for good once the reader has detached: the
 * render then runs on without shipping anything.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/timestamp.h"

#include "scrape/stream.h"

/* Largest TEXT message: the reader's buffer per message stays small. */
#define TEXT_CHUNK (256 * 1024)

/*
 * Send one message.  Unless flush, it stays invisible to the reader (and
 * the reader asleep) until a later flushed message, or until a quarter of
 * the queue is waiting (when it is to go out: stream.h).
 */
static bool
send_parts(StreamSink *s, char kind, const void *a, Size alen,
		   const void *b, Size blen, bool flush)
{
	shm_mq_iovec iov[3];
	int			n = 0;
	shm_mq_result r;

	if (s->detached)
		return false;
	iov[n].data = &kind;
	iov[n++].len = 1;
	if (alen > 0)
	{
		iov[n].data = a;
		iov[n++].len = alen;
	}
	if (blen > 0)
	{
		iov[n].data = b;
		iov[n++].len = blen;
	}
	r = shm_mq_sendv(s->mqh, iov, n, false, flush);
	if (r != SHM_MQ_SUCCESS)
		s->detached = true;
	return r == SHM_MQ_SUCCESS;
}

static void
sink_start(ScrapeSink *sink, const char *label, bool may_wait)
{
	StreamSink *s = (StreamSink *) sink;
	bool		flush = true;

	if (s->progress)
	{
		TimestampTz now = GetCurrentTimestamp();

		SpinLockAcquire(&s->progress->mutex);
		strlcpy(s->progress->running, label, sizeof(s->progress->running));
		SpinLockRelease(&s->progress->mutex);
		flush = may_wait ||
			now >= TimestampTzPlusMilliseconds(s->last_flush,
											   PGPROM_STREAM_FLUSH_MS);
		if (flush)
			s->last_flush = now;
	}
	(void) send_parts(s, STREAM_START, label, strlen(label) + 1, NULL, 0,
					  flush);
}

static void
sink_text(ScrapeSink *sink, const char *text, int len, List *families)
{
	StreamSink *s = (StreamSink *) sink;
	ListCell   *lc;
	StringInfoData buf;
	int			off;

	if (families != NIL)
	{
		initStringInfo(&buf);
		foreach(lc, families)
		{
			PromFamilyRef *ref = lfirst(lc);

			appendStringInfoChar(&buf, (char) ref->type);
			appendStringInfoString(&buf, ref->name);
			appendStringInfoChar(&buf, '\0');
		}
		(void) send_parts(s, STREAM_FAMILIES, buf.data, buf.len, NULL, 0,
						  false);
		pfree(buf.data);
	}
	for (off = 0; off < len; off += TEXT_CHUNK)
		if (!send_parts(s, STREAM_TEXT, text +off, Min(TEXT_CHUNK, len - off),
						NULL, 0, false))
			return;
}

/* The fixed part of a RESULT message. */
typedef struct ResultWire
{
	double		seconds;
	int64		left_out;
	int64		skipped_locked;
	char		success;
} ResultWire;

static void
sink_result(ScrapeSink *sink, const ScrapeResult *result, const char *message)
{
	StreamSink *s = (StreamSink *) sink;
	ResultWire	wire;
	StringInfoData tail;

	if (s->progress)
	{
		SpinLockAcquire(&s->progress->mutex);
		s->progress->running[0] = '\0';
		SpinLockRelease(&s->progress->mutex);
	}
	memset(&wire, 0, sizeof(wire));
	wire.seconds = result->seconds;
	wire.left_out = result->left_out;
	wire.skipped_locked = result->skipped_locked;
	wire.success = result->success ? 1 : 0;
	initStringInfo(&tail);
	appendStringInfoString(&tail, result->label);
	appendStringInfoChar(&tail, '\0');
	if (message)
		appendBinaryStringInfo(&tail, message, Min(strlen(message), 1000));
	appendStringInfoChar(&tail, '\0');
	(void) send_parts(s, STREAM_RESULT, &wire, sizeof(wire),
					  tail.data, tail.len, false);
	pfree(tail.data);
}

static void
sink_done(ScrapeSink *sink)
{
	(void) send_parts((StreamSink *) sink, STREAM_DONE, NULL, 0, NULL, 0, true);
}

void
pgprom_stream_sink_init(StreamSink *s, shm_mq_handle *mqh,
						CollectRequest *progress)
{
	s->sink.unit_start = sink_start;
	s->sink.unit_text = sink_text;
	s->sink.unit_result = sink_result;
	s->sink.done = sink_done;
	s->mqh = mqh;
	s->detached = false;
	s->progress = progress;
	s->last_flush = progress ? GetCurrentTimestamp() : 0;
}

bool
pgprom_stream_send_error(shm_mq_handle *mqh, const char *message)
{
	StreamSink	s;

	pgprom_stream_sink_init(&s, mqh, NULL);
	return send_parts(&s, STREAM_ERROR, message, strlen(message) + 1, NULL, 0,
					  true);
}

/* A NUL-terminated string inside [p, end), or NULL. */
static const char *
string_at(const char *p, const char *end)
{
	if (p >= end || memchr(p, '\0', end - p) == NULL)
		return NULL;
	return p;
}

bool
pgprom_stream_decode(const void *data, Size len, StreamMsg *msg)
{
	const char *p = data;
	const char *end = p + len;

	memset(msg, 0, sizeof(StreamMsg));
	if (len < 1)
		return false;
	msg->kind = (StreamMsgKind) p[0];
	p++;
	switch (msg->kind)
	{
		case STREAM_START:
			msg->label = string_at(p, end);
			return msg->label != NULL &&
				strlen(msg->label) < PGPROM_LABEL_MAX;
		case STREAM_TEXT:
		case STREAM_FAMILIES:
			msg->data = p;
			msg->len = (int) (end - p);
			return true;
		case STREAM_RESULT:
			{
				ResultWire	wire;
				const char *label;

				if (end - p < (ptrdiff_t) sizeof(ResultWire))
					return false;
				memcpy(&wire, p, sizeof(wire));
				p += sizeof(wire);
				label = string_at(p, end);
				if (label == NULL || strlen(label) >= PGPROM_LABEL_MAX)
					return false;
				p += strlen(label) + 1;
				msg->message = string_at(p, end);
				if (msg->message == NULL)
					return false;
				if (msg->message[0] == '\0')
					msg->message = NULL;
				strlcpy(msg->result.label, label, PGPROM_LABEL_MAX);
				msg->result.success = wire.success != 0;
				msg->result.seconds = wire.seconds;
				msg->result.left_out = wire.left_out;
				msg->result.skipped_locked = wire.skipped_locked;
				return true;
			}
		case STREAM_DONE:
			return true;
		case STREAM_ERROR:
			msg->message = string_at(p, end);
			return msg->message != NULL;
	}
	return false;
}

List *
pgprom_stream_families(const StreamMsg *msg)
{
	const char *p = msg->data;
	const char *end = p + msg->len;
	List	   *result = NIL;

	while (p < end)
	{
		PromType	type = (PromType) (unsigned char) *p++;
		const char *name = string_at(p, end);

		if (name == NULL || type > PROM_HISTOGRAM)
			return NIL;
		result = lappend(result, pgprom_expo_family_ref(type, name));
		p += strlen(name) + 1;
	}
	return result;
}
