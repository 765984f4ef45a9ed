/*-------------------------------------------------------------------------
 *
 * settings.c
 *		pg_settings_<name>[_seconds|_bytes]: every numeric and boolean
 *		setting, named and converted exactly as postgres_exporter does.
 *
 * Rules (postgres_exporter's): '.' and '-' in a name become '_'; booleans
 * are 1/0; time units are converted to seconds and memory units to bytes,
 * with the unit appended to the name; -1 (a "disabled" sentinel) is kept
 * as is.  A setting with a unit we do not know is left out rather than
 * exported with a wrong scale.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "collectors.h"
#include "../query.h"

typedef struct UnitRule
{
	const char *unit;			/* pg_settings.unit */
	const char *suffix;			/* appended to the metric name */
	double		factor;
} UnitRule;

static const UnitRule unit_rules[] = {
	{"ms", "seconds", 0.001},
	{"s", "seconds", 1},
	{"min", "seconds", 60},
	{"h", "seconds", 3600},
	{"d", "seconds", 86400},
	{"B", "bytes", 1},
	{"kB", "bytes", 1024.0},
	{"MB", "bytes", 1024.0 * 1024},
	{"GB", "bytes", 1024.0 * 1024 * 1024},
	{"TB", "bytes", 1024.0 * 1024 * 1024 * 1024},
	{"1kB", "bytes", 1024.0},
	{"2kB", "bytes", 2048.0},
	{"4kB", "bytes", 4096.0},
	{"8kB", "bytes", 8192.0},
	{"16kB", "bytes", 16384.0},
	{"32kB", "bytes", 32768.0},
	{"64kB", "bytes", 65536.0},
	{"16MB", "bytes", 16.0 * 1024 * 1024},
	{"32MB", "bytes", 32.0 * 1024 * 1024},
	{"64MB", "bytes", 64.0 * 1024 * 1024},
};

static const UnitRule *
find_unit(const char *unit)
{
	int			i;

	for (i = 0; i < lengthof(unit_rules); i++)
		if (strcmp(unit_rules[i].unit, unit) == 0)
			return &unit_rules[i];
	return NULL;
}

void
pgprom_collect_settings(PromWriter *w)
{
	static SPIPlanPtr plan = NULL;
	StringInfoData name;
	StringInfoData help;
	uint64		n;
	uint64		r;

	n = pgprom_query(&plan,
					 "SELECT name, setting, COALESCE(unit, ''), short_desc, vartype"
					 " FROM pg_catalog.pg_settings"
					 " WHERE vartype IN ('bool', 'integer', 'real')"
					 " AND name NOT IN ('sync_commit_cancel_wait', 'google_dataplex.max_messages')"
					 " ORDER BY name");
	initStringInfo(&name);
	initStringInfo(&help);

	for (r = 0; r < n; r++)
	{
		char	   *setting_name = pgprom_text(r, 1);
		char	   *setting = pgprom_text(r, 2);
		char	   *unit = pgprom_text(r, 3);
		char	   *vartype = pgprom_text(r, 5);
		const UnitRule *rule = NULL;
		double		value;
		char	   *end;
		char	   *p;

		if (strcmp(vartype, "bool") == 0)
			value = (strcmp(setting, "on") == 0) ? 1 : 0;
		else
		{
			value = strtod(setting, &end);
			if (end == setting)
				continue;
		}
		if (unit[0] != '\0')
		{
			rule = find_unit(unit);
			if (rule == NULL)
				continue;
			if (value != -1)
				value *= rule->factor;
		}

		resetStringInfo(&name);
		appendStringInfo(&name, "pg_settings_%s", setting_name);
		if (rule)
			appendStringInfo(&name, "_%s", rule->suffix);
		for (p = name.data; *p; p++)
			if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
				  (*p >= '0' && *p <= '9') || *p == '_'))
				*p = '_';

		resetStringInfo(&help);
		appendStringInfoString(&help, pgprom_text(r, 4));
		if (rule)
			appendStringInfo(&help, " [Units converted to %s.]", rule->suffix);

		if (expo_family(w, name.data, help.data, PROM_GAUGE))
			expo_value(w, value);
	}
}
