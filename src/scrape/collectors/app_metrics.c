/*-------------------------------------------------------------------------
 *
 * app_metrics.c
 *		The application metrics recorded from SQL (backend/appmetrics.c),
 *		and how full their table is.
 *
 * A family whose name another collector already wrote in this scrape
 * (one that became pg_prom's after the application took it, say) is left
 * out, counted in pg_prom_collector_objects_left_out and logged at most
 * once a minute: the built-in family always wins.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/timestamp.h"

#include "backend/appmetrics.h"
#include "guc.h"
#include "scrape/collectors/collectors.h"

/* Timestamp of the last log line about a family refused at export. */
static TimestampTz last_clash_log = 0;

/*
 * A histogram series; for the protobuf format with its native buckets
 * (read before the classic ones, which are cut to their total).
 */
static void
write_histogram(PromWriter *w, const AppFamilyCopy *f, AppSeriesCopy *s)
{
	const AppNativeLayout *l = &f->native;
	uint64		counts[APP_MAX_BOUNDS + 1];
	uint64		total;
	int			i;

	if (!pgprom_expo_native_wanted(w) || !l->on)
	{
		pgprom_expo_histogram(w, s->nlabels, s->label_names, s->label_values,
							  f->bounds, f->nbounds, s->buckets, s->value);
		return;
	}
	total = s->native_zero;
	for (i = 0; i < (l->negative ? 2 * l->n : l->n); i++)
		total += s->native[i];
	memcpy(counts, s->buckets, sizeof(counts));
	pgprom_expo_cut_counts(counts, f->nbounds + 1, total);
	pgprom_expo_histogram(w, s->nlabels, s->label_names, s->label_values,
						  f->bounds, f->nbounds, counts, s->value);
	pgprom_expo_native(w, l->schema, l->zero_threshold, s->native_zero,
					   l->first_index, s->native,
					   l->negative ? s->native + l->n : NULL, l->n);
}

void
pgprom_collect_app_metrics(PromWriter *w)
{
	static const PromType prom_types[] = {PROM_COUNTER, PROM_GAUGE, PROM_HISTOGRAM};
	AppSnapshot snap;
	int			fi;
	int			si = 0;
	int			refused = 0;

	if (!pgprom_app_metrics_snapshot(&snap))
		return;

	/* how full the table is, to alert before the capacity error */
	if (pgprom_expo_family(w, "pg_prom_app_metric_series",
						   "Application metric series in use (pg_prom_counter_inc() and its kin).",
						   PROM_GAUGE))
		pgprom_expo_value(w, snap.nseries);
	if (pgprom_expo_family(w, "pg_prom_app_metric_series_limit",
						   "Application metric series shared memory can hold (pg_prom.max_app_series).",
						   PROM_GAUGE))
		pgprom_expo_value(w, pgprom_max_app_series);
	if (pgprom_expo_family(w, "pg_prom_app_metric_updates_dropped_total",
						   "Updates by pg_prom_count_rows() triggers lost because the application-metric table was full (the write itself succeeded).",
						   PROM_COUNTER))
		pgprom_expo_value(w, (double) snap.dropped);

	for (fi = 0; fi < snap.nfamilies; fi++)
	{
		AppFamilyCopy *f = &snap.families[fi];
		bool		open;

		while (si < snap.nseries && strcmp(snap.series[si].name, f->name) < 0)
			si++;
		open = pgprom_expo_family(w, f->name, f->help, prom_types[f->type]);
		if (!open)
			refused++;
		for (; si < snap.nseries && strcmp(snap.series[si].name, f->name) == 0; si++)
		{
			AppSeriesCopy *s = &snap.series[si];

			if (!open || s->type != f->type)
				continue;
			if (f->type == APP_HISTOGRAM)
				write_histogram(w, f, s);
			else
				pgprom_expo_sample(w, NULL, s->nlabels, s->label_names,
								   s->label_values, s->value);
		}
	}

	/* a name another collector already wrote: say so, now and then */
	if (refused > 0)
	{
		TimestampTz now = GetCurrentTimestamp();

		pgprom_note_left_out(refused);
		if (last_clash_log == 0 ||
			TimestampDifferenceExceeds(last_clash_log, now, 60 * 1000))
		{
			last_clash_log = now;
			ereport(LOG,
					(errmsg("pg_prom: %d application metric families were left out of the scrape", refused),
					 errdetail("Their names are used by other metrics of the scrape."),
					 errhint("Use names with your application's prefix; see pg_prom_app_metrics().")));
		}
	}
}
