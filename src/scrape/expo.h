/*-------------------------------------------------------------------------
 *
 * expo.h
 *		Prometheus text exposition writer (format 0.0.4).
 *
 * A writer appends families to one StringInfo.  It guarantees what a
 * scrape must never violate: every family appears once, contiguously, with
 * HELP and TYPE; names are valid; label values are escaped and valid
 * UTF-8; and no series (name plus label set) is written twice.  A family
 * that would break these rules is refused and its samples are skipped.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PG_PROM_EXPO_H
#define PG_PROM_EXPO_H

#include "lib/stringinfo.h"
#include "datatype/timestamp.h"
#include "nodes/pg_list.h"

typedef enum PromType
{
	PROM_GAUGE,
	PROM_COUNTER,
	PROM_UNTYPED,
	PROM_HISTOGRAM
} PromType;

typedef struct PromWriter PromWriter;

/* Position of a writer, to undo what a failed collector wrote. */
typedef struct PromMark
{
	int			out_len;
	int			nfamilies;
} PromMark;

extern PromWriter *pgprom_expo_create(StringInfo out);
extern void pgprom_expo_family_header(StringInfo buf, const char *name,
									  const char *help, PromType type);
extern bool pgprom_expo_family_written(PromWriter *w, const char *name,
									   PromType type, const char *header,
									   int header_len);
extern bool pgprom_expo_family(PromWriter *w, const char *name, const char *help,
							   PromType type);
extern void pgprom_expo_sample(PromWriter *w, const char *suffix, int nlabels,
							   const char *const *names, const char *const *values,
							   double value);
extern uint64 pgprom_expo_duplicates(PromWriter *w);
extern StringInfo pgprom_expo_output(PromWriter *w);

/* Pre-rendered label sets, for families unique by construction. */
extern char *pgprom_expo_label_text(PromWriter *w, int nlabels,
									const char *const *names,
									const char *const *values);
extern const char *pgprom_expo_server_label(PromWriter *w);
extern void pgprom_expo_sample_raw(PromWriter *w, const char *labels,
								   int labels_len, double value);

/* Convenience forms for the common label counts. */
extern void pgprom_expo_value(PromWriter *w, double value);
extern void pgprom_expo_single(PromWriter *w, const char *name,
							   const char *help, PromType type, double value);
extern void pgprom_expo_value1(PromWriter *w, const char *n1, const char *v1,
							   double value);
extern void pgprom_expo_value2(PromWriter *w, const char *n1, const char *v1,
							   const char *n2, const char *v2, double value);

/*
 * A table of values written as one family per column: row r is a series
 * labelled by labelvalues[r * nlabels ...], with value values[r * ncols + c]
 * (divided by the column's divisor) in the family of column c.
 */
typedef struct PromColumn
{
	const char *name;			/* full metric name */
	const char *help;
	PromType	type;
	double		divisor;		/* divide the value by this (unit change) */
	bool		skip_null;		/* leave NULL cells out instead of 0 */
} PromColumn;

extern void pgprom_expo_columns(PromWriter *w, const PromColumn *cols, int ncols,
								int nrows, int nlabels, const char *const *labelnames,
								const char *const *labelvalues, const double *values,
								const bool *nulls);

/*
 * One histogram series set of the open (histogram) family: _bucket for
 * each upper bound and +Inf (counts given per bucket, written cumulative),
 * _sum and _count.  names/values are the labels other than le.
 */
/* Native-histogram lines, for the protobuf format only (expo.c). */
extern void pgprom_expo_set_native(PromWriter *w, bool native);
extern bool pgprom_expo_native_wanted(PromWriter *w);
extern void pgprom_expo_cut_counts(uint64 *counts, int n, uint64 total);
extern void pgprom_expo_native(PromWriter *w, int schema, double zero_threshold,
							   uint64 zero_count, int first_index,
							   const uint64 *counts, const uint64 *negative,
							   int n);

extern void pgprom_expo_histogram(PromWriter *w, int nlabels,
								  const char *const *names, const char *const *values,
								  const double *bounds, int nbounds,
								  const uint64 *bucket_counts, double sum);

/* A family begun by a writer: its type and name (for caches and messages). */
typedef struct PromFamilyRef
{
	PromType	type;
	char		name[FLEXIBLE_ARRAY_MEMBER];
} PromFamilyRef;

extern PromFamilyRef *pgprom_expo_family_ref(PromType type, const char *name);
extern bool pgprom_expo_reserve(PromWriter *w, const char *name, PromType type);
extern void pgprom_expo_release(PromWriter *w, const char *name, PromType type);

/* Undo support for the renderer. */
extern PromMark pgprom_expo_mark(PromWriter *w);
extern void pgprom_expo_rollback(PromWriter *w, PromMark mark);
extern List *pgprom_expo_families_since(PromWriter *w, PromMark mark);
extern bool pgprom_expo_replay(PromWriter *w, const char *text, int len,
							   List *families);

extern void pgprom_expo_append_double(StringInfo out, double value);

/* A timestamp as Prometheus writes one: seconds since the Unix epoch, 0 for none. */
static inline double
pgprom_expo_epoch_seconds(TimestampTz ts)
{
	if (ts == 0)
		return 0;
	/* one rounding of the exact quotient, as date_part('epoch', ts) */
	return (double) (ts + (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY) /
		USECS_PER_SEC;
}

#endif							/* PG_PROM_EXPO_H */
