/*-------------------------------------------------------------------------
 *
 * expo.c
 *		Prometheus text exposition writer (format 0.0.4).
 *
 * The writer is the single place that turns values into exposition text,
 * for both doors (HTTP and pg_prom_metrics()).  It enforces uniqueness:
 *
 *	- family names, and the series names a family implies (a histogram
 *	  "x" reserves x_bucket, x_sum and x_count), live in a hash table for
 *	  the whole scrape; a second family with a taken name is refused;
 *	- series inside the open family are remembered by a 64-bit hash of
 *	  their text in an open-addressing set that is emptied in O(1) when
 *	  the next family starts (a generation number marks live slots).  A
 *	  family is written contiguously and only once, so this catches every
 *	  duplicate; a collision of two 64-bit hashes would drop a series and
 *	  is far too unlikely to matter.
 *
 * All memory comes from the context current at pgprom_expo_create(), which the
 * renderer resets after each scrape.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "common/hashfn.h"
#include "common/shortest_dec.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"

#include "guc.h"
#include "names.h"
#include "scrape/expo.h"

#define PROM_NAME_KEY (PGPROM_NAME_MAX + 16)
/* Most labels a histogram series may have besides le. */
#define PROM_MAX_LABELS 8

typedef struct FamilyEntry
{
	char		name[PROM_NAME_KEY];	/* hash key */
} FamilyEntry;

struct PromWriter
{
	StringInfo	out;
	MemoryContext cxt;
	HTAB	   *names;			/* every reserved series name */
	List	   *order;			/* PromFamilyRef *, in the order begun */

	/* the open family */
	bool		open;
	char		family[PGPROM_NAME_MAX + 1];
	int			family_len;

	/* series seen in the open family */
	uint64	   *slots;
	uint32	   *gens;
	uint32		cap;
	uint32		count;
	uint32		gen;

	const char *server;			/* value of a constant server label, or NULL */
	StringInfoData line;		/* scratch: the series text being built */
	uint64		duplicates;

	bool		native;			/* write native-histogram lines */
	bool		last_written;	/* the last sample was written */
};

static const char *const type_names[] = {"gauge", "counter", "untyped", "histogram"};
static const char *const histogram_suffixes[] = {"_bucket", "_sum", "_count"};

static void *name_keycopy(void *dest, const void *src, Size keysize);
static bool reserve_family(PromWriter *w, const char *name, int len,
						   PromType type);
static void release_family(PromWriter *w, const char *name, PromType type);
static bool series_insert(PromWriter *w, uint64 hash);
static void append_escaped(StringInfo out, const char *s, bool label_value);

PromWriter *
pgprom_expo_create(StringInfo out)
{
	PromWriter *w = palloc0(sizeof(PromWriter));
	HASHCTL		ctl;

	w->out = out;
	w->cxt = CurrentMemoryContext;
	ctl.keysize = PROM_NAME_KEY;
	ctl.entrysize = sizeof(FamilyEntry);
	ctl.hcxt = w->cxt;
	ctl.keycopy = name_keycopy;
	w->names = hash_create("pg_prom families", 512, &ctl,
						   HASH_ELEM | HASH_STRINGS | HASH_KEYCOPY | HASH_CONTEXT);
	w->cap = 64;
	w->slots = palloc(sizeof(uint64) * w->cap);
	w->gens = palloc0(sizeof(uint32) * w->cap);
	w->gen = 1;
	w->server = (pgprom_server_label && pgprom_server_label[0]) ?
		pstrdup(pgprom_server_label) : NULL;
	initStringInfo(&w->line);
	return w;
}

/*
 * Keys of the names table: a name's hash is string_hash()'s (hash_bytes of
 * its bytes; every name is shorter than the key) computed once per name,
 * and a key is copied with its known-short length.
 */
static inline uint32
name_hash(const char *name, int len)
{
	return hash_bytes((const unsigned char *) name, len);
}

static void *
name_keycopy(void *dest, const void *src, Size keysize)
{
	Size		len = strnlen(src, keysize - 1);

	memcpy(dest, src, len);
	((char *) dest)[len] = '\0';
	return dest;
}

/* A histogram's series name: name (len bytes) and suffix i, in key. */
static int
suffixed(char *key, const char *name, int len, int i)
{
	int			slen = strlen(histogram_suffixes[i]);

	memcpy(key, name, len);
	memcpy(key + len, histogram_suffixes[i], slen + 1);
	return len + slen;
}

/*
 * Reserve a family's name (valid, len bytes) and, for a histogram, its
 * suffixed series names.  Either all are reserved or none.
 */
static bool
reserve_family(PromWriter *w, const char *name, int len, PromType type)
{
	char		key[PROM_NAME_KEY];
	bool		found;
	int			i;

	StaticAssertStmt(PGPROM_NAME_MAX + 8 < PROM_NAME_KEY,
					 "a suffixed name fits a key");
	if (type == PROM_HISTOGRAM)
	{
		for (i = 0; i < lengthof(histogram_suffixes); i++)
		{
			int			klen = suffixed(key, name, len, i);

			if (hash_search_with_hash_value(w->names, key, name_hash(key, klen),
											HASH_FIND, NULL) != NULL)
				return false;
		}
	}
	hash_search_with_hash_value(w->names, name, name_hash(name, len),
								HASH_ENTER, &found);
	if (found)
		return false;
	if (type == PROM_HISTOGRAM)
	{
		for (i = 0; i < lengthof(histogram_suffixes); i++)
		{
			int			klen = suffixed(key, name, len, i);

			hash_search_with_hash_value(w->names, key, name_hash(key, klen),
										HASH_ENTER, &found);
		}
	}
	return true;
}

static void
release_family(PromWriter *w, const char *name, PromType type)
{
	char		key[PROM_NAME_KEY];
	int			i;

	hash_search(w->names, name, HASH_REMOVE, NULL);
	if (type == PROM_HISTOGRAM)
	{
		for (i = 0; i < lengthof(histogram_suffixes); i++)
		{
			snprintf(key, sizeof(key), "%s%s", name, histogram_suffixes[i]);
			hash_search(w->names, key, HASH_REMOVE, NULL);
		}
	}
}

void
pgprom_expo_release(PromWriter *w, const char *name, PromType type)
{
	release_family(w, name, type);
}

PromFamilyRef *
pgprom_expo_family_ref(PromType type, const char *name)
{
	PromFamilyRef *ref = palloc(offsetof(PromFamilyRef, name) + strlen(name) + 1);

	ref->type = type;
	strcpy(ref->name, name);
	return ref;
}

static void
record_family(PromWriter *w, const char *name, PromType type)
{
	MemoryContext old = MemoryContextSwitchTo(w->cxt);

	w->order = lappend(w->order, pgprom_expo_family_ref(type, name));
	MemoryContextSwitchTo(old);
}

/*
 * Reserve a family name without writing it, so that no collector can take
 * it: the names of the families written after the collectors (the scrape's
 * own) are reserved before any collector runs.
 */
bool
pgprom_expo_reserve(PromWriter *w, const char *name, PromType type)
{
	int			len = pgprom_metric_name_len(name);

	return len >= 0 && reserve_family(w, name, len, type);
}

/*
 * The two comment lines that open a family: HELP (escaped) and TYPE.  For
 * collectors that write the same families at every scrape and keep them
 * (pgprom_expo_family_written).
 */
void
pgprom_expo_family_header(StringInfo buf, const char *name, const char *help,
						  PromType type)
{
	appendStringInfoString(buf, "# HELP ");
	appendStringInfoString(buf, name);
	appendStringInfoChar(buf, ' ');
	append_escaped(buf, help ? help : "", false);
	appendStringInfoString(buf, "\n# TYPE ");
	appendStringInfoString(buf, name);
	appendStringInfoChar(buf, ' ');
	appendStringInfoString(buf, type_names[type]);
	appendStringInfoChar(buf, '\n');
}

/* Reserve and open a family; false when its name cannot be used. */
static bool
open_family(PromWriter *w, const char *name, PromType type)
{
	int			len = pgprom_metric_name_len(name);

	w->open = false;
	if (len < 0 || !reserve_family(w, name, len, type))
	{
		w->duplicates++;
		return false;
	}
	record_family(w, name, type);
	/* len <= PGPROM_NAME_MAX: the name fits */
	memcpy(w->family, name, len + 1);
	w->family_len = len;
	w->open = true;
	w->gen++;
	w->count = 0;
	return true;
}

/*
 * Begin a family.  Returns false, and leaves no family open, when the name
 * is invalid or already used in this scrape: the caller's samples for it
 * are then silently skipped (the refusal is counted as a duplicate).
 */
bool
pgprom_expo_family(PromWriter *w, const char *name, const char *help, PromType type)
{
	if (!open_family(w, name, type))
		return false;
	pgprom_expo_family_header(w->out, name, help, type);
	return true;
}

/*
 * pgprom_expo_family, with the header made earlier by
 * pgprom_expo_family_header for the same name and type.
 */
bool
pgprom_expo_family_written(PromWriter *w, const char *name, PromType type,
						   const char *header, int header_len)
{
	if (!open_family(w, name, type))
		return false;
	appendBinaryStringInfo(w->out, header, header_len);
	return true;
}

/* Insert a series hash into the open family's set; false if present. */
static bool
series_insert(PromWriter *w, uint64 hash)
{
	uint32		mask;
	uint32		i;

	if ((w->count + 1) * 2 > w->cap)
	{
		uint32		oldcap = w->cap;
		uint64	   *oldslots = w->slots;
		uint32	   *oldgens = w->gens;
		uint32		j;

		w->cap = oldcap * 2;
		w->slots = MemoryContextAlloc(w->cxt, sizeof(uint64) * w->cap);
		w->gens = MemoryContextAllocZero(w->cxt, sizeof(uint32) * w->cap);
		mask = w->cap - 1;
		for (j = 0; j < oldcap; j++)
		{
			if (oldgens[j] != w->gen)
				continue;
			i = (uint32) oldslots[j] & mask;
			while (w->gens[i] == w->gen)
				i = (i + 1) & mask;
			w->gens[i] = w->gen;
			w->slots[i] = oldslots[j];
		}
		pfree(oldslots);
		pfree(oldgens);
	}

	mask = w->cap - 1;
	i = (uint32) hash & mask;
	while (w->gens[i] == w->gen)
	{
		if (w->slots[i] == hash)
			return false;
		i = (i + 1) & mask;
	}
	w->gens[i] = w->gen;
	w->slots[i] = hash;
	w->count++;
	return true;
}

/*
 * Append s, escaped for a label value (\, " and newline) or for HELP text
 * (\ and newline).  Bytes that are not valid UTF-8 become U+FFFD, so that
 * nothing a user can put in a name or application_name breaks a parser.
 */
static void
append_escaped(StringInfo out, const char *s, bool label_value)
{
	const unsigned char *p = (const unsigned char *) s;
	const unsigned char *end = p + strlen(s);

	while (p < end)
	{
		const unsigned char *run = p;

		/* copy the longest run of plain ASCII in one go */
		while (p < end && *p < 0x80 && *p != '\\' && *p != '\n' &&
			   !(*p == '"' && label_value))
			p++;
		if (p > run)
			appendBinaryStringInfo(out, (const char *) run, p - run);
		if (p >= end)
			break;

		if (*p == '\\')
			appendStringInfoString(out, "\\\\");
		else if (*p == '\n')
			appendStringInfoString(out, "\\n");
		else if (*p == '"')
			appendStringInfoString(out, "\\\"");
		else
		{
			int			len = pg_utf_mblen(p);

			if (len <= end - p && pg_utf8_islegal(p, len))
			{
				appendBinaryStringInfo(out, (const char *) p, len);
				p += len;
				continue;
			}
			appendStringInfoString(out, "\xEF\xBF\xBD");
		}
		p++;
	}
}

/*
 * value as the exposition formats write it, at p (room for
 * PROM_VALUE_MAX bytes); returns its length.
 */
#define PROM_VALUE_MAX Max(DOUBLE_SHORTEST_DECIMAL_LEN, MAXINT8LEN + 1)

static inline int
format_value(char *p, double value)
{
	if (isnan(value))
	{
		memcpy(p, "NaN", 3);
		return 3;
	}
	if (isinf(value))
	{
		memcpy(p, value > 0 ? "+Inf" : "-Inf", 4);
		return 4;
	}
	if (value == rint(value) && fabs(value) < 1e15)
		return pg_lltoa((int64) value, p);
	return double_to_shortest_decimal_bufn(value, p);
}

void
pgprom_expo_append_double(StringInfo out, double value)
{
	enlargeStringInfo(out, PROM_VALUE_MAX);
	out->len += format_value(out->data + out->len, value);
	out->data[out->len] = '\0';
}

/*
 * Write one sample of the open family.  suffix is NULL or a histogram
 * series suffix ("_bucket", "_sum", "_count").
 */
void
pgprom_expo_sample(PromWriter *w, const char *suffix, int nlabels,
				   const char *const *names, const char *const *values,
				   double value)
{
	StringInfo	line = &w->line;
	int			i;

	w->last_written = false;
	if (!w->open)
		return;

	resetStringInfo(line);
	appendStringInfoString(line, w->family);
	if (suffix)
		appendStringInfoString(line, suffix);
	if (nlabels > 0 || w->server)
	{
		appendStringInfoChar(line, '{');
		for (i = 0; i < nlabels; i++)
		{
			if (!pgprom_valid_label_name(names[i]))
			{
				w->duplicates++;
				return;
			}
			if (i > 0)
				appendStringInfoChar(line, ',');
			appendStringInfoString(line, names[i]);
			appendStringInfoString(line, "=\"");
			append_escaped(line, values[i] ? values[i] : "", true);
			appendStringInfoChar(line, '"');
		}
		if (w->server)
		{
			/* postgres_exporter <= 0.19 put server="host:port" on its series */
			appendStringInfoString(line, nlabels > 0 ? ",server=\"" : "server=\"");
			append_escaped(line, w->server, true);
			appendStringInfoChar(line, '"');
		}
		appendStringInfoChar(line, '}');
	}

	if (!series_insert(w, hash_bytes_extended((const unsigned char *) line->data,
											  line->len, 0)))
	{
		w->duplicates++;
		return;
	}

	appendBinaryStringInfo(w->out, line->data, line->len);
	appendStringInfoChar(w->out, ' ');
	pgprom_expo_append_double(w->out, value);
	appendStringInfoChar(w->out, '\n');
	w->last_written = true;
}

/*
 * Native-histogram lines: only writers set up for the protobuf format
 * write them (the text and OpenMetrics formats never carry them).
 */
void
pgprom_expo_set_native(PromWriter *w, bool native)
{
	w->native = native;
}

bool
pgprom_expo_native_wanted(PromWriter *w)
{
	return w->native && w->open;
}

/*
 * Classic per-bucket counts (n, the last +Inf) cut to total, the count of
 * the native buckets read before them: an observation adds to its classic
 * bucket first, so those read after can only be more (by what came in
 * between).  The first buckets keep theirs, the rest is trimmed; a
 * shortfall goes to +Inf.  Both then describe total observations.
 */
void
pgprom_expo_cut_counts(uint64 *counts, int n, uint64 total)
{
	int			b;

	for (b = 0; b < n; b++)
	{
		counts[b] = Min(counts[b], total);
		total -= counts[b];
	}
	counts[n - 1] += total;
}

/* " first_index c1,c2,...": counts[lo..hi] (first_index 0 when empty). */
static uint64
append_native_counts(StringInfo out, int first_index, const uint64 *counts,
					 int n)
{
	uint64		sum = 0;
	int			lo = 0;
	int			hi = n - 1;
	int			i;

	while (lo <= hi && counts[lo] == 0)
		lo++;
	while (hi >= lo && counts[hi] == 0)
		hi--;
	appendStringInfo(out, " %d ", lo <= hi ? first_index + lo : 0);
	for (i = lo; i <= hi; i++)
	{
		appendStringInfo(out, i > lo ? "," UINT64_FORMAT : UINT64_FORMAT,
						 counts[i]);
		sum += counts[i];
	}
	return sum;
}

/*
 * The exponential buckets of the histogram series just written (its
 * _count line must be the last sample), as one comment line that the
 * protobuf encoder (server/protobuf.c) attaches to that series:
 *
 *	# NATIVE schema zero_threshold zero_count count first_index c1,c2,...
 *		[negative_first_index n1,n2,...]
 *
 * (one line).  counts[i] is the count of bucket first_index + i (not
 * cumulative), negative[i] (when given) that of the negative bucket of the
 * same index; count is the total of the zero bucket and all others.
 * Leading and trailing empty buckets are left out.  Nothing is written
 * unless the writer wants native lines and the series was written.
 */
void
pgprom_expo_native(PromWriter *w, int schema, double zero_threshold,
				   uint64 zero_count, int first_index, const uint64 *counts,
				   const uint64 *negative, int n)
{
	StringInfo	out = w->out;
	StringInfoData buckets;
	uint64		count = zero_count;

	if (!w->native || !w->last_written)
		return;
	initStringInfo(&buckets);
	count += append_native_counts(&buckets, first_index, counts, n);
	if (negative)
		count += append_native_counts(&buckets, first_index, negative, n);
	appendStringInfo(out, "# NATIVE %d ", schema);
	pgprom_expo_append_double(out, zero_threshold);
	appendStringInfo(out, " " UINT64_FORMAT " " UINT64_FORMAT,
					 zero_count, count);
	appendBinaryStringInfo(out, buckets.data, buckets.len);
	appendStringInfoChar(out, '\n');
	pfree(buckets.data);
}

/*
 * The label text of a fixed label set, escaped, with the writer's server
 * label: what goes between the braces of pgprom_expo_sample_raw().  Made in
 * CurrentMemoryContext; NULL when a label name is invalid.
 */
char *
pgprom_expo_label_text(PromWriter *w, int nlabels, const char *const *names,
					   const char *const *values)
{
	StringInfoData buf;
	int			i;

	initStringInfo(&buf);
	for (i = 0; i < nlabels; i++)
	{
		if (!pgprom_valid_label_name(names[i]))
		{
			pfree(buf.data);
			return NULL;
		}
		if (i > 0)
			appendStringInfoChar(&buf, ',');
		appendStringInfoString(&buf, names[i]);
		appendStringInfoString(&buf, "=\"");
		append_escaped(&buf, values[i] ? values[i] : "", true);
		appendStringInfoChar(&buf, '"');
	}
	if (w->server)
	{
		appendStringInfoString(&buf, nlabels > 0 ? ",server=\"" : "server=\"");
		append_escaped(&buf, w->server, true);
		appendStringInfoChar(&buf, '"');
	}
	return buf.data;
}

/* The server label a writer adds to every series ("" when none). */
const char *
pgprom_expo_server_label(PromWriter *w)
{
	return w->server ? w->server : "";
}

/*
 * A sample of the open family with label text from pgprom_expo_label_text().
 * For families whose label sets are distinct by construction (one per
 * table of one database, say): no duplicate check, no escaping, which is
 * what makes hundreds of thousands of per-table series cheap.  The caller
 * must not write the same label text twice in a family.
 */
void
pgprom_expo_sample_raw(PromWriter *w, const char *labels, int labels_len,
					   double value)
{
	StringInfo	out = w->out;
	char	   *p;

	if (!w->open)
		return;
	/* one check for room, then straight into the buffer: the hot path */
	enlargeStringInfo(out, w->family_len + labels_len + 4 + PROM_VALUE_MAX);
	p = out->data + out->len;
	memcpy(p, w->family, w->family_len);
	p += w->family_len;
	if (labels_len > 0)
	{
		*p++ = '{';
		memcpy(p, labels, labels_len);
		p += labels_len;
		*p++ = '}';
	}
	*p++ = ' ';
	p += format_value(p, value);
	*p++ = '\n';
	*p = '\0';
	out->len = p - out->data;
}

void
pgprom_expo_value(PromWriter *w, double value)
{
	pgprom_expo_sample(w, NULL, 0, NULL, NULL, value);
}

/* A family of one sample without labels. */
void
pgprom_expo_single(PromWriter *w, const char *name, const char *help,
				   PromType type, double value)
{
	if (pgprom_expo_family(w, name, help, type))
		pgprom_expo_value(w, value);
}

void
pgprom_expo_value1(PromWriter *w, const char *n1, const char *v1, double value)
{
	const char *names[1] = {n1};
	const char *values[1] = {v1};

	pgprom_expo_sample(w, NULL, 1, names, values, value);
}

void
pgprom_expo_value2(PromWriter *w, const char *n1, const char *v1,
				   const char *n2, const char *v2, double value)
{
	const char *names[2] = {n1, n2};
	const char *values[2] = {v1, v2};

	pgprom_expo_sample(w, NULL, 2, names, values, value);
}

void
pgprom_expo_columns(PromWriter *w, const PromColumn *cols, int ncols, int nrows,
					int nlabels, const char *const *labelnames,
					const char *const *labelvalues, const double *values,
					const bool *nulls)
{
	int			c;
	int			r;

	for (c = 0; c < ncols; c++)
	{
		if (!pgprom_expo_family(w, cols[c].name, cols[c].help, cols[c].type))
			continue;
		for (r = 0; r < nrows; r++)
		{
			int			cell = r * ncols + c;

			if (cols[c].skip_null && nulls && nulls[cell])
				continue;
			pgprom_expo_sample(w, NULL, nlabels, labelnames,
							   labelvalues ? labelvalues + r * nlabels : NULL,
							   (nulls && nulls[cell]) ? 0 : values[cell] / cols[c].divisor);
		}
	}
}

void
pgprom_expo_histogram(PromWriter *w, int nlabels, const char *const *names,
					  const char *const *values, const double *bounds, int nbounds,
					  const uint64 *bucket_counts, double sum)
{
	const char *lnames[PROM_MAX_LABELS + 1];
	const char *lvalues[PROM_MAX_LABELS + 1];
	char		le[DOUBLE_SHORTEST_DECIMAL_LEN];
	uint64		cumulative = 0;
	int			i;

	if (nlabels > PROM_MAX_LABELS)
		return;
	for (i = 0; i < nlabels; i++)
	{
		lnames[i] = names[i];
		lvalues[i] = values[i];
	}
	lnames[nlabels] = "le";
	lvalues[nlabels] = le;
	for (i = 0; i <= nbounds; i++)
	{
		cumulative += bucket_counts[i];
		if (i < nbounds)
			double_to_shortest_decimal_buf(bounds[i], le);	/* as clients write
															 * bounds */
		else
			strlcpy(le, "+Inf", sizeof(le));
		pgprom_expo_sample(w, "_bucket", nlabels + 1, lnames, lvalues, (double) cumulative);
	}
	pgprom_expo_sample(w, "_sum", nlabels, names, values, sum);
	pgprom_expo_sample(w, "_count", nlabels, names, values, (double) cumulative);
}

StringInfo
pgprom_expo_output(PromWriter *w)
{
	return w->out;
}

uint64
pgprom_expo_duplicates(PromWriter *w)
{
	return w->duplicates;
}

PromMark
pgprom_expo_mark(PromWriter *w)
{
	PromMark	m;

	m.out_len = w->out->len;
	m.nfamilies = list_length(w->order);
	return m;
}

/*
 * Forget everything written since the mark: the text and the names, so a
 * failed collector leaves no trace but its pg_scrape_collector_success 0.
 */
void
pgprom_expo_rollback(PromWriter *w, PromMark mark)
{
	while (list_length(w->order) > mark.nfamilies)
	{
		PromFamilyRef *ref = llast(w->order);

		release_family(w, ref->name, ref->type);
		w->order = list_delete_last(w->order);
	}
	w->out->len = mark.out_len;
	w->out->data[mark.out_len] = '\0';
	w->open = false;
}

/* Copies, in CurrentMemoryContext, of the families begun since the mark. */
List *
pgprom_expo_families_since(PromWriter *w, PromMark mark)
{
	List	   *result = NIL;
	int			i;

	for (i = mark.nfamilies; i < list_length(w->order); i++)
	{
		PromFamilyRef *ref = list_nth(w->order, i);
		Size		sz = offsetof(PromFamilyRef, name) + strlen(ref->name) + 1;
		PromFamilyRef *copy = palloc(sz);

		memcpy(copy, ref, sz);
		result = lappend(result, copy);
	}
	return result;
}

/*
 * Append text a collector produced earlier (its cached output), reserving
 * its families.  Refused whole if any of its names is taken.
 */
bool
pgprom_expo_replay(PromWriter *w, const char *text, int len, List *families)
{
	PromMark	mark = pgprom_expo_mark(w);
	ListCell   *lc;

	foreach(lc, families)
	{
		PromFamilyRef *ref = lfirst(lc);

		int			nlen = pgprom_metric_name_len(ref->name);

		if (nlen < 0 || !reserve_family(w, ref->name, nlen, ref->type))
		{
			pgprom_expo_rollback(w, mark);
			w->duplicates++;
			return false;
		}
		record_family(w, ref->name, ref->type);
	}
	appendBinaryStringInfo(w->out, text, len);
	w->open = false;
	return true;
}
