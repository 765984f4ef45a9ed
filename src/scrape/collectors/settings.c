/*-------------------------------------------------------------------------
 *
 * settings.c
 *		pg_settings_<name>[_seconds|_bytes]: every numeric and boolean
 *		setting, named and converted exactly as postgres_exporter does.
 *
 * Read straight from the server's GUC table rather than through the
 * pg_settings view: the view formats ~350 rows of text that we would only
 * parse back, which made this the most expensive collector of a scrape.
 * Visibility follows pg_settings: GUC_NO_SHOW_ALL settings are left out,
 * and GUC_SUPERUSER_ONLY ones unless the reader has the privileges of
 * pg_read_all_settings.  The values are those of the rendering session
 * (the worker's, or the caller's for pg_prom_metrics()).
 *
 * Rules (postgres_exporter's): '.' and '-' in a name become '_'; booleans
 * are 1/0; time units are converted to seconds and memory units to bytes,
 * with the unit appended to the name; -1 (a "disabled" sentinel) is kept
 * as is.  HELP is the setting's short description.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xlog_internal.h"
#include "catalog/pg_authid.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/guc.h"

#include "compat.h"
#include "scrape/collectors/collectors.h"

/* Conversion of a GUC's unit flags to a Prometheus base unit. */
static const char *
unit_of(int flags, double *factor)
{
	switch (flags & GUC_UNIT)
	{
		case GUC_UNIT_BYTE:
			*factor = 1;
			return "bytes";
		case GUC_UNIT_KB:
			*factor = 1024.0;
			return "bytes";
		case GUC_UNIT_MB:
			*factor = 1024.0 * 1024.0;
			return "bytes";
		case GUC_UNIT_BLOCKS:
			*factor = BLCKSZ;
			return "bytes";
		case GUC_UNIT_XBLOCKS:
			*factor = XLOG_BLCKSZ;
			return "bytes";
		case GUC_UNIT_MS:
			*factor = -1000;	/* negative: divide, which is exact */
			return "seconds";
		case GUC_UNIT_S:
			*factor = 1;
			return "seconds";
		case GUC_UNIT_MIN:
			*factor = 60;
			return "seconds";
		default:
			*factor = 1;
			return NULL;
	}
}

void
pgprom_collect_settings(PromWriter *w)
{
	bool		see_all = has_privs_of_role(GetUserId(), ROLE_PG_READ_ALL_SETTINGS);
	struct config_generic **gucs;
	StringInfoData name;
	StringInfoData help;
	int			n;
	int			i;

	gucs = pgprom_guc_variables(&n);
	initStringInfo(&name);
	initStringInfo(&help);

	for (i = 0; i < n; i++)
	{
		struct config_generic *g = gucs[i];
		const char *unit;
		double		factor;
		double		value;
		char	   *p;

		if ((g->flags & GUC_NO_SHOW_ALL) ||
			((g->flags & GUC_SUPERUSER_ONLY) && !see_all))
			continue;
		if (strcmp(g->name, "sync_commit_cancel_wait") == 0 ||
			strcmp(g->name, "google_dataplex.max_messages") == 0)
			continue;

		switch (g->vartype)
		{
			case PGC_BOOL:
				value = *PGPROM_GUC_BOOL(g)->variable ? 1 : 0;
				break;
			case PGC_INT:
				{
					struct config_int *conf = PGPROM_GUC_INT(g);

					/* like pg_settings: a show hook (octal modes) wins */
					value = conf->show_hook ? strtod(conf->show_hook(), NULL) :
						*conf->variable;
					break;
				}
			case PGC_REAL:
				{
					struct config_real *conf = PGPROM_GUC_REAL(g);

					value = conf->show_hook ? strtod(conf->show_hook(), NULL) :
						*conf->variable;
					break;
				}
			default:
				continue;
		}

		unit = (g->vartype == PGC_BOOL) ? NULL : unit_of(g->flags, &factor);
		if (unit && value != -1)
			value = factor < 0 ? value / -factor : value * factor;

		resetStringInfo(&name);
		appendStringInfo(&name, "pg_settings_%s", g->name);
		if (unit)
			appendStringInfo(&name, "_%s", unit);
		for (p = name.data; *p; p++)
			if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
				  (*p >= '0' && *p <= '9') || *p == '_'))
				*p = '_';

		resetStringInfo(&help);
		appendStringInfoString(&help, g->short_desc ? _(g->short_desc) : g->name);
		if (unit)
			appendStringInfo(&help, " [Units converted to %s.]", unit);

		if (pgprom_expo_family(w, name.data, help.data, PROM_GAUGE))
			pgprom_expo_value(w, value);
	}
}
