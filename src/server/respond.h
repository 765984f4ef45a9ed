/*-------------------------------------------------------------------------
 *
 * respond.h
 *		Turn a parsed HTTP request into a complete response.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PG_PROM_RESPOND_H
#define PG_PROM_RESPOND_H

#include "lib/stringinfo.h"

#include "server/http.h"

extern int	pgprom_respond(const HttpRequest *req, const char *client,
						   StringInfo out, bool *keep_alive);
/* Paths the endpoint answers besides pg_prom.metrics_path; NULL-terminated. */
extern const char *const pgprom_fixed_routes[];

extern void pgprom_respond_error(int status, StringInfo out,
								 bool head_only);

#endif							/* PG_PROM_RESPOND_H */
