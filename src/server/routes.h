/*-------------------------------------------------------------------------
 *
 * routes.h
 *		The endpoint's routes and the responses they produce.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PG_PROM_ROUTES_H
#define PG_PROM_ROUTES_H

#include "lib/stringinfo.h"

#include "server/collect.h"
#include "server/http.h"

/* Paths the endpoint answers besides pg_prom.metrics_path; NULL-terminated. */
extern const char *const pgprom_fixed_routes[];

/* A request for the metrics, kept while its collection runs. */
typedef struct MetricsRequest
{
	uint64		mask;			/* collectors (collect[] or all enabled) */
	bool		head_only;
	bool		openmetrics;
	bool		protobuf;		/* with native histograms (mask says so) */
	bool		gzip;
	bool		keep_alive;
} MetricsRequest;

/*
 * Answer req.  Either the whole response is built in out and its status
 * returned, or 0 is returned with *metrics filled in: the caller then
 * waits for a collection of metrics->mask and calls pgprom_respond_metrics.
 * keep_alive is in/out: the caller's wish, cleared when the connection
 * must close.
 */
extern int	pgprom_respond(const HttpRequest *req, const char *client,
						   StringInfo out, bool *keep_alive,
						   MetricsRequest *metrics);

/*
 * The response to a metrics request from a finished collection: headers
 * (and any error body) in out, the body itself as a pointer into the
 * collection, which the caller keeps a reference on while sending.
 */
extern int	pgprom_respond_metrics(const MetricsRequest *m, Collection *c,
								   StringInfo out, const char **body,
								   size_t *body_len);

/* A response for a request that could not be parsed; always closes. */
extern void pgprom_respond_error(int status, StringInfo out, bool head_only);

#endif							/* PG_PROM_ROUTES_H */
