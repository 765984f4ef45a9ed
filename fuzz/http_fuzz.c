/*-------------------------------------------------------------------------
 *
 * http_fuzz.c
 *		libFuzzer harness for pg_prom's HTTP request parser (src/http.c).
 *
 * The parser is pure C, so it is fuzzed exactly as the extension builds
 * it, under AddressSanitizer and UndefinedBehaviorSanitizer.  Besides
 * memory errors, the harness checks the parser's promises: a parsed
 * request consumed at least one and at most all bytes, has an absolute
 * path within bounds and a known version; an error carries a 4xx/5xx
 * status; and parsing a prefix never succeeds where it needs more bytes
 * than it was given.  Pipelined requests are parsed one after another.
 *
 *-------------------------------------------------------------------------
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/http.h"

#define CHECK(cond) \
	do { if (!(cond)) { fprintf(stderr, "check failed: %s\n", #cond); abort(); } } while (0)

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* a private copy, so reading past the end is caught exactly */
	char	   *buf = malloc(size ? size : 1);
	size_t		offset = 0;
	int			requests = 0;

	memcpy(buf, data, size);
	while (offset <= size && requests < 64)
	{
		HttpRequest req;
		size_t		consumed = 0;
		int			status = 0;
		HttpParseResult r = pgprom_http_parse_request(buf + offset, size - offset,
													  &req, &consumed, &status);

		if (r == HTTP_PARSE_OK)
		{
			CHECK(consumed > 0 && consumed <= size - offset);
			CHECK(req.path[0] == '/');
			CHECK(strlen(req.path) <= HTTP_MAX_PATH);
			CHECK(strlen(req.query) <= HTTP_MAX_QUERY);
			CHECK(strlen(req.authorization) <= HTTP_MAX_AUTHORIZATION);
			CHECK(req.has_authorization || req.authorization[0] == '\0');
			if (req.has_authorization)
			{
				char		user[64];
				char		password[256];
				char		token[256];

				if (pgprom_http_parse_basic(req.authorization, user, sizeof(user),
											password, sizeof(password)))
				{
					CHECK(user[0] != '\0' && strlen(user) < sizeof(user));
					CHECK(strlen(password) < sizeof(password));
				}
				if (pgprom_http_parse_bearer(req.authorization, token, sizeof(token)))
					CHECK(token[0] != '\0' && strlen(token) < sizeof(token));
			}
			CHECK(req.minor_version == 0 || req.minor_version == 1);
			CHECK(req.method == HTTP_METHOD_GET || req.method == HTTP_METHOD_HEAD ||
				  req.method == HTTP_METHOD_OTHER);
			CHECK(pgprom_http_reason(200)[0] != '\0');
			{
				char		values[8][64];
				int			n = pgprom_http_query_values(req.query, "collect[]", values, 8);
				int			k;

				CHECK(n >= -1 && n <= 8);
				for (k = 0; k < n; k++)
					CHECK(strlen(values[k]) < 64);
			}
			offset += consumed;
			requests++;
			continue;
		}
		if (r == HTTP_PARSE_ERROR)
		{
			CHECK(status >= 400 && status <= 505);
			CHECK(strcmp(pgprom_http_reason(status), "Unknown") != 0);
		}
		else
		{
			CHECK(r == HTTP_PARSE_INCOMPLETE);
			/* an incomplete request stays within what a buffer may hold */
			CHECK(size - offset <= HTTP_MAX_REQUEST);
		}
		break;
	}
	free(buf);
	return 0;
}
