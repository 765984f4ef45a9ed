/*-------------------------------------------------------------------------
 *
 * listen.c
 *		Open the worker's listening sockets from pg_prom.listen_addresses.
 *
 * Runs only in the worker, never in _PG_init (the postmaster would hand
 * the sockets to every child).  Every socket is non-blocking and
 * close-on-exec, and counted against PostgreSQL's external-fd budget.
 * An address that cannot be bound is logged and skipped; the worker
 * retries while none is bound.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "storage/fd.h"
#include "utils/varlena.h"

#include "server/listen.h"

/*
 * Connections the kernel queues for us (capped by net.core.somaxconn): a
 * burst larger than this while the endpoint is busy has its SYNs dropped
 * and retried a second later.
 */
#define LISTEN_BACKLOG 1024

static int	open_one(struct addrinfo *ai, const char *host, int port,
					 pgsocket *sock);

/*
 * Bind every address of the list; returns how many sockets are listening.
 */
int
pgprom_listen_open(const char *addresses, int port, pgsocket *socks, int max)
{
	char	   *raw = pstrdup(addresses);
	List	   *items;
	ListCell   *lc;
	int			n = 0;

	if (!SplitGUCList(raw, ',', &items))
		return 0;

	foreach(lc, items)
	{
		const char *item = lfirst(lc);
		const char *host = strcmp(item, "*") == 0 ? NULL : item;
		struct addrinfo hints;
		struct addrinfo *res = NULL;
		struct addrinfo *ai;
		char		service[16];
		int			rc;

		memset(&hints, 0, sizeof(hints));
		hints.ai_family = AF_UNSPEC;
		hints.ai_socktype = SOCK_STREAM;
		hints.ai_flags = AI_PASSIVE;
		snprintf(service, sizeof(service), "%d", port);
		rc = getaddrinfo(host, service, &hints, &res);
		if (rc != 0)
		{
			ereport(WARNING,
					(errmsg("pg_prom: could not resolve \"%s\": %s",
							item, gai_strerror(rc)),
					 errhint("Check pg_prom.listen_addresses.")));
			continue;
		}
		for (ai = res; ai != NULL && n < max; ai = ai->ai_next)
		{
			if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6)
				continue;
			if (open_one(ai, item, port, &socks[n]) == 0)
				n++;
		}
		freeaddrinfo(res);
	}
	return n;
}

static int
open_one(struct addrinfo *ai, const char *host, int port, pgsocket *sock)
{
	int			one = 1;
	pgsocket	s;

	if (!AcquireExternalFD())
	{
		ereport(WARNING,
				(errmsg("pg_prom: no file descriptor left to listen on \"%s\"", host)));
		return -1;
	}
	s = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
			   ai->ai_protocol);
	if (s == PGINVALID_SOCKET)
	{
		ReleaseExternalFD();
		ereport(WARNING,
				(errcode_for_socket_access(),
				 errmsg("pg_prom: could not create socket for \"%s\": %m", host)));
		return -1;
	}
	(void) setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ai->ai_family == AF_INET6)
		(void) setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));

	if (bind(s, ai->ai_addr, ai->ai_addrlen) < 0 || listen(s, LISTEN_BACKLOG) < 0)
	{
		int			save_errno = errno;

		close(s);
		ReleaseExternalFD();
		errno = save_errno;
		ereport(WARNING,
				(errcode_for_socket_access(),
				 errmsg("pg_prom: could not listen on \"%s\" port %d (%s): %m",
						host, port, ai->ai_family == AF_INET6 ? "IPv6" : "IPv4"),
				 errhint("Is another process (postgres_exporter?) using the port? "
						 "Change pg_prom.port or pg_prom.listen_addresses and reload.")));
		return -1;
	}
	*sock = s;
	return 0;
}

void
pgprom_listen_close(pgsocket *socks, int n)
{
	int			i;

	for (i = 0; i < n; i++)
	{
		close(socks[i]);
		ReleaseExternalFD();
	}
}
