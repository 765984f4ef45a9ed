/*-------------------------------------------------------------------------
 *
 * http.h
 *		A small, bounded HTTP/1.x request parser.
 *
 * Pure C with no PostgreSQL dependency, so the same file is built into the
 * extension and into fuzzing harnesses.  It never allocates, never reads
 * beyond the length it is given, and treats every byte as hostile.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PG_PROM_HTTP_H
#define PG_PROM_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#define HTTP_MAX_REQUEST_LINE 4096	/* longer: 414 */
#define HTTP_MAX_HEADER_BYTES 8192	/* header section, longer: 431 */
#define HTTP_MAX_HEADERS 64		/* more header lines: 431 */
#define HTTP_MAX_PATH 1024
#define HTTP_MAX_QUERY 1024
#define HTTP_MAX_AUTHORIZATION 1024 /* longer Authorization: 431 */
/* Largest request the parser can accept; size input buffers for it. */
#define HTTP_MAX_REQUEST (HTTP_MAX_REQUEST_LINE + HTTP_MAX_HEADER_BYTES + 8)

typedef enum HttpMethod
{
	HTTP_METHOD_GET,
	HTTP_METHOD_HEAD,
	HTTP_METHOD_OTHER
} HttpMethod;

typedef struct HttpRequest
{
	HttpMethod	method;
	int			minor_version;	/* HTTP/1.0 or HTTP/1.1 */
	bool		keep_alive;
	bool		has_body;		/* Content-Length > 0 or Transfer-Encoding */
	char		path[HTTP_MAX_PATH + 1];
	char		query[HTTP_MAX_QUERY + 1];
	bool		accept_gzip;	/* Accept-Encoding lists gzip */
	bool		accept_openmetrics; /* Accept prefers OpenMetrics text */
	bool		accept_protobuf;	/* Accept prefers the protobuf format */
	bool		has_authorization;
	char		authorization[HTTP_MAX_AUTHORIZATION + 1];	/* the header's value */
} HttpRequest;

typedef enum HttpParseResult
{
	HTTP_PARSE_INCOMPLETE,		/* need more bytes */
	HTTP_PARSE_OK,				/* *req filled, *consumed bytes used */
	HTTP_PARSE_ERROR			/* *status says which 4xx/5xx to answer */
} HttpParseResult;

extern HttpParseResult pgprom_http_parse_request(const char *buf, size_t len,
												 HttpRequest *req, size_t *consumed,
												 int *status);
extern const char *pgprom_http_reason(int status);

/* Credentials of an Authorization header value; false when malformed. */
extern bool pgprom_http_parse_basic(const char *value, char *user, size_t user_size,
									char *password, size_t password_size);
extern bool pgprom_http_parse_bearer(const char *value, char *token, size_t token_size);

/*
 * The URL-decoded values of every key=value pair of a query string whose
 * decoded key is key (e.g. "collect[]"); returns how many were found (at
 * most max, each truncated to value_size - 1), or -1 if the query is
 * malformed (a bad %-escape, a NUL).
 */
extern int	pgprom_http_query_values(const char *query, const char *key,
									 char values[][64], int max);

#endif							/* PG_PROM_HTTP_H */
