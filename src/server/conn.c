/*-------------------------------------------------------------------------
 *
 * conn.c
 *		The endpoint's client connections: read, parse, answer, close.
 *
 * A connection goes READING -> WRITING -> (READING again when kept alive)
 * and ends in DRAINING when the server closes it: the write side is shut
 * down and unread input is discarded for a moment, so the client receives
 * the response instead of a reset.  A request for the metrics goes
 * READING -> WAITING until its collection is done (collect.c), then
 * WRITING; while it waits, only the client shutting its side is watched.
 * A client that shuts its side after sending requests (shutdown(SHUT_WR))
 * still gets every response: the requests already received are answered
 * in order, then the connection closes.
 *
 * Every socket is non-blocking and every state has a deadline, so a
 * client that sends slowly, stops reading or goes away costs a slot until
 * its deadline and never stalls the loop or other clients.  Pipelined
 * requests are answered in order: input that arrives while a response is
 * written waits in the buffer and is parsed once the response is sent.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "storage/fd.h"
#include "storage/latch.h"
#include "utils/timestamp.h"

#include "guc.h"
#include "server/conn.h"
#include "server/tls.h"
#include "shmem.h"

/* How long the server discards input after closing its side. */
#define DRAIN_MS 1000
/* Longest wait for a collection, past pg_prom.scrape_timeout twice. */
#define WAIT_GRACE_MS 3000

Conn	  **pgprom_conns = NULL;
int			pgprom_nconns = 0;
bool		pgprom_conns_changed = true;

static MemoryContext conns_cxt = NULL;
static int	conns_capacity = 0;

static void conn_read(Conn *c);
static void conn_handshake(Conn *c);
static void conn_process_input(Conn *c);
static void conn_write(Conn *c);
static void conn_respond_error(Conn *c, int status);
static void conn_send(Conn *c, int status, bool close_after);
static void peer_address(const struct sockaddr_storage *peer, char *buf, size_t size);

int
pgprom_conns_capacity(void)
{
	return conns_capacity;
}

bool
pgprom_conn_evictable(const Conn *c)
{
	return c->state == CONN_READING || c->state == CONN_DRAINING;
}

/*
 * Room for more input: the buffer starts small (most requests are a few
 * hundred bytes, and an idle connection should cost little) and grows up
 * to HTTP_MAX_REQUEST.  False when it is full.
 */
static bool
input_room(Conn *c)
{
	size_t		newcap;

	if (c->in_len < c->in_cap)
		return true;
	if (c->in_cap >= HTTP_MAX_REQUEST)
		return false;
	newcap = c->in_cap == 0 ? 1024 : Min(c->in_cap * 2, HTTP_MAX_REQUEST);
	if (c->in == NULL)
		c->in = MemoryContextAlloc(conns_cxt, newcap + 1);
	else
		c->in = repalloc(c->in, newcap + 1);
	c->in_cap = newcap;
	return true;
}

void
pgprom_conns_init(MemoryContext cxt, int capacity)
{
	conns_cxt = cxt;
	conns_capacity = capacity;
	pgprom_conns = MemoryContextAllocZero(cxt, sizeof(Conn *) * capacity);
	pgprom_nconns = 0;
}

/* A new connection (the caller checked the capacity). */
Conn *
pgprom_conn_add(pgsocket sock, const struct sockaddr_storage *peer, void *tls)
{
	Conn	   *c;

	Assert(pgprom_nconns < conns_capacity);
	c = MemoryContextAllocZero(conns_cxt, sizeof(Conn));
	c->cxt = AllocSetContextCreate(conns_cxt, "pg_prom connection",
								   ALLOCSET_SMALL_SIZES);
	c->sock = sock;
	c->state = CONN_READING;
	c->since = GetCurrentTimestamp();
	c->deadline = TimestampTzPlusMilliseconds(c->since, pgprom_request_timeout_ms);
	c->peer = *peer;
	c->tls = tls;
	c->pos = -1;				/* the endpoint adds it to its wait set */
	peer_address(peer, c->client, sizeof(c->client));
	pgprom_conns[pgprom_nconns++] = c;
	return c;
}

/* The text form of a peer address. */
static void
peer_address(const struct sockaddr_storage *peer, char *buf, size_t size)
{
	const void *addr = NULL;

	if (peer->ss_family == AF_INET)
		addr = &((const struct sockaddr_in *) peer)->sin_addr;
	else if (peer->ss_family == AF_INET6)
		addr = &((const struct sockaddr_in6 *) peer)->sin6_addr;
	if (addr == NULL || inet_ntop(peer->ss_family, addr, buf, size) == NULL)
		strlcpy(buf, "unknown", size);
}

uint32
pgprom_conn_events(const Conn *c)
{
	if (c->want)
		return c->want;
	switch (c->state)
	{
		case CONN_WAITING:
			return c->peer_closed ? 0 : WL_SOCKET_CLOSED;
		case CONN_WRITING:
			return WL_SOCKET_WRITEABLE;
		case CONN_READING:
			/* after the client shut its side, only what it sent is left */
			return c->peer_closed ? 0 : WL_SOCKET_READABLE;
		default:
			return WL_SOCKET_READABLE;
	}
}

/* A socket event of the connection. */
void
pgprom_conn_event(Conn *c, uint32 events)
{
	if (c->state == CONN_CLOSED)
		return;
	if (c->state == CONN_WAITING)
	{
		/*
		 * The client shut its side (or went away: the write will tell). Its
		 * request is answered all the same; nothing more is watched.
		 */
		if (events & WL_SOCKET_CLOSED)
			c->peer_closed = true;
		return;
	}
	if (c->tls && !c->handshaken && c->state == CONN_READING)
		conn_handshake(c);
	else if (c->state == CONN_WRITING)
		conn_write(c);
	else
		conn_read(c);
}

/* Advance the TLS handshake; once done, read what may already be there. */
static void
conn_handshake(Conn *c)
{
	uint32		want = 0;
	int			rc = pgprom_tls_handshake(c->tls, &want);

	if (rc == TLS_IO_BLOCKED)
	{
		c->want = want;
		return;
	}
	if (rc != 1)
	{
		pgprom_conn_close(c);	/* plain HTTP on a TLS port, a bad
								 * certificate... */
		return;
	}
	c->handshaken = true;
	c->want = 0;
	conn_read(c);
}

static void
conn_read(Conn *c)
{
	for (;;)
	{
		ssize_t		n;

		if (c->state == CONN_DRAINING)
		{
			char		discard[4096];

			n = recv(c->sock, discard, sizeof(discard), 0);
		}
		else
		{
			if (!input_room(c))
			{
				conn_respond_error(c, 431);
				return;
			}
			if (c->tls)
			{
				uint32		want = 0;
				int			rc = pgprom_tls_recv(c->tls, c->in + c->in_len,
												 c->in_cap - c->in_len, &want);

				if (rc == TLS_IO_BLOCKED)
				{
					c->want = (want == WL_SOCKET_READABLE) ? 0 : want;
					return;
				}
				if (rc == TLS_IO_ERROR)
				{
					pgprom_conn_close(c);
					return;
				}
				c->want = 0;
				n = rc;
			}
			else
				n = recv(c->sock, c->in + c->in_len, c->in_cap - c->in_len, 0);
		}

		if (n > 0)
		{
			if (c->state == CONN_DRAINING)
				continue;
			if (c->in_len == 0)
			{
				c->since = GetCurrentTimestamp();
				c->deadline = TimestampTzPlusMilliseconds(c->since,
														  pgprom_request_timeout_ms);
			}
			c->in_len += n;
			conn_process_input(c);
			if (c->state != CONN_READING)
				return;
			continue;
		}
		if (n == 0)
		{
			/*
			 * The client shut its side.  Requests it sent before are
			 * answered; a request it left incomplete never will be.
			 */
			c->peer_closed = true;
			if (c->state == CONN_READING && c->in_len > 0)
				c->pending = true;	/* pgprom_conn_process_pending() */
			else
				pgprom_conn_close(c);
			return;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			pgprom_conn_close(c);
		return;
	}
}

/* Parse what has been received; answer a complete request. */
static void
conn_process_input(Conn *c)
{
	HttpRequest req;
	size_t		consumed;
	int			status;
	HttpParseResult r;
	bool		keep_alive;
	MemoryContext old;

	if (c->in == NULL)
		return;
	c->in[c->in_len] = '\0';
	r = pgprom_http_parse_request(c->in, c->in_len, &req, &consumed, &status);
	if (r == HTTP_PARSE_INCOMPLETE)
	{
		if (c->in_len >= HTTP_MAX_REQUEST)
			conn_respond_error(c, 431);
		return;
	}
	if (r == HTTP_PARSE_ERROR)
	{
		conn_respond_error(c, status);
		return;
	}

	memmove(c->in, c->in + consumed, c->in_len - consumed);
	c->in_len -= consumed;

	keep_alive = req.keep_alive;
	old = MemoryContextSwitchTo(c->cxt);
	initStringInfo(&c->out);
	status = pgprom_respond(&req, c->client, &c->out, &keep_alive, &c->metrics);
	MemoryContextSwitchTo(old);
	if (status != 0)
	{
		conn_send(c, status, !keep_alive);
		return;
	}

	/* the metrics: wait for a collection (one may be ready already) */
	c->metrics.keep_alive = keep_alive;
	c->collection = pgprom_collection_get(c->metrics.mask);
	c->state = CONN_WAITING;
	c->deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
											  2 * pgprom_scrape_timeout_ms + WAIT_GRACE_MS);
	if (pgprom_collection_done(c->collection))
		pgprom_conn_collection_done(c);
}

/* The collection this connection waits for is done: answer. */
void
pgprom_conn_collection_done(Conn *c)
{
	MemoryContext old;
	int			status;

	if (c->state != CONN_WAITING)
		return;
	old = MemoryContextSwitchTo(c->cxt);
	status = pgprom_respond_metrics(&c->metrics, c->collection, &c->out,
									&c->body, &c->body_len);
	MemoryContextSwitchTo(old);
	/* a client that shut its side sends no more requests after the ones read */
	conn_send(c, status, !c->metrics.keep_alive || (c->peer_closed && c->in_len == 0));
}

static void
conn_respond_error(Conn *c, int status)
{
	MemoryContext old = MemoryContextSwitchTo(c->cxt);

	initStringInfo(&c->out);
	pgprom_respond_error(status, &c->out, false);
	MemoryContextSwitchTo(old);
	c->in_len = 0;				/* what follows a bad request is not read */
	conn_send(c, status, true);
}

/* Start sending the response built in c->out (and c->body). */
static void
conn_send(Conn *c, int status, bool close_after)
{
	pgprom_count_http_status(status);
	c->out_off = 0;
	c->body_off = 0;
	c->close_after = close_after;
	c->state = CONN_WRITING;
	c->deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
											  pgprom_request_timeout_ms);
	conn_write(c);
}

/*
 * Send buf[*off..len); false when the connection is done for.  more: more
 * follows at once (plain TCP: held back to share a segment with it).
 */
static bool
send_some(Conn *c, const char *buf, size_t len, size_t *off, bool more)
{
	while (*off < len)
	{
		ssize_t		n;

		if (c->tls)
		{
			uint32		want = 0;
			int			rc = pgprom_tls_send(c->tls, buf + *off,
											 (int) Min(len - *off, 1024 * 1024), &want);

			if (rc == TLS_IO_BLOCKED)
			{
				c->want = (want == WL_SOCKET_WRITEABLE) ? 0 : want;
				return true;
			}
			if (rc <= 0)
			{
				pgprom_conn_close(c);
				return false;
			}
			c->want = 0;
			*off += rc;
			continue;
		}
		/* the head goes out in one segment with the body that follows */
		n = send(c->sock, buf + *off, len - *off,
				 MSG_NOSIGNAL | (more ? MSG_MORE : 0));
		if (n > 0)
		{
			*off += n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return true;		/* wait for WRITEABLE */
		pgprom_conn_close(c);
		return false;
	}
	return true;
}

/*
 * Plain TCP, head and body both pending: send them with one system call
 * (what is left goes out through send_some); false when the connection is
 * done for.
 */
static bool
send_head_and_body(Conn *c)
{
	struct iovec iov[2];
	struct msghdr msg;
	ssize_t		n;
	size_t		head_left = c->out.len - c->out_off;

	memset(&msg, 0, sizeof(msg));
	iov[0].iov_base = c->out.data + c->out_off;
	iov[0].iov_len = head_left;
	iov[1].iov_base = (char *) c->body + c->body_off;
	iov[1].iov_len = c->body_len - c->body_off;
	msg.msg_iov = iov;
	msg.msg_iovlen = 2;
	do
		n = sendmsg(c->sock, &msg, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
	{
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return true;		/* wait for WRITEABLE */
		pgprom_conn_close(c);
		return false;
	}
	if ((size_t) n <= head_left)
		c->out_off += n;
	else
	{
		c->out_off = c->out.len;
		c->body_off += n - head_left;
	}
	return true;
}

static void
conn_write(Conn *c)
{
	if (!c->tls && c->body != NULL && c->body_len > c->body_off &&
		c->out_off < (size_t) c->out.len && !send_head_and_body(c))
		return;
	if (!send_some(c, c->out.data, c->out.len, &c->out_off,
				   c->body != NULL && c->body_len > 0))
		return;
	if (c->out_off < (size_t) c->out.len)
		return;
	if (c->body && !send_some(c, c->body, c->body_len, &c->body_off, false))
		return;
	if (c->body && c->body_off < c->body_len)
		return;

	/* response sent */
	MemoryContextReset(c->cxt);
	c->out.data = NULL;
	c->out.len = 0;
	c->out_off = 0;
	c->body = NULL;
	c->body_len = 0;
	if (c->collection)
	{
		pgprom_collection_release(c->collection);
		c->collection = NULL;
	}

	if (c->peer_closed && c->in_len == 0)
	{
		pgprom_conn_close(c);	/* every request the client sent is answered */
		return;
	}
	if (c->close_after)
	{
		if (c->tls)
			pgprom_tls_shutdown(c->tls);
		c->want = 0;
		shutdown(c->sock, SHUT_WR);
		c->state = CONN_DRAINING;
		c->deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), DRAIN_MS);
		return;
	}

	c->state = CONN_READING;
	c->since = GetCurrentTimestamp();
	c->deadline = TimestampTzPlusMilliseconds(c->since,
											  c->in_len > 0 ? pgprom_request_timeout_ms : pgprom_idle_timeout_ms);
	/* a pipelined request may already be complete: parse it next round */
	c->pending = (c->in_len > 0);
}

void
pgprom_conn_process_pending(Conn *c)
{
	if (c->pending && c->state == CONN_READING)
	{
		c->pending = false;
		conn_process_input(c);
		/* a request the client left incomplete before shutting its side */
		if (c->peer_closed && c->state == CONN_READING && !c->pending)
			pgprom_conn_close(c);
	}
}

/*
 * Close the socket now; the memory stays until pgprom_conns_reap(), so
 * callers up the stack may still look at c->state.
 */
void
pgprom_conn_close(Conn *c)
{
	if (c->state == CONN_CLOSED)
		return;
	if (c->tls)
	{
		pgprom_tls_close(c->tls);
		c->tls = NULL;
	}
	close(c->sock);
	ReleaseExternalFD();
	if (c->collection)
	{
		pgprom_collection_release(c->collection);
		c->collection = NULL;
	}
	/* closing took the socket out of the wait set: its slot stays unused */
	c->state = CONN_CLOSED;
}

void
pgprom_conns_reap(void)
{
	int			i = 0;

	while (i < pgprom_nconns)
	{
		Conn	   *c = pgprom_conns[i];

		if (c->state != CONN_CLOSED)
		{
			i++;
			continue;
		}
		pgprom_conns[i] = pgprom_conns[--pgprom_nconns];
		MemoryContextDelete(c->cxt);
		if (c->in)
			pfree(c->in);
		pfree(c);
	}
}

/*
 * Past its deadline: a partial request gets 408, a request still waiting
 * for its collection 503, an idle keep-alive connection or a client that
 * does not read is closed.
 */
void
pgprom_conn_expire(Conn *c, TimestampTz now)
{
	if (c->state == CONN_CLOSED || c->deadline > now)
		return;
	if (c->state == CONN_READING && c->in_len > 0)
		conn_respond_error(c, 408);
	else if (c->state == CONN_WAITING)
	{
		pgprom_collection_release(c->collection);
		c->collection = NULL;
		conn_respond_error(c, 503);
	}
	else
		pgprom_conn_close(c);
}
