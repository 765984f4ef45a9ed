/*-------------------------------------------------------------------------
 *
 * respond.c
 *		Routes of the HTTP endpoint and the responses they produce.
 *
 * Fixed routes only; nothing from the request reaches SQL or the renderer
 * except the choice of route and of collectors (collect[]=name, checked
 * against the collector table):
 *	pg_prom.metrics_path	GET/HEAD: the exposition text (renders)
 *	/						GET/HEAD: a small HTML landing page
 *	/health					GET/HEAD: 200 "OK" while the worker runs
 *	/ready					200 when the worker can open a transaction, else 503
 *	/primary, /replica		200 when the server has that role, else 503
 * The metrics path alone is behind pg_prom.auth_method: the landing page
 * and the health check reveal nothing and load balancers probe them.
 * Other paths get 404; other methods on these paths 405 with Allow.
 * Runs only in the worker; rendering opens its own transaction.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <zlib.h>

#include "utils/memutils.h"

#include "access/xlog.h"

#include "guc.h"
#include "scrape/collectors/collectors.h"
#include "scrape/openmetrics.h"
#include "scrape/render.h"
#include "server/auth.h"
#include "server/respond.h"
#include "shmem.h"
#include "txn.h"

#define CONTENT_TYPE_METRICS "text/plain; version=0.0.4; charset=utf-8"
#define CONTENT_TYPE_TEXT "text/plain; charset=utf-8"
/* the metrics' format and compression depend on these request headers */
#define VARY_METRICS "Vary: Accept, Accept-Encoding\r\n"
#define CONTENT_TYPE_HTML "text/html; charset=utf-8"

/* Smaller bodies are not worth compressing. */
#define GZIP_MIN_BYTES 1024

const char *const pgprom_fixed_routes[] = {
	"/", "/health", "/ready", "/primary", "/replica", NULL
};

static void append_response(StringInfo out, int status,
							const char *content_type, const char *body,
							int body_len, bool head_only, bool keep_alive,
							const char *extra_headers);
static bool render_metrics(StringInfo body, uint64 mask);
static void noop(void *arg);
static bool collectors_of(const HttpRequest *req, uint64 *mask);
static bool gzip(const char *data, int len, StringInfo out);

/*
 * Build the response to req into out; returns the status code.  keep_alive
 * is in/out: the caller's wish, cleared when the connection must close.
 */
int
pgprom_respond(const HttpRequest *req, const char *client, StringInfo out,
			   bool *keep_alive)
{
	bool		head_only = (req->method == HTTP_METHOD_HEAD);
	bool		is_metrics = strcmp(req->path, pgprom_metrics_path) == 0;
	bool		is_root = strcmp(req->path, "/") == 0;
	bool		is_health = strcmp(req->path, "/health") == 0;
	bool		is_ready = strcmp(req->path, "/ready") == 0;
	bool		is_primary = strcmp(req->path, "/primary") == 0;
	bool		is_replica = strcmp(req->path, "/replica") == 0;

	if (!is_metrics && !is_root && !is_health && !is_ready && !is_primary &&
		!is_replica)
	{
		if (req->has_body)
			*keep_alive = false;
		append_response(out, 404, CONTENT_TYPE_TEXT, "Not Found\n", 10,
						head_only, *keep_alive, NULL);
		return 404;
	}
	if (req->method == HTTP_METHOD_OTHER)
	{
		/* a body we do not read would be taken for the next request */
		*keep_alive = *keep_alive && !req->has_body;
		append_response(out, 405, CONTENT_TYPE_TEXT,
						"Method Not Allowed\n", 19, false, *keep_alive,
						"Allow: GET, HEAD\r\n");
		return 405;
	}
	if (req->has_body)
	{
		*keep_alive = false;
		append_response(out, 413, CONTENT_TYPE_TEXT,
						"Request bodies are not accepted.\n", 33,
						head_only, false, NULL);
		return 413;
	}

	if (is_health)
	{
		append_response(out, 200, CONTENT_TYPE_TEXT, "OK\n", 3, head_only,
						*keep_alive, NULL);
		return 200;
	}
	if (is_ready)
	{
		/* ready: the worker can open a transaction in its database */
		bool		ready = pgprom_in_transaction("pg_prom readiness check", noop, NULL);
		const char *text = ready ? "READY\n" : "NOT READY\n";

		append_response(out, ready ? 200 : 503, CONTENT_TYPE_TEXT, text,
						strlen(text), head_only, *keep_alive, NULL);
		return ready ? 200 : 503;
	}
	if (is_primary || is_replica)
	{
		/* for HAProxy/Patroni-style checks: 200 when the role matches */
		bool		replica = RecoveryInProgress();
		bool		match = is_replica ? replica : !replica;
		const char *text = replica ? "replica\n" : "primary\n";

		append_response(out, match ? 200 : 503, CONTENT_TYPE_TEXT, text,
						strlen(text), head_only, *keep_alive, NULL);
		return match ? 200 : 503;
	}
	if (is_root)
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

	/* the metrics, behind authentication when it is configured */
	{
		StringInfoData body;
		const char *content_type = CONTENT_TYPE_METRICS;
		int			denied = pgprom_authenticate(req, client);
		uint64		mask;

		if (denied == 401)
		{
			append_response(out, 401, CONTENT_TYPE_TEXT, "Unauthorized\n",
							strlen("Unauthorized\n"),
							head_only, *keep_alive, pgprom_auth_challenge());
			return 401;
		}
		if (denied != 0)
		{
			*keep_alive = false;
			append_response(out, denied, CONTENT_TYPE_TEXT,
							"Too many failed attempts; try again later.\n",
							strlen("Too many failed attempts; try again later.\n"),
							head_only, false, "Retry-After: 60\r\n");
			return denied;
		}

		if (!collectors_of(req, &mask))
		{
			static const char text[] = "Unknown collector in collect[].\n";

			append_response(out, 400, CONTENT_TYPE_TEXT, text, strlen(text),
							head_only, *keep_alive, NULL);
			return 400;
		}

		initStringInfo(&body);
		if (!render_metrics(&body, mask))
		{
			pfree(body.data);
			append_response(out, 500, CONTENT_TYPE_TEXT,
							"The scrape failed; see the server log.\n", 38,
							head_only, *keep_alive, NULL);
			return 500;
		}
		if (req->accept_openmetrics)
		{
			StringInfoData om;

			initStringInfo(&om);
			openmetrics_from_text(body.data, body.len, &om);
			pfree(body.data);
			body = om;
			content_type = CONTENT_TYPE_OPENMETRICS;
		}
		if (req->accept_gzip && body.len > GZIP_MIN_BYTES)
		{
			StringInfoData zipped;

			initStringInfo(&zipped);
			if (gzip(body.data, body.len, &zipped))
			{
				append_response(out, 200, content_type, zipped.data,
								zipped.len, head_only, *keep_alive,
								"Content-Encoding: gzip\r\n" VARY_METRICS);
				pfree(zipped.data);
				pfree(body.data);
				return 200;
			}
			pfree(zipped.data);
		}
		append_response(out, 200, content_type, body.data, body.len,
						head_only, *keep_alive, VARY_METRICS);
		pfree(body.data);
		return 200;
	}
}

/* A response for a request that could not be parsed; always closes. */
void
pgprom_respond_error(int status, StringInfo out, bool head_only)
{
	char		body[64];

	snprintf(body, sizeof(body), "%s\n", http_reason(status));
	append_response(out, status, CONTENT_TYPE_TEXT, body, strlen(body),
					head_only, false, NULL);
}

static void
append_response(StringInfo out, int status, const char *content_type,
				const char *body, int body_len, bool head_only,
				bool keep_alive, const char *extra_headers)
{
	appendStringInfo(out,
					 "HTTP/1.1 %d %s\r\n"
					 "Content-Type: %s\r\n"
					 "Content-Length: %d\r\n"
					 "Connection: %s\r\n"
					 "Cache-Control: no-store\r\n"
					 "%s"
					 "\r\n",
					 status, http_reason(status), content_type, body_len,
					 keep_alive ? "keep-alive" : "close",
					 extra_headers ? extra_headers : "");
	if (!head_only)
		appendBinaryStringInfo(out, body, body_len);
}

typedef struct RenderRequest
{
	StringInfo	body;
	uint64		mask;
} RenderRequest;

static void
render_callback(void *arg)
{
	RenderRequest *r = (RenderRequest *) arg;

	pgprom_render_subset(r->body, r->mask);
}

static void
noop(void *arg)
{
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
	int			n = http_query_values(req->query, "collect[]", names,
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

/* gzip-compress data into out (RFC 1952); false if zlib fails. */
static bool
gzip(const char *data, int len, StringInfo out)
{
	z_stream	z;
	int			rc;

	memset(&z, 0, sizeof(z));
	/* 15 + 16: a gzip wrapper; level 1: scrapes favour speed */
	if (deflateInit2(&z, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return false;
	enlargeStringInfo(out, (int) deflateBound(&z, len));
	z.next_in = (Bytef *) data;
	z.avail_in = len;
	z.next_out = (Bytef *) out->data;
	z.avail_out = out->maxlen - 1;
	rc = deflate(&z, Z_FINISH);
	out->len = (int) z.total_out;
	deflateEnd(&z);
	return rc == Z_STREAM_END;
}

/*
 * Render inside a transaction of our own.  An error that escapes the
 * renderer's per-collector isolation aborts the transaction, is logged,
 * and turns into a 500 for this request only.
 */
static bool
render_metrics(StringInfo body, uint64 mask)
{
	RenderRequest r = {body, mask};

	return pgprom_in_transaction("pg_prom scrape", render_callback, &r);
}
