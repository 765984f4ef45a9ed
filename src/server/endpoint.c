/*-------------------------------------------------------------------------
 *
 * endpoint.c
 *		The pg_prom endpoint worker: the process that owns the sockets.
 *
 * One process, one thread, PostgreSQL's own WaitEventSet watching the
 * latch, postmaster death, the listening sockets and every client.  It
 * parses, authenticates, routes and writes; it never runs SQL and never
 * waits for a collection: the metrics come from the collector worker it
 * starts (collect.c), and while a collection runs every other request,
 * /health, /ready, /primary and /replica included, is answered from state
 * the endpoint already has.
 *
 * It connects to no database (BackgroundWorkerInitializeConnection with
 * neither database nor role): the only catalogs it reads are the shared
 * pg_authid and pg_auth_members, for Basic authentication.  So a broken
 * pg_prom.database or pg_prom.role takes the collector down, never the
 * endpoint, which then says so (/ready 503, metrics 503 with the reason).
 *
 * The wait set has room for every connection the endpoint may hold
 * (pgprom_conns_capacity()): a new connection is added to it in place and a
 * closed one simply leaves it (closing a socket takes it out of epoll; its
 * slot stays unused), so taking in thousands of connections costs one
 * epoll_ctl each.  It is built again, compacted, when its slots run out,
 * when the listeners change, and when a connection stops waiting on its
 * socket (there is no remove API); a connection that changes direction is
 * changed in place.
 * After an error exit the postmaster restarts the endpoint after
 * RESTART_SECONDS.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include "access/xact.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/fd.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "tcop/tcopprot.h"
#include "utils/acl.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "utils/varlena.h"
#include "utils/wait_event.h"

#include "backend/hooks.h"
#include "compat.h"
#include "guc.h"
#include "server/auth.h"
#include "server/collect.h"
#include "server/conn.h"
#include "server/endpoint.h"
#include "server/listen.h"
#include "server/routes.h"
#include "server/tls.h"
#include "shmem.h"
#include "workers.h"

#define RESTART_SECONDS 5
#define REBIND_RETRY_MS 5000
#define MAX_CLIENTS_LIMIT 10000

static MemoryContext endpoint_cxt = NULL;
static WaitEventSet *wait_set = NULL;
static int	wait_set_room = 0;	/* events the set can hold */
static int	wait_set_used = 0;	/* events added since it was built */

static pgsocket listeners[PGPROM_MAX_LISTEN];
static int	nlisteners = 0;
static char *bound_addresses = NULL;
static int	bound_port = 0;
static TimestampTz rebind_at = 0;
static TimestampTz accept_paused_until = 0;
static bool accepting = false;	/* the wait set watches the listeners */

static void rebind(void);
static void reload(void);
static void rebuild_wait_set(void);
static void update_wait_set(void);
static long next_timeout(void);
static void accept_clients(pgsocket listener);
static void refuse_client(pgsocket sock, int status);
static bool make_room(const struct sockaddr_storage *peer);
static void check_exposure(void);
static void endpoint_exit(int code, Datum arg);

/* Register the endpoint; called from _PG_init in the postmaster only. */
void
pgprom_register_worker(void)
{
	BackgroundWorker worker;

	pgprom_worker_record(&worker, "pgprom_worker_main", "pg_prom HTTP endpoint",
						 "pg_prom", RESTART_SECONDS, 0, (Datum) 0);
	RegisterBackgroundWorker(&worker);
}

void
pgprom_worker_main(Datum main_arg)
{
	pgprom_in_own_process = true;
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	/* no database: shared catalogs only, for Basic authentication */
	BackgroundWorkerInitializeConnection(NULL, NULL, 0);

	/*
	 * InitPostgres skips this without a database: role membership changes
	 * must reach has_privs_of_role() (a revoked pg_monitor) at once.  It
	 * opens a catalog cache, so it needs a transaction.
	 */
	StartTransactionCommand();
	initialize_acl();
	CommitTransactionCommand();
	pgprom_worker_session("pg_prom", 100);

	endpoint_cxt = AllocSetContextCreate(TopMemoryContext, "pg_prom endpoint",
										 ALLOCSET_DEFAULT_SIZES);
	MemoryContextSwitchTo(endpoint_cxt);
	pgprom_conns_init(endpoint_cxt, MAX_CLIENTS_LIMIT);

	if (pgprom_shared)
		pg_atomic_write_u32(&pgprom_shared->worker_pid, (uint32) MyProcPid);
	before_shmem_exit(endpoint_exit, (Datum) 0);

	pgprom_auth_reload();
	(void) pgprom_tls_reload();
	rebind();
	(void) pgprom_collect_poll();	/* start the collector now */

	for (;;)
	{
		WaitEvent	events[64];
		int			nevents;
		int			i;

		pgprom_conns_reap();
		if (!pgprom_conns_changed)
			update_wait_set();	/* may find that only a new set will do */
		if (pgprom_conns_changed)
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
					reload();
				}
			}
			else if (ev->user_data == NULL && (ev->events & WL_SOCKET_ACCEPT))
				accept_clients(ev->fd);
			else if (ev->user_data != NULL)
				pgprom_conn_event((Conn *) ev->user_data, ev->events);
		}

		/* collections: start, read, stop; answer the clients of finished ones */
		if (pgprom_collect_poll())
		{
			for (i = 0; i < pgprom_nconns; i++)
			{
				Conn	   *c = pgprom_conns[i];

				if (c->state == CONN_WAITING && pgprom_collection_done(c->collection))
					pgprom_conn_collection_done(c);
			}
		}

		{
			TimestampTz now = GetCurrentTimestamp();

			for (i = 0; i < pgprom_nconns; i++)
			{
				pgprom_conn_process_pending(pgprom_conns[i]);
				pgprom_conn_expire(pgprom_conns[i], now);
			}
			if (nlisteners == 0 && pgprom_listen_addresses[0] != '\0' &&
				pgprom_tls_ready() && now >= rebind_at)
				rebind();
			if (accept_paused_until != 0 && now >= accept_paused_until)
			{
				accept_paused_until = 0;
				pgprom_conns_changed = true;
			}
		}

		CHECK_FOR_INTERRUPTS();
	}
}

static void
endpoint_exit(int code, Datum arg)
{
	pgprom_collect_shutdown();
	if (pgprom_shared)
	{
		pg_atomic_write_u32(&pgprom_shared->worker_pid, 0);
		pg_atomic_write_u32(&pgprom_shared->bound_port, 0);
	}
}

/* A reload: settings, token file and certificates, sockets, clients. */
static void
reload(void)
{
	bool		was_ready;
	int			i;

	ProcessConfigFile(PGC_SIGHUP);
	pgprom_auth_reload();
	was_ready = pgprom_tls_ready() && nlisteners > 0;
	(void) pgprom_tls_reload(); /* certificates are read again */
	if (strcmp(bound_addresses, pgprom_listen_addresses) != 0 ||
		bound_port != pgprom_port ||
		was_ready != pgprom_tls_ready() || nlisteners == 0)
		rebind();
	else
		check_exposure();

	/* a narrowed allow-list closes kept-alive connections it no longer allows */
	for (i = 0; i < pgprom_nconns; i++)
	{
		Conn	   *c = pgprom_conns[i];

		if (c->state != CONN_CLOSED && !pgprom_client_allowed(&c->peer))
		{
			pgprom_conn_close(c);
			if (pgprom_shared)
				pg_atomic_fetch_add_u64(&pgprom_shared->clients_denied, 1);
		}
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
	pgprom_conns_changed = true;

	if (bound_addresses)
		pfree(bound_addresses);
	bound_addresses = MemoryContextStrdup(endpoint_cxt, pgprom_listen_addresses);
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
 * they are (anyone who reaches the port reads every session's activity),
 * or with Basic passwords sent in the clear.
 */
static void
check_exposure(void)
{
	char	   *raw;
	List	   *items;
	ListCell   *lc;

	if (pgprom_listen_addresses[0] == '\0')
		return;
	raw = pstrdup(pgprom_listen_addresses);
	if (!SplitGUCList(raw, ',', &items))
		return;
	foreach(lc, items)
	{
		const char *item = lfirst(lc);

		if (strcmp(item, "localhost") == 0 || strncmp(item, "127.", 4) == 0 ||
			strcmp(item, "::1") == 0)
			continue;
		if (pgprom_auth_method == PGPROM_AUTH_NONE)
			ereport(WARNING,
					(errmsg("pg_prom: the metrics endpoint listens on \"%s\" without authentication", item),
					 errhint("Set pg_prom.auth_method to 'basic' or 'bearer', or restrict pg_prom.allowed_clients.")));
		else if (pgprom_auth_method == PGPROM_AUTH_BASIC && !pgprom_tls)
			ereport(WARNING,
					(errmsg("pg_prom: the metrics endpoint listens on \"%s\" with Basic authentication but without TLS", item),
					 errdetail("Passwords of PostgreSQL roles travel in the clear."),
					 errhint("Set pg_prom.tls = on, or use pg_prom.auth_method = 'bearer'.")));
		return;
	}
}

static void
rebuild_wait_set(void)
{
	int			i;

	if (wait_set)
		FreeWaitEventSet(wait_set);
	wait_set_room = 2 + nlisteners + pgprom_conns_capacity();
	wait_set = pgprom_create_wait_event_set(endpoint_cxt, wait_set_room);
	AddWaitEventToSet(wait_set, WL_LATCH_SET, PGINVALID_SOCKET, MyLatch, NULL);
	AddWaitEventToSet(wait_set, WL_EXIT_ON_PM_DEATH, PGINVALID_SOCKET, NULL, NULL);
	wait_set_used = 2;
	accepting = accept_paused_until == 0;
	if (accepting)
		for (i = 0; i < nlisteners; i++)
		{
			AddWaitEventToSet(wait_set, WL_SOCKET_ACCEPT, listeners[i], NULL, NULL);
			wait_set_used++;
		}
	for (i = 0; i < pgprom_nconns; i++)
	{
		Conn	   *c = pgprom_conns[i];

		c->pos = -1;
		if (c->state == CONN_CLOSED)
			continue;
		c->watching = pgprom_conn_events(c);
		c->pos = -1;
		if (c->watching == 0)
			continue;			/* nothing to wait for on its socket */
		c->pos = AddWaitEventToSet(wait_set, c->watching, c->sock, NULL, c);
		wait_set_used++;
	}
	pgprom_conns_changed = false;
}

/*
 * Connections that changed direction: change their events in place; new
 * ones: add them while the set has room.
 */
static void
update_wait_set(void)
{
	int			i;

	for (i = 0; i < pgprom_nconns; i++)
	{
		Conn	   *c = pgprom_conns[i];
		uint32		events;

		if (c->state == CONN_CLOSED)
			continue;
		events = pgprom_conn_events(c);
		if (events == c->watching)
			continue;
		if (c->pos < 0 && events != 0 && wait_set_used < wait_set_room)
		{
			c->pos = AddWaitEventToSet(wait_set, events, c->sock, NULL, c);
			wait_set_used++;
		}
		else if (events == 0 || c->pos < 0)
		{
			/* out of the set, or no room left: only a new set can do that */
			pgprom_conns_changed = true;
			return;
		}
		else
			ModifyWaitEvent(wait_set, c->pos, events, NULL);
		c->watching = events;
	}
}

/* Milliseconds until the earliest deadline, or -1 to wait for events. */
static long
next_timeout(void)
{
	TimestampTz now = GetCurrentTimestamp();
	TimestampTz earliest = 0;
	long		collect_ms;
	long		ms;
	int			i;

	for (i = 0; i < pgprom_nconns; i++)
	{
		Conn	   *c = pgprom_conns[i];

		if (c->state == CONN_CLOSED)
			continue;
		if (c->pending && c->state == CONN_READING)
			return 0;
		if (earliest == 0 || c->deadline < earliest)
			earliest = c->deadline;
	}
	if (nlisteners == 0 && pgprom_listen_addresses[0] != '\0' &&
		pgprom_tls_ready() && (earliest == 0 || rebind_at < earliest))
		earliest = rebind_at;
	if (accept_paused_until != 0 && (earliest == 0 || accept_paused_until < earliest))
		earliest = accept_paused_until;
	collect_ms = pgprom_collect_wakeup_ms();
	if (earliest == 0)
		return collect_ms;
	if (earliest <= now)
		return 0;
	/* round up, so we never wake just before a deadline */
	ms = (long) ((earliest - now + 999) / 1000);
	return (collect_ms >= 0 && collect_ms < ms) ? collect_ms : ms;
}

static void
accept_clients(pgsocket listener)
{
	for (;;)
	{
		pgsocket	sock;
		void	   *tls = NULL;
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
				pgprom_conns_changed = true;
			}
			return;				/* EAGAIN: all accepted */
		}

		/*
		 * Whole responses are written at once: no waiting for the peer's
		 * delayed acknowledgement between the head and a small body (40 ms
		 * per response, measured).
		 */
		{
			int			one = 1;

			(void) setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		}

		/* the allow-list comes before anything else */
		if (!pgprom_client_allowed(&peer))
		{
			refuse_client(sock, 403);
			continue;
		}
		if (!make_room(&peer))
		{
			refuse_client(sock, 503);
			continue;
		}
		if (pgprom_tls)
		{
			tls = pgprom_tls_open(sock);
			if (tls == NULL)
			{
				close(sock);
				ReleaseExternalFD();
				continue;
			}
		}
		(void) pgprom_conn_add(sock, &peer, tls);
	}
}

static bool
same_address(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET)
		return memcmp(&((const struct sockaddr_in *) a)->sin_addr,
					  &((const struct sockaddr_in *) b)->sin_addr,
					  sizeof(struct in_addr)) == 0;
	if (a->ss_family == AF_INET6)
		return memcmp(&((const struct sockaddr_in6 *) a)->sin6_addr,
					  &((const struct sockaddr_in6 *) b)->sin6_addr,
					  sizeof(struct in6_addr)) == 0;
	return false;
}

/*
 * Room for a new connection from peer.  Over pg_prom.max_clients_per_address
 * for that address, or over pg_prom.max_clients (or the file descriptors the
 * server lets us have) overall, the connection that has waited longest for
 * a request (of that address, or of any) is closed: clients that hold a
 * slot without sending a request cannot lock anyone out, and a client
 * being served is never cut off.  False when nothing can give way.
 */
static bool
make_room(const struct sockaddr_storage *peer)
{
	int			limit = Min(pgprom_max_clients, pgprom_conns_capacity());
	int			from_peer = 0;
	Conn	   *oldest = NULL;
	Conn	   *oldest_of_peer = NULL;
	int			open = 0;
	int			evicted = 0;
	int			i;

	for (i = 0; i < pgprom_nconns; i++)
	{
		Conn	   *c = pgprom_conns[i];
		bool		mine;

		if (c->state == CONN_CLOSED)
			continue;
		open++;
		mine = same_address(&c->peer, peer);
		if (mine)
			from_peer++;
		if (!pgprom_conn_evictable(c))
			continue;
		if (oldest == NULL || c->since < oldest->since)
			oldest = c;
		if (mine && (oldest_of_peer == NULL || c->since < oldest_of_peer->since))
			oldest_of_peer = c;
	}

	if (from_peer >= pgprom_max_clients_per_address)
	{
		if (oldest_of_peer == NULL)
			return false;
		pgprom_conn_close(oldest_of_peer);
		evicted++;
		open--;
		if (oldest == oldest_of_peer)
			oldest = NULL;
	}
	if (open >= limit || pgprom_nconns >= pgprom_conns_capacity())
	{
		if (oldest == NULL)
			return false;
		pgprom_conn_close(oldest);
		evicted++;
		open--;
	}
	if (pgprom_nconns >= pgprom_conns_capacity())
		pgprom_conns_reap();	/* the closed ones still hold array slots */

	/* the server's budget of descriptors besides its own files */
	while (!AcquireExternalFD())
	{
		Conn	   *victim = NULL;

		for (i = 0; i < pgprom_nconns; i++)
		{
			Conn	   *c = pgprom_conns[i];

			if (c->state != CONN_CLOSED && pgprom_conn_evictable(c) &&
				(victim == NULL || c->since < victim->since))
				victim = c;
		}
		if (victim == NULL)
			return false;
		pgprom_conn_close(victim);
		evicted++;
	}
	if (pgprom_shared && evicted > 0)
		pg_atomic_fetch_add_u64(&pgprom_shared->clients_evicted, evicted);
	return true;
}

/*
 * Refuse a connection at once with one non-blocking send and close: 503
 * over pg_prom.max_clients (the client learns why instead of waiting in a
 * queue), 403 for an address outside pg_prom.allowed_clients.
 */
static void
refuse_client(pgsocket sock, int status)
{
	StringInfoData msg;
	ssize_t		rc;

	initStringInfo(&msg);
	pgprom_respond_error(status, &msg, false);
	rc = send(sock, msg.data, msg.len, MSG_NOSIGNAL | MSG_DONTWAIT);
	(void) rc;
	pfree(msg.data);
	shutdown(sock, SHUT_WR);
	close(sock);
	if (pgprom_shared)
		pg_atomic_fetch_add_u64(status == 403 ? &pgprom_shared->clients_denied :
								&pgprom_shared->clients_refused, 1);
}
