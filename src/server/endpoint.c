/*-------------------------------------------------------------------------
 *
 * worker.c
 *		The pg_prom background worker: a small HTTP server on PostgreSQL's
 *		own WaitEventSet.
 *
 * One process, one thread.  A single WaitEventSet watches the latch,
 * postmaster death, the listening sockets and every client.  All sockets
 * are non-blocking and every client has a deadline, so a client that
 * sends slowly or stops reading costs one slot until its deadline and
 * never stalls the loop, other clients or SIGTERM.  The set is rebuilt
 * whenever the sockets or their directions change (there is no remove
 * API); at scrape rates that costs nothing measurable.
 *
 * A connection goes READING -> WRITING -> (READING again when kept alive)
 * and ends in DRAINING when the server closes it: the write side is shut
 * down and unread input is discarded for a moment, so the client receives
 * the response instead of a reset.
 *
 * The worker connects to pg_prom.database as pg_prom.role; rendering runs
 * in a transaction per scrape (respond.c).  It starts once the server is
 * consistent, so it also serves hot standbys; after an error exit the
 * postmaster restarts it after RESTART_SECONDS.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/fd.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "tcop/tcopprot.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "utils/varlena.h"
#include "utils/wait_event.h"

#include "backend/hooks.h"
#include "compat.h"
#include "guc.h"
#include "scrape/tables.h"
#include "server/auth.h"
#include "server/endpoint.h"
#include "server/http.h"
#include "server/listen.h"
#include "server/respond.h"
#include "server/tls.h"
#include "shmem.h"

#define RESTART_SECONDS 5
#define REBIND_RETRY_MS 5000
#define DRAIN_MS 1000
#define MAX_CLIENTS_LIMIT 256

typedef enum ConnState
{
	CONN_READING,				/* waiting for (the rest of) a request */
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
	bool		close_after;	/* close once the response is sent */
	bool		pending;		/* pipelined input waits to be parsed */
	char		client[INET6_ADDRSTRLEN];	/* the peer's address, for logs */
	void	   *tls;			/* the TLS session, or NULL for plain HTTP */
	bool		handshaken;		/* the TLS handshake is done */
	uint32		want;			/* TLS waits for this event; 0: by state */
	MemoryContext cxt;			/* the response only; reset per request */
	StringInfoData out;
	size_t		out_off;
	size_t		in_len;
	char		in[HTTP_MAX_REQUEST + 1];
} Conn;

static MemoryContext worker_cxt = NULL;
static WaitEventSet *wait_set = NULL;
static bool wait_set_dirty = true;

static pgsocket listeners[PGPROM_MAX_LISTEN];
static int	nlisteners = 0;
static char *bound_addresses = NULL;
static int	bound_port = 0;
static TimestampTz rebind_at = 0;
static TimestampTz accept_paused_until = 0;

static Conn *conns[MAX_CLIENTS_LIMIT];
static int	nconns = 0;

static void rebind(void);
static void rebuild_wait_set(void);
static long next_timeout(void);
static void accept_clients(pgsocket listener);
static void refuse_client(pgsocket sock, int status);
static void peer_address(const struct sockaddr_storage *peer, char *buf, size_t size);
static void check_exposure(void);
static void conn_read(Conn *c);
static void conn_handshake(Conn *c);
static void set_want(Conn *c, uint32 want);
static void conn_process_input(Conn *c);
static void conn_write(Conn *c);
static void conn_respond_error(Conn *c, int status);
static void conn_send(Conn *c, int status, bool close_after);
static void conn_close(Conn *c);
static void expire_deadlines(void);
static void reap_closed(void);
static void worker_shmem_exit(int code, Datum arg);
static void connect_with_backoff(void);

/*
 * Register the worker; called from _PG_init in the postmaster only.
 */
void
pgprom_register_worker(void)
{
	BackgroundWorker worker;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_ConsistentState;
	worker.bgw_restart_time = RESTART_SECONDS;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "pg_prom");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "pgprom_worker_main");
	snprintf(worker.bgw_name, BGW_MAXLEN, "pg_prom HTTP endpoint");
	snprintf(worker.bgw_type, BGW_MAXLEN, "pg_prom");
	worker.bgw_main_arg = (Datum) 0;
	worker.bgw_notify_pid = 0;
	RegisterBackgroundWorker(&worker);
}

void
pgprom_worker_main(Datum main_arg)
{
	pgprom_in_own_process = true;
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	connect_with_backoff();
	pgstat_report_appname("pg_prom");
	SetConfigOption("search_path", "pg_catalog, pg_temp", PGC_USERSET,
					PGC_S_SESSION);
	/* pg_prom's own queries stay out of pg_stat_statements */
	SetConfigOption("pg_stat_statements.track", "none", PGC_SUSET,
					PGC_S_SESSION);

	worker_cxt = AllocSetContextCreate(TopMemoryContext, "pg_prom worker",
									   ALLOCSET_DEFAULT_SIZES);
	MemoryContextSwitchTo(worker_cxt);

	if (pgprom_shared)
		pg_atomic_write_u32(&pgprom_shared->worker_pid, (uint32) MyProcPid);
	before_shmem_exit(worker_shmem_exit, (Datum) 0);

	pgprom_auth_reload();
	(void) pgprom_tls_reload();
	rebind();

	for (;;)
	{
		WaitEvent	events[16];
		int			nevents;
		bool		was_ready;
		int			i;

		reap_closed();
		if (wait_set_dirty)
			rebuild_wait_set();

		nevents = WaitEventSetWait(wait_set, next_timeout(), events,
								   lengthof(events), PG_WAIT_EXTENSION);

		for (i = 0; i < nevents; i++)
		{
			WaitEvent  *ev = &events[i];

			if (ev->events & WL_LATCH_SET)
			{
				ResetLatch(MyLatch);
				CHECK_FOR_INTERRUPTS();
				if (ConfigReloadPending)
				{
					ConfigReloadPending = false;
					ProcessConfigFile(PGC_SIGHUP);
					pgprom_auth_reload();
					was_ready = pgprom_tls_ready() && nlisteners > 0;
					(void) pgprom_tls_reload();	/* certificates are read again */
					if (strcmp(bound_addresses, pgprom_listen_addresses) != 0 ||
						bound_port != pgprom_port ||
						was_ready != pgprom_tls_ready() || nlisteners == 0)
						rebind();
					else
						check_exposure();
				}
			}
			else if (ev->user_data == NULL && (ev->events & WL_SOCKET_ACCEPT))
				accept_clients(ev->fd);
			else if (ev->user_data != NULL)
			{
				Conn	   *c = (Conn *) ev->user_data;

				/* one direction is watched per connection: act on any event */
				if (c->state == CONN_CLOSED)
					continue;
				if (c->tls && !c->handshaken && c->state == CONN_READING)
					conn_handshake(c);
				else if (c->state == CONN_WRITING)
					conn_write(c);
				else
					conn_read(c);
			}
		}

		for (i = 0; i < nconns; i++)
		{
			if (conns[i]->pending && conns[i]->state == CONN_READING)
			{
				conns[i]->pending = false;
				conn_process_input(conns[i]);
			}
		}

		expire_deadlines();
		pgprom_tables_tick();

		if (nlisteners == 0 && pgprom_listen_addresses[0] != '\0' &&
			pgprom_tls_ready() && GetCurrentTimestamp() >= rebind_at)
			rebind();

		/* nothing of a scrape may outlive it */
		CHECK_FOR_INTERRUPTS();
	}
}

/*
 * Connect to pg_prom.database as pg_prom.role.  A failure there is FATAL
 * (a dropped role, a role without LOGIN, a renamed database) and the
 * postmaster restarts us; instead of failing every RESTART_SECONDS, wait
 * longer after each failed start (5 s doubling up to 5 minutes) and say
 * so, until the connection works again.
 */
static void
connect_with_backoff(void)
{
	uint32		failures = 0;

	if (pgprom_shared)
		failures = pg_atomic_read_u32(&pgprom_shared->connect_failures);
	if (failures > 0)
	{
		long		delay_s = Min(300, 5L << Min(failures - 1, 6));
		TimestampTz until = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
														delay_s * 1000);

		ereport(LOG,
				(errmsg("pg_prom: the worker could not connect to database \"%s\" as %s%s%s the last %u time(s); retrying in %ld s",
						pgprom_database,
						pgprom_role[0] ? "role \"" : "the bootstrap superuser",
						pgprom_role[0] ? pgprom_role : "",
						pgprom_role[0] ? "\"" : "",
						failures, delay_s),
				 errhint("Check pg_prom.database and pg_prom.role: the role needs LOGIN and pg_monitor (see the error above).")));
		while (GetCurrentTimestamp() < until)
		{
			(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
							 1000, PG_WAIT_EXTENSION);
			ResetLatch(MyLatch);
			CHECK_FOR_INTERRUPTS();
		}
	}
	if (pgprom_shared)
		pg_atomic_fetch_add_u32(&pgprom_shared->connect_failures, 1);

	BackgroundWorkerInitializeConnection(pgprom_database,
										 pgprom_role[0] ? pgprom_role : NULL,
										 0);

	if (pgprom_shared)
		pg_atomic_write_u32(&pgprom_shared->connect_failures, 0);
}

static void
worker_shmem_exit(int code, Datum arg)
{
	if (pgprom_shared)
	{
		pg_atomic_write_u32(&pgprom_shared->worker_pid, 0);
		pg_atomic_write_u32(&pgprom_shared->bound_port, 0);
	}
}

/*
 * (Re)open the listening sockets for the current settings.  Clients
 * already connected keep their connections.
 */
static void
rebind(void)
{
	pgprom_listen_close(listeners, nlisteners);
	nlisteners = 0;
	wait_set_dirty = true;

	if (bound_addresses)
		pfree(bound_addresses);
	bound_addresses = MemoryContextStrdup(worker_cxt, pgprom_listen_addresses);
	bound_port = pgprom_port;

	if (!pgprom_tls_ready())
	{
		ereport(WARNING,
				(errmsg("pg_prom: the metrics endpoint is down because TLS is on but not usable"),
				 errdetail("See the previous message; it never falls back to plain HTTP."),
				 errhint("Fix the TLS settings or files and reload.")));
		if (pgprom_shared)
			pg_atomic_write_u32(&pgprom_shared->bound_port, 0);
		return;
	}
	if (pgprom_listen_addresses[0] == '\0')
	{
		ereport(LOG,
				(errmsg("pg_prom: HTTP endpoint is off"),
				 errdetail("pg_prom.listen_addresses is empty; pg_prom_metrics() still works.")));
		if (pgprom_shared)
			pg_atomic_write_u32(&pgprom_shared->bound_port, 0);
		return;
	}

	nlisteners = pgprom_listen_open(pgprom_listen_addresses, pgprom_port,
									listeners, PGPROM_MAX_LISTEN);
	if (nlisteners == 0)
	{
		rebind_at = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
												REBIND_RETRY_MS);
		ereport(WARNING,
				(errmsg("pg_prom: could not listen on any of \"%s\" port %d",
						pgprom_listen_addresses, pgprom_port),
				 errdetail("Retrying every %d seconds.", REBIND_RETRY_MS / 1000)));
		if (pgprom_shared)
			pg_atomic_write_u32(&pgprom_shared->bound_port, 0);
		return;
	}
	if (pgprom_shared)
		pg_atomic_write_u32(&pgprom_shared->bound_port, (uint32) pgprom_port);
	ereport(LOG,
			(errmsg("pg_prom: serving metrics on \"%s\" port %d at %s%s",
					pgprom_listen_addresses, pgprom_port, pgprom_metrics_path,
					pgprom_tls ? " over TLS" : "")));
	check_exposure();
}

/*
 * Warn when the endpoint listens beyond loopback with nobody asked who
 * they are: anyone who reaches the port reads every session's activity.
 */
static void
check_exposure(void)
{
	char	   *raw;
	List	   *items;
	ListCell   *lc;

	if (pgprom_auth_method != PGPROM_AUTH_NONE || pgprom_listen_addresses[0] == '\0')
		return;
	raw = pstrdup(pgprom_listen_addresses);
	if (!SplitGUCList(raw, ',', &items))
		return;
	foreach(lc, items)
	{
		const char *item = lfirst(lc);

		if (strcmp(item, "localhost") != 0 && strncmp(item, "127.", 4) != 0 &&
			strcmp(item, "::1") != 0)
		{
			ereport(WARNING,
					(errmsg("pg_prom: the metrics endpoint listens on \"%s\" without authentication", item),
					 errhint("Set pg_prom.auth_method to 'basic' or 'bearer', or restrict pg_prom.allowed_clients.")));
			return;
		}
	}
}

static void
rebuild_wait_set(void)
{
	TimestampTz now = GetCurrentTimestamp();
	int			i;

	if (wait_set)
		FreeWaitEventSet(wait_set);
	wait_set = pgprom_create_wait_event_set(worker_cxt,
											2 + nlisteners + nconns);
	AddWaitEventToSet(wait_set, WL_LATCH_SET, PGINVALID_SOCKET, MyLatch, NULL);
	AddWaitEventToSet(wait_set, WL_EXIT_ON_PM_DEATH, PGINVALID_SOCKET, NULL, NULL);
	if (now >= accept_paused_until)
		for (i = 0; i < nlisteners; i++)
			AddWaitEventToSet(wait_set, WL_SOCKET_ACCEPT, listeners[i], NULL, NULL);
	for (i = 0; i < nconns; i++)
	{
		Conn	   *c = conns[i];

		if (c->state == CONN_CLOSED)
			continue;
		AddWaitEventToSet(wait_set,
						  c->want ? c->want :
						  c->state == CONN_WRITING ? WL_SOCKET_WRITEABLE : WL_SOCKET_READABLE,
						  c->sock, NULL, c);
	}
	wait_set_dirty = false;
}

/* Milliseconds until the earliest deadline, or -1 to wait for events. */
static long
next_timeout(void)
{
	TimestampTz now = GetCurrentTimestamp();
	TimestampTz earliest = 0;
	long		tables_ms;
	long		ms;
	int			i;

	for (i = 0; i < nconns; i++)
		if (conns[i]->state != CONN_CLOSED &&
			(earliest == 0 || conns[i]->deadline < earliest))
			earliest = conns[i]->deadline;
	if (nlisteners == 0 && pgprom_listen_addresses[0] != '\0' &&
		pgprom_tls_ready() && (earliest == 0 || rebind_at < earliest))
		earliest = rebind_at;
	if (accept_paused_until > now && (earliest == 0 || accept_paused_until < earliest))
		earliest = accept_paused_until;
	for (i = 0; i < nconns; i++)
		if (conns[i]->pending && conns[i]->state == CONN_READING)
			return 0;
	tables_ms = pgprom_tables_wakeup_ms();
	if (earliest == 0)
		return tables_ms;
	if (earliest <= now)
		return 0;
	/* round up, so we never wake just before a deadline */
	ms = (long) ((earliest - now + 999) / 1000);
	return (tables_ms >= 0 && tables_ms < ms) ? tables_ms : ms;
}

static void
accept_clients(pgsocket listener)
{
	for (;;)
	{
		pgsocket	sock;
		Conn	   *c;
		MemoryContext cxt;
		struct sockaddr_storage peer;
		socklen_t	peerlen = sizeof(peer);

		sock = accept4(listener, (struct sockaddr *) &peer, &peerlen,
					   SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (sock == PGINVALID_SOCKET)
		{
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
			{
				ereport(LOG,
						(errcode_for_socket_access(),
						 errmsg("pg_prom: could not accept a connection: %m"),
						 errdetail("Accepting is paused for one second.")));
				accept_paused_until = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), 1000);
				wait_set_dirty = true;
			}
			return;				/* EAGAIN: all accepted */
		}

		/* the allow-list comes before anything else */
		if (!pgprom_client_allowed(&peer))
		{
			refuse_client(sock, 403);
			continue;
		}
		if (nconns >= Min(pgprom_max_clients, MAX_CLIENTS_LIMIT) ||
			!AcquireExternalFD())
		{
			refuse_client(sock, 503);
			continue;
		}

		cxt = AllocSetContextCreate(worker_cxt, "pg_prom connection",
									ALLOCSET_DEFAULT_SIZES);
		c = MemoryContextAllocZero(worker_cxt, sizeof(Conn));
		c->cxt = cxt;
		c->sock = sock;
		c->state = CONN_READING;
		c->deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
												  pgprom_request_timeout_ms);
		c->out.data = NULL;
		peer_address(&peer, c->client, sizeof(c->client));
		if (pgprom_tls)
		{
			c->tls = pgprom_tls_open(sock);
			if (c->tls == NULL)
			{
				close(sock);
				ReleaseExternalFD();
				MemoryContextDelete(cxt);
				pfree(c);
				continue;
			}
		}
		conns[nconns++] = c;
		wait_set_dirty = true;
	}
}

/*
 * Refuse a connection at once with one non-blocking send and close: 503
 * over pg_prom.max_clients (the client learns why instead of waiting in a
 * queue), 403 for an address outside pg_prom.allowed_clients.
 */
static void
refuse_client(pgsocket sock, int status)
{
	static const char busy[] =
		"HTTP/1.1 503 Service Unavailable\r\n"
		"Content-Type: text/plain; charset=utf-8\r\n"
		"Content-Length: 19\r\n"
		"Connection: close\r\n"
		"Retry-After: 1\r\n"
		"\r\n"
		"Too many clients.\r\n";
	static const char forbidden[] =
		"HTTP/1.1 403 Forbidden\r\n"
		"Content-Type: text/plain; charset=utf-8\r\n"
		"Content-Length: 11\r\n"
		"Connection: close\r\n"
		"\r\n"
		"Forbidden\r\n";
	const char *msg = status == 403 ? forbidden : busy;
	ssize_t		rc;

	rc = send(sock, msg, strlen(msg), MSG_NOSIGNAL | MSG_DONTWAIT);
	(void) rc;
	shutdown(sock, SHUT_WR);
	close(sock);
	if (pgprom_shared)
		pg_atomic_fetch_add_u64(status == 403 ? &pgprom_shared->clients_denied :
								&pgprom_shared->clients_refused, 1);
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

/* Watch a different socket event for this connection (0: by state). */
static void
set_want(Conn *c, uint32 want)
{
	if (c->want != want)
	{
		c->want = want;
		wait_set_dirty = true;
	}
}

/* Advance the TLS handshake; once done, read what may already be there. */
static void
conn_handshake(Conn *c)
{
	uint32		want = 0;
	int			rc = pgprom_tls_handshake(c->tls, &want);

	if (rc == TLS_IO_BLOCKED)
	{
		set_want(c, want);
		return;
	}
	if (rc != 1)
	{
		conn_close(c);			/* plain HTTP on a TLS port, a bad certificate... */
		return;
	}
	c->handshaken = true;
	set_want(c, 0);
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
			if (c->in_len >= HTTP_MAX_REQUEST)
			{
				conn_respond_error(c, 431);
				return;
			}
			if (c->tls)
			{
				uint32		want = 0;
				int			rc = pgprom_tls_recv(c->tls, c->in + c->in_len,
												 HTTP_MAX_REQUEST - c->in_len, &want);

				if (rc == TLS_IO_BLOCKED)
				{
					set_want(c, want == WL_SOCKET_READABLE ? 0 : want);
					return;
				}
				if (rc == TLS_IO_ERROR)
				{
					conn_close(c);
					return;
				}
				set_want(c, 0);
				n = rc;
			}
			else
				n = recv(c->sock, c->in + c->in_len, HTTP_MAX_REQUEST - c->in_len, 0);
		}

		if (n > 0)
		{
			if (c->state == CONN_DRAINING)
				continue;
			if (c->in_len == 0)
				c->deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
														  pgprom_request_timeout_ms);
			c->in_len += n;
			conn_process_input(c);
			if (c->state != CONN_READING)
				return;
			continue;
		}
		if (n == 0)
		{
			conn_close(c);		/* peer closed */
			return;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			conn_close(c);
		return;
	}
}

/*
 * Parse what has been received; answer a complete request.
 */
static void
conn_process_input(Conn *c)
{
	HttpRequest req;
	size_t		consumed;
	int			status;
	HttpParseResult r;
	bool		keep_alive;
	MemoryContext old;

	r = http_parse_request(c->in, c->in_len, &req, &consumed, &status);
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
	status = pgprom_respond(&req, c->client, &c->out, &keep_alive);
	MemoryContextSwitchTo(old);
	conn_send(c, status, !keep_alive);
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

/* Start sending the response built in c->out. */
static void
conn_send(Conn *c, int status, bool close_after)
{
	pgprom_count_http_status(status);
	c->out_off = 0;
	c->close_after = close_after;
	c->state = CONN_WRITING;
	c->deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
											  pgprom_request_timeout_ms);
	wait_set_dirty = true;
	conn_write(c);
}

static void
conn_write(Conn *c)
{
	while (c->out_off < (size_t) c->out.len)
	{
		ssize_t		n;

		if (c->tls)
		{
			uint32		want = 0;
			int			rc = pgprom_tls_send(c->tls, c->out.data + c->out_off,
											 c->out.len - c->out_off, &want);

			if (rc == TLS_IO_BLOCKED)
			{
				set_want(c, want == WL_SOCKET_WRITEABLE ? 0 : want);
				return;
			}
			if (rc <= 0)
			{
				conn_close(c);
				return;
			}
			set_want(c, 0);
			c->out_off += rc;
			continue;
		}

		n = send(c->sock, c->out.data + c->out_off, c->out.len - c->out_off,
				 MSG_NOSIGNAL);
		if (n > 0)
		{
			c->out_off += n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;				/* wait for WRITEABLE */
		conn_close(c);
		return;
	}

	/* response sent */
	MemoryContextReset(c->cxt);
	c->out.data = NULL;
	c->out.len = 0;
	c->out_off = 0;
	wait_set_dirty = true;

	if (c->close_after)
	{
		if (c->tls)
			pgprom_tls_shutdown(c->tls);
		set_want(c, 0);
		shutdown(c->sock, SHUT_WR);
		c->state = CONN_DRAINING;
		c->deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), DRAIN_MS);
		return;
	}

	c->state = CONN_READING;
	c->deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
											  c->in_len > 0 ? pgprom_request_timeout_ms : pgprom_idle_timeout_ms);
	/* a pipelined request may already be complete: parse it next round */
	c->pending = (c->in_len > 0);
}

/*
 * Close the socket now; the memory stays until reap_closed(), so callers
 * up the stack may still look at c->state.
 */
static void
conn_close(Conn *c)
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
	c->state = CONN_CLOSED;
	wait_set_dirty = true;
}

static void
reap_closed(void)
{
	int			i = 0;

	while (i < nconns)
	{
		Conn	   *c = conns[i];

		if (c->state != CONN_CLOSED)
		{
			i++;
			continue;
		}
		conns[i] = conns[--nconns];
		MemoryContextDelete(c->cxt);
		pfree(c);
	}
}

/*
 * Close or answer clients past their deadline: a partial request gets 408,
 * an idle keep-alive connection or a client that does not read is closed.
 */
static void
expire_deadlines(void)
{
	TimestampTz now = GetCurrentTimestamp();
	int			i;

	for (i = 0; i < nconns; i++)
	{
		Conn	   *c = conns[i];

		if (c->state == CONN_CLOSED || c->deadline > now)
			continue;
		if (c->state == CONN_READING && c->in_len > 0)
			conn_respond_error(c, 408);
		else
			conn_close(c);
	}
}
