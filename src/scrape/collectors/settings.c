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
 * Names and HELP depend only on the settings' definitions, so the process
 * makes them once and keeps them (about two thirds of this collector's
 * work): the kept list is made again when the server's array of settings
 * is no longer the same array of the same definitions (a module loaded, a
 * placeholder replaced) or lc_messages changed.  Values are read at every
 * scrape; while they, the reader's visibility and the server label are
 * those of the last scrape, its text is appended again in one piece
 * (pgprom_expo_replay reserves its names as writing them would): settings
 * change seldom, and writing ~270 families was the largest cost of a scrape
 * of postgres_exporter's collectors.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xlog_internal.h"
#include "catalog/pg_authid.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/guc.h"

#include "utils/memutils.h"

#include "compat.h"
#include "scrape/collectors/collectors.h"

/* A setting's family, as written at every scrape. */
typedef struct SettingFamily
{
	struct config_generic *g;
	enum config_type vartype;	/* as made: a change means another setting */
	int			flags;
	bool		has_unit;
	double		factor;			/* see unit_of() */
	char	   *name;
	char	   *header;			/* HELP and TYPE lines */
	int			header_len;
} SettingFamily;

/* The kept families and what they were made from. */
static MemoryContext kept_cxt = NULL;
static struct config_generic **kept_gucs = NULL;	/* a copy of the array */
static int	kept_ngucs = -1;
static char *kept_lc_messages = NULL;
static SettingFamily *kept = NULL;
static int	kept_n = 0;

/*
 * The last text written, and what it was written from (values[i] for
 * kept[i] when shown[i]): valid only while last_families is not NIL.
 */
static double *last_values = NULL;
static bool *last_shown = NULL;
static bool last_see_all = false;
static char *last_server = NULL;
static StringInfoData last_text;
static List *last_families = NIL;

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

/* lc_messages now: the language of the HELP texts. */
static const char *
lc_messages_now(void)
{
	const char *v = GetConfigOption("lc_messages", true, false);

	return v ? v : "";
}

/* Whether the kept families were made from this array of settings. */
static bool
kept_still_valid(struct config_generic **gucs, int n)
{
	int			i;

	if (kept_ngucs != n ||
		memcmp(kept_gucs, gucs, sizeof(struct config_generic *) * n) != 0 ||
		strcmp(kept_lc_messages, lc_messages_now()) != 0)
		return false;
	/* a definition freed and its memory reused for another one */
	for (i = 0; i < kept_n; i++)
		if (kept[i].g->vartype != kept[i].vartype ||
			kept[i].g->flags != kept[i].flags)
			return false;
	return true;
}

/* Make the families of every numeric or boolean setting that can be shown. */
static void
make_families(struct config_generic **gucs, int n)
{
	MemoryContext old;
	StringInfoData name;
	StringInfoData help;
	StringInfoData header;
	int			i;

	if (kept_cxt == NULL)
		kept_cxt = AllocSetContextCreate(TopMemoryContext,
										 "pg_prom settings families",
										 ALLOCSET_DEFAULT_SIZES);
	MemoryContextReset(kept_cxt);
	kept_ngucs = -1;
	old = MemoryContextSwitchTo(kept_cxt);

	kept_gucs = palloc(sizeof(struct config_generic *) * Max(n, 1));
	memcpy(kept_gucs, gucs, sizeof(struct config_generic *) * n);
	kept_lc_messages = pstrdup(lc_messages_now());
	kept = palloc(sizeof(SettingFamily) * Max(n, 1));
	kept_n = 0;
	last_values = palloc(sizeof(double) * Max(n, 1));
	last_shown = palloc(sizeof(bool) * Max(n, 1));
	last_families = NIL;
	last_server = NULL;
	initStringInfo(&last_text);
	initStringInfo(&name);
	initStringInfo(&help);

	for (i = 0; i < n; i++)
	{
		struct config_generic *g = gucs[i];
		SettingFamily *f = &kept[kept_n];
		const char *unit;
		char	   *p;

		if (g->flags & GUC_NO_SHOW_ALL)
			continue;
		if (g->vartype != PGC_BOOL && g->vartype != PGC_INT &&
			g->vartype != PGC_REAL)
			continue;
		if (strcmp(g->name, "sync_commit_cancel_wait") == 0 ||
			strcmp(g->name, "google_dataplex.max_messages") == 0)
			continue;

		f->g = g;
		f->vartype = g->vartype;
		f->flags = g->flags;
		f->factor = 1;
		unit = (g->vartype == PGC_BOOL) ? NULL : unit_of(g->flags, &f->factor);
		f->has_unit = unit != NULL;

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

		initStringInfo(&header);
		pgprom_expo_family_header(&header, name.data, help.data, PROM_GAUGE);
		f->name = pstrdup(name.data);
		f->header = header.data;
		f->header_len = header.len;
		kept_n++;
	}
	kept_ngucs = n;
	MemoryContextSwitchTo(old);
}

/* The value written for a setting (unit converted), false to leave it out. */
static bool
value_of(const SettingFamily *f, bool see_all, double *value)
{
	struct config_generic *g = f->g;

	if ((g->flags & GUC_SUPERUSER_ONLY) && !see_all)
		return false;
	switch (g->vartype)
	{
		case PGC_BOOL:
			*value = *PGPROM_GUC_BOOL(g)->variable ? 1 : 0;
			break;
		case PGC_INT:
			{
				struct config_int *conf = PGPROM_GUC_INT(g);

				/* like pg_settings: a show hook (octal modes) wins */
				*value = conf->show_hook ? strtod(conf->show_hook(), NULL) :
					*conf->variable;
				break;
			}
		case PGC_REAL:
			{
				struct config_real *conf = PGPROM_GUC_REAL(g);

				*value = conf->show_hook ? strtod(conf->show_hook(), NULL) :
					*conf->variable;
				break;
			}
		default:
			return false;
	}
	if (f->has_unit && *value != -1)
		*value = f->factor < 0 ? *value / -f->factor : *value * f->factor;
	return true;
}

void
pgprom_collect_settings(PromWriter *w)
{
	bool		see_all = has_privs_of_role(GetUserId(), ROLE_PG_READ_ALL_SETTINGS);
	const char *server = pgprom_expo_server_label(w);
	struct config_generic **gucs;
	int			n;
	int			i;
	bool		same;
	PromMark	mark;
	uint64		duplicates;
	MemoryContext old;

	gucs = pgprom_guc_variables(&n);
	if (!kept_still_valid(gucs, n))
		make_families(gucs, n);

	/* the same values as the text kept from the last scrape? */
	same = last_families != NIL && see_all == last_see_all &&
		strcmp(server, last_server) == 0;
	for (i = 0; i < kept_n; i++)
	{
		double		value = 0;
		bool		shown = value_of(&kept[i], see_all, &value);

		/* bitwise: NaN and -0 compare as what they are */
		if (shown != last_shown[i] ||
			memcmp(&value, &last_values[i], sizeof(double)) != 0)
		{
			same = false;
			last_shown[i] = shown;
			last_values[i] = value;
		}
	}
	if (same && pgprom_expo_replay(w, last_text.data, last_text.len,
								   last_families))
		return;

	mark = pgprom_expo_mark(w);
	duplicates = pgprom_expo_duplicates(w);
	for (i = 0; i < kept_n; i++)
	{
		SettingFamily *f = &kept[i];

		if (!last_shown[i])
			continue;
		if (pgprom_expo_family_written(w, f->name, PROM_GAUGE,
									   f->header, f->header_len))
			pgprom_expo_value(w, last_values[i]);
	}

	/* keep it for the next scrape, unless a name was taken by another */
	list_free_deep(last_families);
	last_families = NIL;
	if (pgprom_expo_duplicates(w) != duplicates)
		return;
	old = MemoryContextSwitchTo(kept_cxt);
	resetStringInfo(&last_text);
	appendBinaryStringInfo(&last_text, pgprom_expo_output(w)->data + mark.out_len,
						   pgprom_expo_output(w)->len - mark.out_len);
	last_families = pgprom_expo_families_since(w, mark);
	if (last_server == NULL || strcmp(last_server, server) != 0)
	{
		if (last_server)
			pfree(last_server);
		last_server = pstrdup(server);
	}
	last_see_all = see_all;
	MemoryContextSwitchTo(old);
}
