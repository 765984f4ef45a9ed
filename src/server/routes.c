/*-------------------------------------------------------------------------
 *
 * routes.c
 *		The endpoint's routes and the responses they produce.
 *
 * One table holds every fixed route, and pg_prom.metrics_path is checked
 * against it (guc.c):
 *	pg_prom.metrics_path	GET/HEAD: the exposition text, from a collection
 *	/						GET/HEAD: a small HTML landing page
 *	/health					200 "OK" while the endpoint runs
 *	/ready					200 when the collector is connected, else 503
 *	/primary, /replica		200 when the server has that role, else 503
 * Every answer but the metrics comes from state the endpoint already has:
 * nothing here runs SQL or waits for anything.  The metrics path alone is
 * behind pg_prom.auth_method: the other routes reveal nothing and load
 * balancers probe them.  Other paths get 404, other methods 405 with Allow.
 * Every Content-Length is the length of the body actually sent.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xlog.h"

#include "guc.h"
#include "scrape/collectors/collectors.h"
#include "scrape/openmetrics.h"
#include "server/protobuf.h"
#include "server/auth.h"
#include "server/routes.h"
#include "shmem.h"

#define CONTENT_TYPE_METRICS "text/plain; version=0.0.4; charset=utf-8"
#define CONTENT_TYPE_TEXT "text/plain; charset=utf-8"
#define CONTENT_TYPE_HTML "text/html; charset=utf-8"
/* the metrics' format and compression depend on these request headers */
#define VARY_METRICS "Vary: Accept, Accept-Encoding\r\n"

typedef enum Route
{
	ROUTE_ROOT,
	ROUTE_HEALTH,
	ROUTE_READY,
	ROUTE_PRIMARY,
	ROUTE_REPLICA,
	ROUTE_METRICS,
	ROUTE_NONE
} Route;

/* The fixed routes, in Route order. */
const char *const pgprom_fixed_routes[] = {
	"/", "/health", "/ready", "/primary", "/replica", NULL
};

static void append_response(StringInfo out, int status,
							const char *content_type, const char *body,
							size_t body_len, bool head_only, bool keep_alive,
							const char *extra_headers);
static bool collectors_of(const HttpRequest *req, uint64 *mask);

static Route
route_of(const char *path)
{
	int			i;

	if (strcmp(path, pgprom_metrics_path) == 0)
		return ROUTE_METRICS;
	for (i = 0; pgprom_fixed_routes[i]; i++)
		if (strcmp(path, pgprom_fixed_routes[i]) == 0)
			return (Route) i;
	return ROUTE_NONE;
}

/* A complete response with a text body; returns the status. */
static int
text_response(StringInfo out, int status, const char *text, bool head_only,
			  bool keep_alive, const char *extra_headers)
{
	append_response(out, status, CONTENT_TYPE_TEXT, text, strlen(text),
					head_only, keep_alive, extra_headers);
	return status;
}

int
pgprom_respond(const HttpRequest *req, const char *client, StringInfo out,
			   bool *keep_alive, MetricsRequest *metrics)
{
	bool		head_only = (req->method == HTTP_METHOD_HEAD);
	Route		route = route_of(req->path);

	if (route == ROUTE_NONE)
	{
		if (req->has_body)
			*keep_alive = false;
		return text_response(out, 404, "Not Found\n", head_only, *keep_alive, NULL);
	}
	if (req->method == HTTP_METHOD_OTHER)
	{
		/* a body we do not read would be taken for the next request */
		*keep_alive = *keep_alive && !req->has_body;
		return text_response(out, 405, "Method Not Allowed\n", false,
							 *keep_alive, "Allow: GET, HEAD\r\n");
	}
	if (req->has_body)
	{
		*keep_alive = false;
		return text_response(out, 413, "Request bodies are not accepted.\n",
							 head_only, false, NULL);
	}

	switch (route)
	{
		case ROUTE_HEALTH:
			return text_response(out, 200, "OK\n", head_only, *keep_alive, NULL);
		case ROUTE_READY:
			{
				/* ready: the collector is connected to its database */
				bool		ready = pgprom_collector_ready();

				return text_response(out, ready ? 200 : 503,
									 ready ? "READY\n" : "NOT READY\n",
									 head_only, *keep_alive, NULL);
			}
		case ROUTE_PRIMARY:
		case ROUTE_REPLICA:
			{
				/* for HAProxy/Patroni-style checks: 200 when the role matches */
				bool		replica = RecoveryInProgress();
				bool		match = (route == ROUTE_REPLICA) ? replica : !replica;

				return text_response(out, match ? 200 : 503,
									 replica ? "replica\n" : "primary\n",
									 head_only, *keep_alive, NULL);
			}
		case ROUTE_ROOT:
			{
				StringInfoData page;

				initStringInfo(&page);
				appendStringInfo(&page,
								 "<!DOCTYPE html>\n<html><head><title>pg_prom</title></head>\n"
								 "<body><h1>pg_prom %s</h1>\n"
								 "<p>PostgreSQL metrics for Prometheus, served from inside the server.</p>\n"
								 "<ul><li><a href=\"%s\">Metrics</a></li>\n"
								 "<li><a href=\"/health\">Health</a></li></ul>\n"
								 "</body></html>\n",
								 PG_PROM_VERSION, pgprom_metrics_path);
				append_response(out, 200, CONTENT_TYPE_HTML, page.data, page.len,
								head_only, *keep_alive, NULL);
				pfree(page.data);
				return 200;
			}
		default:
			break;
	}

	/* the metrics, behind authentication when it is configured */
	{
		int			denied = pgprom_authenticate(req, client);

		if (denied == 401)
			return text_response(out, 401, "Unauthorized\n", head_only,
								 *keep_alive, pgprom_auth_challenge());
		if (denied != 0)
		{
			*keep_alive = false;
			return text_response(out, denied,
								 "Too many failed attempts; try again later.\n",
								 head_only, false, "Retry-After: 60\r\n");
		}
	}
	if (!collectors_of(req, &metrics->mask))
		return text_response(out, 400, "Unknown collector in collect[].\n",
							 head_only, *keep_alive, NULL);
	metrics->head_only = head_only;
	metrics->protobuf = req->accept_protobuf;
	metrics->openmetrics = req->accept_openmetrics && !req->accept_protobuf;
	/* native histograms come only in protobuf, from a collection of their own */
	if (metrics->protobuf)
		metrics->mask |= PGPROM_MASK_NATIVE;
	metrics->gzip = req->accept_gzip;
	metrics->keep_alive = *keep_alive;
	return 0;
}

int
pgprom_respond_metrics(const MetricsRequest *m, Collection *c, StringInfo out,
					   const char **body, size_t *body_len)
{
	int			status;
	const char *why;
	bool		gzipped;

	*body = NULL;
	*body_len = 0;
	if (!pgprom_collection_body(c, m->openmetrics, m->protobuf, m->gzip,
								body, body_len, &gzipped, &status, &why))
	{
		*body = NULL;
		return text_response(out, status, why, m->head_only, m->keep_alive,
							 status == 503 ? "Retry-After: 5\r\n" : NULL);
	}

	/* the headers here, the body sent from the collection as it is */
	append_response(out, 200,
					m->protobuf ? CONTENT_TYPE_PROTOBUF :
					m->openmetrics ? CONTENT_TYPE_OPENMETRICS : CONTENT_TYPE_METRICS,
					NULL, *body_len, true, m->keep_alive,
					gzipped ? "Content-Encoding: gzip\r\n" VARY_METRICS : VARY_METRICS);
	if (m->head_only)
	{
		*body = NULL;
		*body_len = 0;
	}
	return 200;
}

void
pgprom_respond_error(int status, StringInfo out, bool head_only)
{
	char		body[64];

	snprintf(body, sizeof(body), "%s\n", pgprom_http_reason(status));
	append_response(out, status, CONTENT_TYPE_TEXT, body, strlen(body),
					head_only, false,
					status == 503 ? "Retry-After: 1\r\n" : NULL);
}

static void
append_response(StringInfo out, int status, const char *content_type,
				const char *body, size_t body_len, bool head_only,
				bool keep_alive, const char *extra_headers)
{
	appendStringInfo(out,
					 "HTTP/1.1 %d %s\r\n"
					 "Content-Type: %s\r\n"
					 "Content-Length: %zu\r\n"
					 "Connection: %s\r\n"
					 "Cache-Control: no-store\r\n"
					 "%s"
					 "\r\n",
					 status, pgprom_http_reason(status), content_type, body_len,
					 keep_alive ? "keep-alive" : "close",
					 extra_headers ? extra_headers : "");
	if (!head_only && body != NULL)
		appendBinaryStringInfo(out, body, body_len);
}

/*
 * node_exporter-style collect[]=name parameters select a subset of the
 * enabled collectors; none means all of them.  False for an unknown name
 * or a malformed query.
 */
static bool
collectors_of(const HttpRequest *req, uint64 *mask)
{
	char		names[PGPROM_MAX_COLLECTORS][64];
	int			n = pgprom_http_query_values(req->query, "collect[]", names,
											 PGPROM_MAX_COLLECTORS);
	int			i;
	int			j;

	*mask = pgprom_collector_mask;
	if (n < 0)
		return false;
	if (n == 0)
		return true;
	*mask = 0;
	for (i = 0; i < n; i++)
	{
		for (j = 0; j < pgprom_num_collectors; j++)
			if (strcmp(names[i], pgprom_collectors[j].name) == 0)
				break;
		if (j == pgprom_num_collectors)
			return false;
		*mask |= UINT64CONST(1) << j;
	}
	*mask &= pgprom_collector_mask;
	return true;
}
