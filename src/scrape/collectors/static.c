/*-------------------------------------------------------------------------
 *
 * static.c
 *		Facts about the server process: pg_up, pg_static, build info and
 *		the postmaster's start time.
 *
 * None of these touches SQL: they come from the server's own globals, so
 * they are present even when every other collector fails.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/timestamp.h"

#include "guc.h"
#include "scrape/collectors/collectors.h"

/*
 * pg_up is 1 by construction: the renderer runs inside the server.  When
 * the server is down nothing answers, and Prometheus' own "up" says so.
 */
void
pgprom_collect_static(PromWriter *w)
{
	const char *vnum = GetConfigOption("server_version_num", false, false);
	char	   *version = text_to_cstring(DatumGetTextPP(DirectFunctionCall1(pgsql_version,
																			 (Datum) 0)));
	char		short_version[32];
	long		num = strtol(vnum, NULL, 10);

	/* postgres_exporter's semver form of the server version: 15.20.0 */
	snprintf(short_version, sizeof(short_version), "%ld.%ld.0",
			 num / 10000, num % 100);

	if (pgprom_expo_family(w, "pg_up",
						   "Whether the server answered this scrape (always 1 from inside it).",
						   PROM_GAUGE))
		pgprom_expo_value(w, 1);

	if (pgprom_expo_family(w, "pg_static", "Version string as reported by postgres",
						   PROM_UNTYPED))
		pgprom_expo_value2(w, "short_version", short_version, "version", version, 1);

	if (pgprom_expo_family(w, "pg_prom_build_info",
						   "pg_prom build information; always 1.", PROM_GAUGE))
		pgprom_expo_value2(w, "version", PG_PROM_VERSION,
						   "pg_version", PG_VERSION, 1);
}

void
pgprom_collect_postmaster(PromWriter *w)
{
	if (pgprom_expo_family(w, "pg_postmaster_start_time_seconds",
						   "Time at which postmaster started, in seconds since the Unix epoch.",
						   PROM_GAUGE))
		pgprom_expo_value(w, (double) timestamptz_to_time_t(PgStartTime) +
						  (double) (PgStartTime % USECS_PER_SEC) / USECS_PER_SEC);
}
