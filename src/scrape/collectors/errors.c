/*-------------------------------------------------------------------------
 *
 * errors.c
 *		pg_errors_total{severity, sqlstate_class}, pg_error_codes_total
 *		{sqlstate, condition} and pg_auth_attempts_total{result, method}:
 *		counters fed by the emit_log and authentication hooks (hooks.c).
 *
 * Errors are counted as the server reports them to its log: an error
 * caught without being re-thrown (PL/pgSQL EXCEPTION blocks, savepoints
 * rolled back by a driver's retry logic) and anything below
 * log_min_messages is never reported, so never counted.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/elog.h"

#include "backend/hooks.h"
#include "scrape/collectors/collectors.h"

/* The five characters of a SQLSTATE packed by MAKE_SQLSTATE. */
static void
unpack_sqlstate(int code, char *buf, int nchars)
{
	int			i;

	for (i = 0; i < nchars; i++)
	{
		buf[i] = PGUNSIXBIT(code);
		code >>= 6;
	}
	buf[nchars] = '\0';
}

void
pgprom_collect_errors(PromWriter *w)
{
	PromHookCounters *c = pgprom_hook_counters;
	int			s;
	int			i;

	if (c == NULL)
		return;

	if (pgprom_expo_family(w, "pg_errors_total",
						   "Messages of severity WARNING and above reported to the server log, by severity and SQLSTATE class.",
						   PROM_COUNTER))
	{
		static const char *const names[] = {"severity", "sqlstate_class"};

		for (s = 0; s < PGPROM_SEVERITIES; s++)
		{
			for (i = 0; i < PGPROM_SQLSTATE_CLASSES; i++)
			{
				uint64		n = pg_atomic_read_u64(&c->errors[s][i]);
				char		class[3];
				const char *values[2];

				if (n == 0)
					continue;
				unpack_sqlstate(i, class, 2);
				values[0] = pgprom_severity_names[s];
				values[1] = class;
				pgprom_expo_sample(w, NULL, 2, names, values, (double) n);
			}
		}
	}

	if (pgprom_expo_family(w, "pg_error_codes_total",
						   "Errors (ERROR and above) of the SQLSTATEs operators alert on, by code.",
						   PROM_COUNTER))
	{
		static const char *const names[] = {"sqlstate", "condition"};

		for (i = 0; i < PGPROM_ERROR_CODES; i++)
		{
			char		code[6];
			const char *values[2];

			unpack_sqlstate(pgprom_error_codes[i].sqlstate, code, 5);
			values[0] = code;
			values[1] = pgprom_error_codes[i].condition;
			pgprom_expo_sample(w, NULL, 2, names, values,
							   (double) pg_atomic_read_u64(&c->error_codes[i]));
		}
	}
}

void
pgprom_collect_auth(PromWriter *w)
{
	PromHookCounters *c = pgprom_hook_counters;
	int			r;
	int			m;

	if (c == NULL)
		return;
	if (!pgprom_expo_family(w, "pg_auth_attempts_total",
							"Client authentication attempts by result (success, failure, client_aborted: the client hung up when asked for a password, as psql does once before prompting) and pg_hba.conf method.",
							PROM_COUNTER))
		return;
	for (r = 0; r < PGPROM_AUTH_RESULTS; r++)
	{
		for (m = 0; m < PGPROM_AUTH_METHODS; m++)
		{
			static const char *const names[] = {"result", "method"};
			uint64		n = pg_atomic_read_u64(&c->auth[r][m]);
			const char *values[2];

			if (n == 0)
				continue;
			values[0] = pgprom_auth_result_names[r];
			values[1] = pgprom_auth_method_name(m);
			pgprom_expo_sample(w, NULL, 2, names, values, (double) n);
		}
	}
}
