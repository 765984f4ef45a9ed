/*-------------------------------------------------------------------------
 *
 * openmetrics.c
 *		OpenMetrics 1.0 text from the classic exposition text.
 *
 * The renderer writes the classic format (0.0.4) once; a scraper that
 * asks for OpenMetrics gets this rewrite of it.  Both formats share the
 * sample syntax, so the rewrite touches only the metadata:
 *
 *	- a counter whose name ends in _total is declared under the name
 *	  without it ("# TYPE x counter" for samples x_total), as OpenMetrics
 *	  requires;
 *	- a counter without that suffix (many of postgres_exporter's, such as
 *	  pg_stat_database_xact_commit) is declared "unknown": renaming its
 *	  samples would break every dashboard and alert written for it, and
 *	  OpenMetrics forbids a counter without it.  Prometheus stores both
 *	  kinds under the same names as with the classic format;
 *	- untyped becomes unknown; names ending in _seconds or _bytes get a
 *	  "# UNIT" line; '"' in HELP text is escaped, as OpenMetrics requires;
 *	- the text ends with "# EOF".
 *
 * Input is the writer's own output, so every line is well formed: HELP
 * then TYPE then the family's samples.  A counter is not renamed when the
 * shorter name is taken by another family of the same scrape.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/hsearch.h"

#include "scrape/openmetrics.h"

#define NAME_KEY 256

typedef struct NameEntry
{
	char		name[NAME_KEY];
} NameEntry;

static bool
has_suffix(const char *name, int len, const char *suffix)
{
	int			slen = strlen(suffix);

	return len > slen && memcmp(name + len - slen, suffix, slen) == 0;
}

/* Copy HELP text, escaping '"' (the classic format leaves it alone). */
static void
append_help(StringInfo out, const char *s, int len)
{
	int			i;

	for (i = 0; i < len; i++)
	{
		if (s[i] == '"')
			appendStringInfoChar(out, '\\');
		appendStringInfoChar(out, s[i]);
	}
}

/* Every family name declared by a TYPE line, to detect renaming clashes. */
static HTAB *
declared_names(const char *text, int len)
{
	HASHCTL		ctl;
	HTAB	   *names;
	const char *p = text;
	const char *end = text +len;

	ctl.keysize = NAME_KEY;
	ctl.entrysize = sizeof(NameEntry);
	ctl.hcxt = CurrentMemoryContext;
	names = hash_create("pg_prom openmetrics names", 512, &ctl,
						HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
	while (p < end)
	{
		const char *nl = memchr(p, '\n', end - p);
		const char *le = nl ? nl : end;

		if (le - p > 7 && memcmp(p, "# TYPE ", 7) == 0)
		{
			const char *name = p + 7;
			const char *sp = memchr(name, ' ', le - name);
			char		key[NAME_KEY];

			if (sp != NULL && sp - name < NAME_KEY)
			{
				memcpy(key, name, sp - name);
				key[sp - name] = '\0';
				hash_search(names, key, HASH_ENTER, NULL);
			}
		}
		p = le + 1;
	}
	return names;
}

void
pgprom_openmetrics_from_text(const char *text, int len, StringInfo out)
{
	HTAB	   *names = declared_names(text, len);
	const char *p = text;
	const char *end = text +len;
	const char *help = NULL;	/* the pending HELP line's text */
	int			help_len = 0;

	while (p < end)
	{
		const char *nl = memchr(p, '\n', end - p);
		const char *le = nl ? nl : end;

		if (le - p > 7 && memcmp(p, "# HELP ", 7) == 0)
		{
			const char *sp = memchr(p + 7, ' ', le - (p + 7));

			help = sp ? sp + 1 : le;
			help_len = le - help;
		}
		else if (le - p > 7 && memcmp(p, "# TYPE ", 7) == 0)
		{
			const char *name = p + 7;
			const char *sp = memchr(name, ' ', le - name);
			int			name_len;
			const char *type;
			int			type_len;
			const char *om_type;

			if (sp == NULL)
			{
				p = le + 1;
				continue;
			}
			name_len = sp - name;
			type = sp + 1;
			type_len = le - type;

			if (type_len == 7 && memcmp(type, "counter", 7) == 0)
			{
				om_type = "unknown";
				if (has_suffix(name, name_len, "_total") && name_len - 6 < NAME_KEY)
				{
					char		key[NAME_KEY];

					memcpy(key, name, name_len - 6);
					key[name_len - 6] = '\0';
					if (hash_search(names, key, HASH_FIND, NULL) == NULL)
					{
						name_len -= 6;
						om_type = "counter";
					}
				}
			}
			else if (type_len == 5 && memcmp(type, "gauge", 5) == 0)
				om_type = "gauge";
			else if (type_len == 9 && memcmp(type, "histogram", 9) == 0)
				om_type = "histogram";
			else if (type_len == 7 && memcmp(type, "summary", 7) == 0)
				om_type = "summary";
			else
				om_type = "unknown";

			appendStringInfoString(out, "# TYPE ");
			appendBinaryStringInfo(out, name, name_len);
			appendStringInfo(out, " %s\n", om_type);
			if (has_suffix(name, name_len, "_seconds") ||
				has_suffix(name, name_len, "_bytes"))
			{
				appendStringInfoString(out, "# UNIT ");
				appendBinaryStringInfo(out, name, name_len);
				appendStringInfoString(out, has_suffix(name, name_len, "_bytes") ?
									   " bytes\n" : " seconds\n");
			}
			if (help != NULL)
			{
				appendStringInfoString(out, "# HELP ");
				appendBinaryStringInfo(out, name, name_len);
				appendStringInfoChar(out, ' ');
				append_help(out, help, help_len);
				appendStringInfoChar(out, '\n');
			}
			help = NULL;
		}
		else if (le > p && *p != '#')
		{
			appendBinaryStringInfo(out, p, le - p);
			appendStringInfoChar(out, '\n');
		}
		p = le + 1;
	}
	appendStringInfoString(out, "# EOF\n");
	hash_destroy(names);
}
