/*-------------------------------------------------------------------------
 *
 * conn.h
 *		One client connection of the endpoint: its state machine.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PG_PROM_CONN_H
#define PG_PROM_CONN_H

#include <sys/socket.h>

#include "datatype/timestamp.h"
#include "lib/stringinfo.h"
#include "utils/memutils.h"

#include "server/collect.h"
#include "server/http.h"
#include "server/routes.h"

typedef enum ConnState
{
	CONN_READING,				/* waiting for (the rest of) a request */
	CONN_WAITING,				/* the request waits for its collection */
	CONN_WRITING,				/* sending a response */
	CONN_DRAINING,				/* write side shut, discarding input */
	CONN_CLOSED					/* socket closed, memory freed by reap */
} ConnState;

/* One client connection. */
typedef struct Conn
{
	pgsocket	sock;
	ConnState	state;
	TimestampTz deadline;
	TimestampTz since;			/* accepted, or the last request began */
	bool		close_after;	/* close once the response is sent */
	bool		peer_closed;	/* the client shut its side while waiting */
	bool		pending;		/* pipelined input waits to be parsed */
	struct sockaddr_storage peer;
	char		client[64];		/* the peer's address, for logs */
	void	   *tls;			/* the TLS session, or NULL for plain HTTP */
	bool		handshaken;		/* the TLS handshake is done */
	uint32		want;			/* TLS waits for this event; 0: by state */
	int			pos;			/* position in the wait set, -1: none */
	uint32		watching;		/* the events the wait set has for it */
	MemoryContext cxt;			/* the response only; reset per request */
	StringInfoData out;			/* status line and headers, or all of it */
	size_t		out_off;
	const char *body;			/* then this, from the collection */
	size_t		body_len;
	size_t		body_off;
	Collection *collection;		/* referenced while waiting or sending */
	MetricsRequest metrics;		/* the request that waits */
	size_t		in_len;
	size_t		in_cap;			/* grows up to HTTP_MAX_REQUEST */
	char	   *in;				/* input, NUL-terminated; NULL until used */
} Conn;

/* The open connections (CONN_CLOSED ones until reaped). */
extern Conn **pgprom_conns;
extern int	pgprom_nconns;

/* A connection was added or removed: the wait set must be built again. */
extern bool pgprom_conns_changed;

extern void pgprom_conns_init(MemoryContext cxt, int capacity);
extern int	pgprom_conns_capacity(void);
extern Conn *pgprom_conn_add(pgsocket sock, const struct sockaddr_storage *peer,
							 void *tls);
extern void pgprom_conn_event(Conn *c, uint32 events);
extern void pgprom_conn_collection_done(Conn *c);
extern void pgprom_conn_process_pending(Conn *c);
extern void pgprom_conn_expire(Conn *c, TimestampTz now);
extern void pgprom_conn_close(Conn *c);
extern void pgprom_conns_reap(void);

/* The socket events the connection waits for now. */
extern uint32 pgprom_conn_events(const Conn *c);

/*
 * Whether the connection only waits for a request (a partial one, or none
 * on a kept-alive connection): such connections give way to new ones when
 * the endpoint is full.
 */
extern bool pgprom_conn_evictable(const Conn *c);

#endif							/* PG_PROM_CONN_H */
