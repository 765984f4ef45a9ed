/*-------------------------------------------------------------------------
 *
 * http.c
 *		A small, bounded HTTP/1.x request parser (RFC 9112 subset).
 *
 * What it accepts: origin-form GET/HEAD/other-method requests, HTTP/1.0
 * and 1.1, CRLF or bare LF line ends, up to HTTP_MAX_HEADERS header lines.
 * What it refuses, with the status to answer:
 *	- a request line longer than HTTP_MAX_REQUEST_LINE: 414
 *	- a header section longer than HTTP_MAX_HEADER_BYTES or with more than
 *	  HTTP_MAX_HEADERS lines: 431
 *	- any control byte (NUL included) outside its place, a malformed
 *	  request line or header, obs-fold, a bad or conflicting Content-Length,
 *	  a missing or repeated Host in HTTP/1.1, a target that is not
 *	  origin-form, two Authorization headers: 400
 *	- an HTTP version other than 1.0 and 1.1: 505
 * Bodies are never read: a request announcing one is reported through
 * has_body and the caller answers it and closes the connection.
 *
 * The function is re-entrant and allocation-free; it may be called again
 * with a longer buffer after HTTP_PARSE_INCOMPLETE.
 *
 *-------------------------------------------------------------------------
 */
#include <string.h>

#include "server/http.h"

/* RFC 9110 token characters */
static bool
is_tchar(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static unsigned char
lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}

static bool
equals_ci(const char *a, size_t alen, const char *b)
{
	size_t		blen = strlen(b);
	size_t		i;

	if (alen != blen)
		return false;
	for (i = 0; i < alen; i++)
		if (lower((unsigned char) a[i]) != lower((unsigned char) b[i]))
			return false;
	return true;
}

/* Find the next '\n' in [p, end); NULL if none. */
static const char *
find_lf(const char *p, const char *end)
{
	return memchr(p, '\n', end - p);
}

/* Length of a line without its CR LF or LF. */
static size_t
line_length(const char *start, const char *lf)
{
	size_t		n = lf - start;

	if (n > 0 && start[n - 1] == '\r')
		n--;
	return n;
}

static bool
parse_request_line(const char *line, size_t n, HttpRequest *req, int *status)
{
	const char *end = line + n;
	const char *p = line;
	const char *method;
	const char *target;
	size_t		mlen;
	size_t		tlen;
	size_t		i;
	const char *q;

	*status = 400;
	method = p;
	while (p < end && is_tchar((unsigned char) *p))
		p++;
	mlen = p - method;
	if (mlen == 0 || mlen > 16 || p >= end || *p != ' ')
		return false;
	p++;

	target = p;
	while (p < end && *p != ' ')
	{
		unsigned char c = (unsigned char) *p;

		if (c <= 0x20 || c == 0x7f)
			return false;
		p++;
	}
	tlen = p - target;
	if (tlen == 0 || p >= end)
		return false;
	p++;

	if (end - p != 8 || memcmp(p, "HTTP/", 5) != 0 ||
		p[5] < '0' || p[5] > '9' || p[6] != '.' || p[7] < '0' || p[7] > '9')
		return false;
	if (p[5] != '1' || (p[7] != '0' && p[7] != '1'))
	{
		*status = 505;
		return false;
	}
	req->minor_version = p[7] - '0';

	if (mlen == 3 && memcmp(method, "GET", 3) == 0)
		req->method = HTTP_METHOD_GET;
	else if (mlen == 4 && memcmp(method, "HEAD", 4) == 0)
		req->method = HTTP_METHOD_HEAD;
	else
		req->method = HTTP_METHOD_OTHER;

	/* origin-form only: "/path[?query]" */
	if (target[0] != '/')
		return false;
	q = memchr(target, '?', tlen);
	if (q == NULL)
		q = target + tlen;
	if ((size_t) (q - target) > HTTP_MAX_PATH)
	{
		*status = 414;
		return false;
	}
	memcpy(req->path, target, q - target);
	req->path[q - target] = '\0';
	if (q < target + tlen)
	{
		size_t		qlen = target + tlen - q - 1;

		if (qlen > HTTP_MAX_QUERY)
		{
			*status = 414;
			return false;
		}
		memcpy(req->query, q + 1, qlen);
		req->query[qlen] = '\0';
	}
	for (i = 0; req->path[i]; i++)
		if (req->path[i] == '#')
			return false;
	return true;
}

/* Parse a Content-Length value: digits only, bounded. */
static bool
parse_content_length(const char *v, size_t n, unsigned long long *out)
{
	unsigned long long value = 0;
	size_t		i;

	if (n == 0 || n > 18)
		return false;
	for (i = 0; i < n; i++)
	{
		if (v[i] < '0' || v[i] > '9')
			return false;
		value = value * 10 + (v[i] - '0');
	}
	*out = value;
	return true;
}

/* Apply the tokens of a Connection header to keep_alive. */
static void
parse_connection(const char *v, size_t n, HttpRequest *req)
{
	size_t		i = 0;

	while (i < n)
	{
		size_t		start;
		size_t		stop;

		while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		start = i;
		while (i < n && v[i] != ',')
			i++;
		stop = i;
		while (stop > start && (v[stop - 1] == ' ' || v[stop - 1] == '\t'))
			stop--;
		if (equals_ci(v + start, stop - start, "close"))
			req->keep_alive = false;
		else if (equals_ci(v + start, stop - start, "keep-alive"))
			req->keep_alive = true;
	}
}

/*
 * One element of a comma-separated header list with its parameters, as in
 * Accept ("application/openmetrics-text; version=1.0.0; q=0.9") and
 * Accept-Encoding ("gzip;q=0").
 */
typedef struct ListElement
{
	const char *value;			/* the media range or coding, trimmed */
	size_t		value_len;
	int			q;				/* quality in thousandths; 1000 when absent */
	const char *version;		/* the version parameter, or NULL */
	size_t		version_len;
	const char *proto;			/* the proto parameter, or NULL */
	size_t		proto_len;
	const char *encoding;		/* the encoding parameter, or NULL */
	size_t		encoding_len;
} ListElement;

static void
trim(const char **s, const char **e)
{
	while (*s < *e && (**s == ' ' || **s == '\t'))
		(*s)++;
	while (*e > *s && ((*e)[-1] == ' ' || (*e)[-1] == '\t'))
		(*e)--;
}

/*
 * A qvalue (RFC 9110 12.4.2: "0", "0.5", "1.000") in thousandths; a
 * malformed one counts as 0, which refuses the element.
 */
static int
parse_qvalue(const char *s, const char *e)
{
	int			q;
	int			scale = 100;

	if (s >= e || (*s != '0' && *s != '1'))
		return 0;
	q = (*s - '0') * 1000;
	s++;
	if (s < e && *s == '.')
	{
		for (s++; s < e && scale > 0; s++, scale /= 10)
		{
			if (*s < '0' || *s > '9')
				return 0;
			q += (*s - '0') * scale;
		}
	}
	if (s != e || q > 1000)
		return 0;
	return q;
}

/*
 * Parse the element of v[0..n) that starts at *pos and advance *pos past
 * it; false when there is none left.
 */
static bool
next_element(const char *v, size_t n, size_t *pos, ListElement *el)
{
	const char *end = v + n;
	const char *s;
	const char *e;
	const char *param;

	while (*pos < n && (v[*pos] == ' ' || v[*pos] == '\t' || v[*pos] == ','))
		(*pos)++;
	if (*pos >= n)
		return false;
	s = v + *pos;
	e = memchr(s, ',', end - s);
	if (e == NULL)
		e = end;
	*pos = e - v;

	el->q = 1000;
	el->version = NULL;
	el->version_len = 0;
	el->proto = NULL;
	el->proto_len = 0;
	el->encoding = NULL;
	el->encoding_len = 0;
	param = memchr(s, ';', e - s);
	el->value = s;
	{
		const char *ve = param ? param : e;

		trim(&el->value, &ve);
		el->value_len = ve - el->value;
	}
	while (param != NULL)
	{
		const char *ps = param + 1;
		const char *pe = memchr(ps, ';', e - ps);
		const char *eq;

		param = pe;
		if (pe == NULL)
			pe = e;
		eq = memchr(ps, '=', pe - ps);
		if (eq == NULL)
			continue;
		{
			const char *ns = ps;
			const char *ne = eq;
			const char *vs = eq + 1;
			const char *vend = pe;

			trim(&ns, &ne);
			trim(&vs, &vend);
			if (vend - vs >= 2 && *vs == '"' && vend[-1] == '"')
			{
				vs++;
				vend--;
			}
			if (equals_ci(ns, ne - ns, "q"))
				el->q = parse_qvalue(vs, vend);
			else if (equals_ci(ns, ne - ns, "version"))
			{
				el->version = vs;
				el->version_len = vend - vs;
			}
			else if (equals_ci(ns, ne - ns, "proto"))
			{
				el->proto = vs;
				el->proto_len = vend - vs;
			}
			else if (equals_ci(ns, ne - ns, "encoding"))
			{
				el->encoding = vs;
				el->encoding_len = vend - vs;
			}
		}
	}
	return true;
}

/*
 * Whether an Accept-Encoding value lists gzip (or *) with a non-zero
 * quality.
 */
static bool
accepts_gzip(const char *v, size_t n)
{
	size_t		pos = 0;
	ListElement el;

	while (next_element(v, n, &pos, &el))
	{
		if (el.q > 0 &&
			(equals_ci(el.value, el.value_len, "gzip") ||
			 equals_ci(el.value, el.value_len, "*")))
			return true;
	}
	return false;
}

/* What a media range of Accept is to pg_prom. */
typedef enum MediaKind
{
	MEDIA_OTHER,
	MEDIA_TEXT,					/* text/plain and the wildcards */
	MEDIA_OPENMETRICS,			/* 1.0.0, or the 0.0.1 draft */
	MEDIA_PROTOBUF,				/* delimited MetricFamily messages */
	NUM_MEDIA_KINDS
} MediaKind;

static MediaKind
media_kind(const ListElement *el)
{
	if (equals_ci(el->value, el->value_len, "application/openmetrics-text"))
		return (el->version == NULL ||
				equals_ci(el->version, el->version_len, "1.0.0") ||
				equals_ci(el->version, el->version_len, "0.0.1")) ?
			MEDIA_OPENMETRICS : MEDIA_OTHER;
	if (equals_ci(el->value, el->value_len, "application/vnd.google.protobuf"))
		return (el->proto && el->encoding &&
				el->proto_len == strlen("io.prometheus.client.MetricFamily") &&
				memcmp(el->proto, "io.prometheus.client.MetricFamily", el->proto_len) == 0 &&
				equals_ci(el->encoding, el->encoding_len, "delimited")) ?
			MEDIA_PROTOBUF : MEDIA_OTHER;
	if (equals_ci(el->value, el->value_len, "text/plain") ||
		equals_ci(el->value, el->value_len, "text/*") ||
		equals_ci(el->value, el->value_len, "*/*"))
		return MEDIA_TEXT;
	return MEDIA_OTHER;
}

/*
 * The format an Accept value prefers among those pg_prom serves: the one
 * of highest quality, protobuf then OpenMetrics on a tie (Prometheus 2.x
 * lists OpenMetrics first at q=1, text/plain at q=0.5 and any type at
 * q=0.1, and protobuf first when native histograms are on; curl and
 * browsers list only wildcards, and get the classic text).
 */
static void
preferred_format(const char *v, size_t n, HttpRequest *req)
{
	size_t		pos = 0;
	ListElement el;
	int			q[NUM_MEDIA_KINDS] = {0};

	while (next_element(v, n, &pos, &el))
	{
		MediaKind	k = media_kind(&el);

		if (el.q > q[k])
			q[k] = el.q;
	}
	req->accept_protobuf = q[MEDIA_PROTOBUF] > 0 &&
		q[MEDIA_PROTOBUF] >= q[MEDIA_OPENMETRICS] &&
		q[MEDIA_PROTOBUF] >= q[MEDIA_TEXT];
	req->accept_openmetrics = q[MEDIA_OPENMETRICS] > 0 &&
		q[MEDIA_OPENMETRICS] >= q[MEDIA_TEXT];
}

HttpParseResult
pgprom_http_parse_request(const char *buf, size_t len, HttpRequest *req,
						  size_t *consumed, int *status)
{
	const char *p = buf;
	const char *end = buf + len;
	const char *lf;
	const char *headers_start;
	int			nheaders = 0;
	int			nhost = 0;
	bool		have_length = false;
	unsigned long long content_length = 0;

	memset(req, 0, sizeof(*req));
	*consumed = 0;
	*status = 0;

	/* RFC 9112 2.2: ignore a few empty lines before the request line. */
	while (p < end && p - buf < 4 && (*p == '\r' || *p == '\n'))
		p++;

	lf = find_lf(p, end);
	if (lf == NULL)
	{
		if ((size_t) (end - p) > HTTP_MAX_REQUEST_LINE)
		{
			*status = 414;
			return HTTP_PARSE_ERROR;
		}
		return HTTP_PARSE_INCOMPLETE;
	}
	if (line_length(p, lf) > HTTP_MAX_REQUEST_LINE)
	{
		*status = 414;
		return HTTP_PARSE_ERROR;
	}
	if (!parse_request_line(p, line_length(p, lf), req, status))
		return HTTP_PARSE_ERROR;
	req->keep_alive = (req->minor_version == 1);

	p = lf + 1;
	headers_start = p;
	for (;;)
	{
		size_t		n;
		const char *colon;
		const char *v;
		const char *vend;
		size_t		i;

		lf = find_lf(p, end);
		if (lf == NULL)
		{
			if ((size_t) (end - headers_start) > HTTP_MAX_HEADER_BYTES)
			{
				*status = 431;
				return HTTP_PARSE_ERROR;
			}
			return HTTP_PARSE_INCOMPLETE;
		}
		if ((size_t) (lf + 1 - headers_start) > HTTP_MAX_HEADER_BYTES)
		{
			*status = 431;
			return HTTP_PARSE_ERROR;
		}
		n = line_length(p, lf);
		if (n == 0)
		{
			p = lf + 1;
			break;				/* end of the header section */
		}
		if (++nheaders > HTTP_MAX_HEADERS)
		{
			*status = 431;
			return HTTP_PARSE_ERROR;
		}

		*status = 400;
		/* no obs-fold, no control bytes, a token before the colon */
		colon = memchr(p, ':', n);
		if (colon == NULL || colon == p)
			return HTTP_PARSE_ERROR;
		for (i = 0; p + i < colon; i++)
			if (!is_tchar((unsigned char) p[i]))
				return HTTP_PARSE_ERROR;
		v = colon + 1;
		vend = p + n;
		for (i = 0; v + i < vend; i++)
		{
			unsigned char c = (unsigned char) v[i];

			if ((c < 0x20 && c != '\t') || c == 0x7f)
				return HTTP_PARSE_ERROR;
		}
		while (v < vend && (*v == ' ' || *v == '\t'))
			v++;
		while (vend > v && (vend[-1] == ' ' || vend[-1] == '\t'))
			vend--;

		if (equals_ci(p, colon - p, "host"))
			nhost++;
		else if (equals_ci(p, colon - p, "connection"))
			parse_connection(v, vend - v, req);
		else if (equals_ci(p, colon - p, "content-length"))
		{
			unsigned long long value;

			if (!parse_content_length(v, vend - v, &value) ||
				(have_length && value != content_length))
				return HTTP_PARSE_ERROR;
			have_length = true;
			content_length = value;
		}
		else if (equals_ci(p, colon - p, "transfer-encoding"))
			req->has_body = true;
		else if (equals_ci(p, colon - p, "accept-encoding"))
			req->accept_gzip = accepts_gzip(v, vend - v);
		else if (equals_ci(p, colon - p, "accept"))
			preferred_format(v, vend - v, req);
		else if (equals_ci(p, colon - p, "authorization"))
		{
			if (req->has_authorization)
				return HTTP_PARSE_ERROR;	/* two of them: ambiguous */
			if ((size_t) (vend - v) > HTTP_MAX_AUTHORIZATION)
			{
				*status = 431;
				return HTTP_PARSE_ERROR;
			}
			memcpy(req->authorization, v, vend - v);
			req->authorization[vend - v] = '\0';
			req->has_authorization = true;
		}

		p = lf + 1;
	}

	*status = 400;
	if (req->minor_version == 1 && nhost != 1)
		return HTTP_PARSE_ERROR;
	if (nhost > 1)
		return HTTP_PARSE_ERROR;
	if (content_length > 0)
		req->has_body = true;

	*status = 0;
	*consumed = p - buf;
	return HTTP_PARSE_OK;
}

const char *
pgprom_http_reason(int status)
{
	switch (status)
	{
		case 200:
			return "OK";
		case 400:
			return "Bad Request";
		case 401:
			return "Unauthorized";
		case 403:
			return "Forbidden";
		case 429:
			return "Too Many Requests";
		case 404:
			return "Not Found";
		case 405:
			return "Method Not Allowed";
		case 408:
			return "Request Timeout";
		case 413:
			return "Content Too Large";
		case 414:
			return "URI Too Long";
		case 431:
			return "Request Header Fields Too Large";
		case 500:
			return "Internal Server Error";
		case 501:
			return "Not Implemented";
		case 503:
			return "Service Unavailable";
		case 505:
			return "HTTP Version Not Supported";
		default:
			return "Unknown";
	}
}

/* The value after an auth scheme ("Basic", "Bearer"), or NULL. */
static const char *
after_scheme(const char *value, const char *scheme)
{
	size_t		n = strlen(scheme);

	if (!equals_ci(value, strnlen(value, n + 1) > n ? n : strlen(value), scheme) ||
		value[n] != ' ')
		return NULL;
	value += n;
	while (*value == ' ')
		value++;
	return *value ? value : NULL;
}

static int
base64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/*
 * "Basic base64(user:password)" (RFC 7617).  The decoded text must hold a
 * colon, a non-empty user, no NUL and no control byte, and fit the buffers.
 */
bool
pgprom_http_parse_basic(const char *value, char *user, size_t user_size,
						char *password, size_t password_size)
{
	const char *b64 = after_scheme(value, "Basic");
	unsigned char decoded[HTTP_MAX_AUTHORIZATION];
	size_t		n = 0;
	size_t		len;
	size_t		i;
	unsigned int acc = 0;
	int			bits = 0;
	int			padding = 0;
	unsigned char *colon;

	if (b64 == NULL || user_size == 0 || password_size == 0)
		return false;
	len = strlen(b64);
	if (len % 4 != 0)
		return false;
	for (i = 0; i < len; i++)
	{
		int			v;

		if (b64[i] == '=')
		{
			/* padding only at the very end, at most two */
			if (i < len - 2 || ++padding > 2)
				return false;
			continue;
		}
		if (padding > 0)
			return false;
		v = base64_value((unsigned char) b64[i]);
		if (v < 0)
			return false;
		acc = (acc << 6) | (unsigned int) v;
		bits += 6;
		if (bits >= 8)
		{
			bits -= 8;
			if (n >= sizeof(decoded))
				return false;
			decoded[n++] = (unsigned char) ((acc >> bits) & 0xFF);
		}
	}

	for (i = 0; i < n; i++)
		if (decoded[i] < 0x20 || decoded[i] == 0x7f)
			return false;
	colon = memchr(decoded, ':', n);
	if (colon == NULL || colon == decoded)
		return false;
	if ((size_t) (colon - decoded) >= user_size ||
		n - (size_t) (colon - decoded) - 1 >= password_size)
		return false;
	memcpy(user, decoded, colon - decoded);
	user[colon - decoded] = '\0';
	memcpy(password, colon + 1, n - (colon - decoded) - 1);
	password[n - (colon - decoded) - 1] = '\0';
	return true;
}

/* "Bearer token" (RFC 6750): token68 characters only. */
bool
pgprom_http_parse_bearer(const char *value, char *token, size_t token_size)
{
	const char *t = after_scheme(value, "Bearer");
	size_t		len;
	size_t		i;

	if (t == NULL)
		return false;
	len = strlen(t);
	if (len == 0 || len >= token_size)
		return false;
	for (i = 0; i < len; i++)
	{
		unsigned char c = (unsigned char) t[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			  (c >= '0' && c <= '9') || strchr("-._~+/=", c)))
			return false;
	}
	memcpy(token, t, len + 1);
	return true;
}

static int
hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = lower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* URL-decode [s, end) into out (size > 0); false on a bad escape or NUL. */
static bool
url_decode(const char *s, const char *end, char *out, size_t size)
{
	size_t		n = 0;

	while (s < end)
	{
		int			c = (unsigned char) *s;

		if (c == '%')
		{
			int			hi;
			int			lo;

			if (end - s < 3 || (hi = hex_value(s[1])) < 0 || (lo = hex_value(s[2])) < 0)
				return false;
			c = hi * 16 + lo;
			s += 3;
		}
		else
		{
			if (c == '+')
				c = ' ';
			s++;
		}
		if (c == 0)
			return false;
		if (n + 1 < size)
			out[n++] = (char) c;
	}
	out[n] = '\0';
	return true;
}

int
pgprom_http_query_values(const char *query, const char *key, char values[][64], int max)
{
	const char *p = query;
	int			found = 0;

	while (*p)
	{
		const char *amp = strchr(p, '&');
		const char *end = amp ? amp : p + strlen(p);
		const char *eq = memchr(p, '=', end - p);
		char		k[64];

		if (eq != NULL)
		{
			if (!url_decode(p, eq, k, sizeof(k)))
				return -1;
			if (strcmp(k, key) == 0)
			{
				char		v[64];

				if (!url_decode(eq + 1, end, v, sizeof(v)))
					return -1;
				if (found < max)
					memcpy(values[found++], v, sizeof(v));
			}
		}
		p = amp ? amp + 1 : end;
	}
	return found;
}
