/*-------------------------------------------------------------------------
 *
 * names.c
 *		Valid metric and label names, and the names pg_prom reserves.
 *
 * Built-in families are pg_prom's alone: application metrics and custom
 * queries may not take their names, so that no role allowed to record an
 * application metric can replace, say, the wraparound age an alert reads.
 * The reserved set is every name under the prefixes below plus the exact
 * families of the other collectors, on every supported version (a family
 * that exists only on some versions is listed here for all of them).  A
 * name also collides when it differs from a reserved one only by a suffix
 * a scraper derives (a histogram's _bucket/_sum/_count, an OpenMetrics
 * counter's _total/_created, an info's _info).  The metrics regression
 * test checks that every family a scrape writes is covered.  Also reserved:
 * the series Prometheus writes itself for every target (up, scrape_*), and
 * for applications any name with a colon (Prometheus keeps colons for
 * recording rules, such as the kit's pg_prom:role).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "names.h"

/* Every name starting with one of these is pg_prom's. */
static const char *const reserved_prefixes[] = {
	"pg_prom_", "pg_scrape_", "pg_stat_", "pg_statio_", "pg_settings_",
	"pg_database_", "pg_locks_", "pg_replication", "pg_up", "pg_static",
	"pg_exporter_", "process_", "scrape_",
};

/* Families of the collectors outside the prefixes above. */
static const char *const reserved_families[] = {
	"pg_auth_attempts",
	"pg_backends",
	"pg_backends_by_database",
	"pg_backends_by_user",
	"pg_backends_waiting_on_lock",
	"pg_buffercache_summary_buffers_dirty",
	"pg_buffercache_summary_buffers_pinned",
	"pg_buffercache_summary_buffers_unused",
	"pg_buffercache_summary_buffers_used",
	"pg_buffercache_summary_usagecount_avg",
	"pg_connections_available",
	"pg_connections_max",
	"pg_connections_superuser_reserved",
	"pg_connections_used",
	"pg_error_codes",
	"pg_errors",
	"pg_long_running_transactions",
	"pg_long_running_transactions_oldest_timestamp_seconds",
	"pg_oldest_idle_in_transaction_age_seconds",
	"pg_oldest_transaction_age_seconds",
	"pg_postmaster_start_time_seconds",
	"pg_process_idle_seconds",
	"pg_roles_connection_limit",
	"pg_statement_duration_seconds",
	"pg_transaction_duration_seconds",
	"pg_wal_segments",
	"pg_wal_size_bytes",
	"pg_xlog_location_bytes",
	"up",
};

/* Suffixes a scraper derives from a family name. */
static const char *const derived_suffixes[] = {
	"_total", "_created", "_bucket", "_sum", "_count", "_info",
};

/*
 * Classes of bytes in metric names: NAME_FIRST may begin one, NAME_NEXT
 * may follow.  A table, because a test per byte with five branches was a
 * visible part of a scrape's cost.
 */
#define NAME_FIRST 1
#define NAME_NEXT 2
static unsigned char name_class[256];
static bool name_class_made = false;

static void
make_name_class(void)
{
	int			c;

	for (c = 0; c < 256; c++)
	{
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			c == '_' || c == ':')
			name_class[c] = NAME_FIRST | NAME_NEXT;
		else if (c >= '0' && c <= '9')
			name_class[c] = NAME_NEXT;
	}
	name_class_made = true;
}

/*
 * The length of a valid metric name, or -1: one pass over the bytes (this
 * runs for every family of every scrape).
 */
int
pgprom_metric_name_len(const char *name)
{
	const unsigned char *p;

	if (!name_class_made)
		make_name_class();
	if (name == NULL || !(name_class[(unsigned char) *name] & NAME_FIRST))
		return -1;
	for (p = (const unsigned char *) name + 1; *p; p++)
		if (!(name_class[*p] & NAME_NEXT))
			return -1;
	if (p - (const unsigned char *) name > PGPROM_NAME_MAX)
		return -1;
	return (int) (p - (const unsigned char *) name);
}

bool
pgprom_valid_metric_name(const char *name)
{
	return pgprom_metric_name_len(name) >= 0;
}

bool
pgprom_valid_user_metric_name(const char *name)
{
	return pgprom_valid_metric_name(name) && strchr(name, ':') == NULL;
}

bool
pgprom_valid_label_name(const char *name)
{
	const char *p;

	if (name == NULL || *name == '\0' || strncmp(name, "__", 2) == 0)
		return false;
	for (p = name; *p; p++)
	{
		char		c = *p;

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			  c == '_' || (p != name && c >= '0' && c <= '9')))
			return false;
	}
	return true;
}

/* Length of name without one derived suffix (all of it if none). */
static size_t
stem_length(const char *name)
{
	size_t		len = strlen(name);
	int			i;

	for (i = 0; i < lengthof(derived_suffixes); i++)
	{
		size_t		slen = strlen(derived_suffixes[i]);

		if (len > slen && strcmp(name + len - slen, derived_suffixes[i]) == 0)
			return len - slen;
	}
	return len;
}

bool
pgprom_name_reserved(const char *name, const char **why)
{
	size_t		stem = stem_length(name);
	int			i;

	for (i = 0; i < lengthof(reserved_prefixes); i++)
	{
		if (strncmp(name, reserved_prefixes[i], strlen(reserved_prefixes[i])) == 0)
		{
			*why = reserved_prefixes[i];
			return true;
		}
	}
	for (i = 0; i < lengthof(reserved_families); i++)
	{
		const char *r = reserved_families[i];
		size_t		rstem = stem_length(r);

		/* equal once a derived suffix is taken off either or both */
		if ((rstem == stem && strncmp(name, r, stem) == 0) ||
			strcmp(name, r) == 0 ||
			(strlen(r) == stem && strncmp(name, r, stem) == 0) ||
			(strlen(name) == rstem && strncmp(name, r, rstem) == 0))
		{
			*why = r;
			return true;
		}
	}
	return false;
}
