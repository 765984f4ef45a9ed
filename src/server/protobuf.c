/*-------------------------------------------------------------------------
 *
 * protobuf.c
 *		The Prometheus protobuf exposition format, made from the text of a
 *		collection: a stream of io.prometheus.client.MetricFamily messages,
 *		each preceded by its length as a varint ("encoding=delimited").
 *
 * Encoded by hand: five message types with a handful of fields each
 * (metrics.proto of prometheus/client_model), which is less code, and less
 * to trust, than a protobuf library and its generated code.  Field numbers
 * used:
 *
 *	MetricFamily	1 name, 2 help, 3 type, 4 metric
 *	Metric			1 label, 2 gauge, 3 counter, 5 untyped, 7 histogram
 *	LabelPair		1 name, 2 value
 *	Gauge, Counter, Untyped		1 value
 *	Histogram		1 sample_count, 2 sample_sum, 3 bucket, 5 schema,
 *					6 zero_threshold, 7 zero_count, 9 negative_span,
 *					10 negative_delta, 12 positive_span,
 *					13 positive_delta
 *	Bucket			1 cumulative_count, 2 upper_bound
 *	BucketSpan		1 offset, 2 length
 *
 * Repeated numbers are written unpacked, as metrics.proto (proto2)
 * declares them.
 *
 * The input is pg_prom's own exposition text (expo.c), so its shape is
 * known: a family's HELP and TYPE lines, then its samples; a histogram
 * series' _bucket lines, _sum and _count together, followed in a
 * collection made for this format by a "# NATIVE" line with its
 * exponential buckets (expo.c), which makes it a native histogram that
 * keeps its classic buckets.  Lines of any other shape are skipped, never
 * read past their end.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "lib/stringinfo.h"

#include "server/protobuf.h"

/* Wire types. */
#define WT_VARINT 0
#define WT_FIXED64 1
#define WT_LEN 2

/* MetricType values. */
#define MT_COUNTER 0
#define MT_GAUGE 1
#define MT_UNTYPED 3
#define MT_HISTOGRAM 4

/* Most labels a series may have here (expo.c writes at most 9). */
#define MAX_LABELS 16

static void
put_varint(StringInfo out, uint64 v)
{
	char		buf[10];
	int			n = 0;

	do
	{
		char		b = (char) (v & 0x7F);

		v >>= 7;
		if (v)
			b |= (char) 0x80;
		buf[n++] = b;
	} while (v);
	appendBinaryStringInfo(out, buf, n);
}

static void
put_tag(StringInfo out, int field, int wiretype)
{
	put_varint(out, ((uint64) field << 3) | wiretype);
}

static void
put_double(StringInfo out, int field, double v)
{
	uint64		bits;
	char		buf[8];
	int			i;

	memcpy(&bits, &v, sizeof(bits));
	for (i = 0; i < 8; i++)
		buf[i] = (char) ((bits >> (8 * i)) & 0xFF);
	put_tag(out, field, WT_FIXED64);
	appendBinaryStringInfo(out, buf, 8);
}

static void
put_uint(StringInfo out, int field, uint64 v)
{
	put_tag(out, field, WT_VARINT);
	put_varint(out, v);
}

/* sint32/sint64: zigzag */
static void
put_sint(StringInfo out, int field, int64 v)
{
	put_tag(out, field, WT_VARINT);
	put_varint(out, ((uint64) v << 1) ^ (uint64) (v >> 63));
}

static void
put_bytes(StringInfo out, int field, const char *data, int len)
{
	put_tag(out, field, WT_LEN);
	put_varint(out, (uint64) len);
	appendBinaryStringInfo(out, data, len);
}

/*---- reading the text ----*/

/* One histogram's native part, from a "# NATIVE" line. */
typedef struct NativePart
{
	int			schema;
	double		zero_threshold;
	uint64		zero_count;
	uint64		count;
	int			first_index;
	StringInfoData counts;		/* uint64 per bucket, raw */
	int			neg_first_index;
	StringInfoData neg_counts;	/* likewise, negative buckets (or empty) */
} NativePart;

typedef struct Encoder
{
	StringInfo	out;
	StringInfoData family;		/* the MetricFamily being built */
	StringInfoData metric;		/* the Metric being built */
	StringInfoData hist;		/* its Histogram, while one is open */
	StringInfoData scratch;
	int			type;			/* of the family; -1: none open */
	bool		metric_open;
	/* the open histogram series: its labels text (without le) */
	StringInfoData hist_labels;
	uint64		hist_count;
	double		hist_sum;
	bool		have_native;
	NativePart	native;
	/* the open family's name (for TYPE lines), cut at its size */
	char		family_name[256];
	int			family_name_len;
} Encoder;

static void
remember_name(Encoder *enc, const char *name, int len)
{
	enc->family_name_len = Min(len, (int) sizeof(enc->family_name));
	memcpy(enc->family_name, name, enc->family_name_len);
}

/* Unescape a HELP text or label value (\\, \n, \") into out. */
static void
unescape(StringInfo out, const char *s, const char *e)
{
	while (s < e)
	{
		if (*s == '\\' && s + 1 < e)
		{
			s++;
			appendStringInfoChar(out, *s == 'n' ? '\n' : *s);
		}
		else
			appendStringInfoChar(out, *s);
		s++;
	}
}

static double
parse_value(const char *s, const char *e)
{
	char		buf[64];
	int			n = Min(e - s, (long) sizeof(buf) - 1);

	memcpy(buf, s, n);
	buf[n] = '\0';
	if (strcmp(buf, "NaN") == 0)
		return NAN;
	if (strcmp(buf, "+Inf") == 0)
		return INFINITY;
	if (strcmp(buf, "-Inf") == 0)
		return -INFINITY;
	return strtod(buf, NULL);
}

/* The end of a quoted label value starting after its opening quote. */
static const char *
value_end(const char *s, const char *e)
{
	while (s < e && *s != '"')
		s += (*s == '\\' && s + 1 < e) ? 2 : 1;
	return s;
}

/* One label of a label text: name [ns, ne), escaped value [vs, ve). */
typedef struct LabelRef
{
	const char *ns;
	const char *ne;
	const char *vs;
	const char *ve;
} LabelRef;

/*
 * The label of the label text [*p, e) that starts at *p ('name="value"',
 * then an optional comma); false at the end or at anything else.  *p is
 * advanced past it, never past e.
 */
static bool
next_label(const char **p, const char *e, LabelRef *l)
{
	const char *eq;

	if (*p >= e)
		return false;
	eq = memchr(*p, '=', e - *p);
	if (eq == NULL || eq + 1 >= e || eq[1] != '"')
		return false;
	l->ns = *p;
	l->ne = eq;
	l->vs = eq + 2;
	l->ve = value_end(l->vs, e);
	*p = Min(l->ve + 1, e);		/* past the closing quote */
	if (*p < e && **p == ',')
		(*p)++;
	return true;
}

static bool
is_le(const LabelRef *l)
{
	return l->ne - l->ns == 2 && memcmp(l->ns, "le", 2) == 0;
}

/*
 * The buckets of one sign of a native histogram: counts (uint64 each, of
 * buckets first_index, first_index + 1, ...) as a span for each run of
 * non-empty buckets (field span_field, its offset from the end of the
 * previous span) and the non-empty counts as deltas (field delta_field).
 */
static void
put_buckets(StringInfo h, StringInfo spans, int span_field, int delta_field,
			int first_index, StringInfo counts)
{
	const uint64 *c = (const uint64 *) counts->data;
	int			n = counts->len / (int) sizeof(uint64);
	int			i = 0;
	int			next_index = first_index;
	bool		first = true;
	int64		prev = 0;

	while (i < n)
	{
		int			start;

		if (c[i] == 0)
		{
			i++;
			continue;
		}
		start = i;
		while (i < n && c[i] != 0)
			i++;
		resetStringInfo(spans);
		put_sint(spans, 1, first ? first_index + start :
				 first_index + start - next_index);
		put_uint(spans, 2, (uint64) (i - start));
		put_bytes(h, span_field, spans->data, spans->len);
		next_index = first_index + i;
		first = false;
	}
	for (i = 0; i < n; i++)
	{
		if (c[i] == 0)
			continue;
		put_sint(h, delta_field, (int64) c[i] - prev);
		prev = (int64) c[i];
	}
}

/* Close the open Metric (and its histogram) into the family. */
static void
close_metric(Encoder *enc)
{
	if (!enc->metric_open)
		return;
	if (enc->type == MT_HISTOGRAM)
	{
		StringInfo	h = &enc->hist;
		uint64		count = enc->hist_count;
		StringInfoData spans;

		initStringInfo(&spans);
		if (enc->have_native)
		{
			NativePart *np = &enc->native;

			/* the count the buckets add up to: Prometheus checks it */
			count = np->count;
			put_sint(h, 5, np->schema);
			put_double(h, 6, np->zero_threshold);
			put_uint(h, 7, np->zero_count);
			put_buckets(h, &spans, 9, 10, np->neg_first_index, &np->neg_counts);
			put_buckets(h, &spans, 12, 13, np->first_index, &np->counts);
		}
		resetStringInfo(&enc->scratch);
		put_uint(&enc->scratch, 1, count);
		put_double(&enc->scratch, 2, enc->hist_sum);
		appendBinaryStringInfo(&enc->scratch, h->data, h->len);
		put_bytes(&enc->metric, 7, enc->scratch.data, enc->scratch.len);
		pfree(spans.data);
	}
	put_bytes(&enc->family, 4, enc->metric.data, enc->metric.len);
	resetStringInfo(&enc->metric);
	resetStringInfo(&enc->hist);
	resetStringInfo(&enc->hist_labels);
	enc->metric_open = false;
	enc->have_native = false;
	enc->hist_count = 0;
	enc->hist_sum = 0;
}

/* Close the open family into the output, with its length first. */
static void
close_family(Encoder *enc)
{
	close_metric(enc);
	if (enc->type < 0)
		return;
	put_varint(enc->out, (uint64) enc->family.len);
	appendBinaryStringInfo(enc->out, enc->family.data, enc->family.len);
	resetStringInfo(&enc->family);
	enc->type = -1;
}

/* Add the labels of a label text ("a=\"x\",b=\"y\"") to the open Metric. */
static void
add_labels(Encoder *enc, const char *s, const char *e, bool skip_le)
{
	LabelRef	l;
	StringInfoData pair;

	initStringInfo(&pair);
	while (next_label(&s, e, &l))
	{
		if (skip_le && is_le(&l))
			continue;
		resetStringInfo(&pair);
		put_bytes(&pair, 1, l.ns, l.ne - l.ns);
		resetStringInfo(&enc->scratch);
		unescape(&enc->scratch, l.vs, l.ve);
		put_bytes(&pair, 2, enc->scratch.data, enc->scratch.len);
		put_bytes(&enc->metric, 1, pair.data, pair.len);
	}
	pfree(pair.data);
}

/* The label text of a histogram sample without its le label, and le. */
static void
labels_without_le(StringInfo out, const char *s, const char *e, double *le)
{
	LabelRef	l;

	resetStringInfo(out);
	*le = INFINITY;
	while (next_label(&s, e, &l))
	{
		if (is_le(&l))
			*le = parse_value(l.vs, l.ve);
		else
		{
			appendBinaryStringInfo(out, l.ns, l.ve - l.ns);
			appendStringInfoChar(out, ',');
		}
	}
}

static bool
ends_with(const char *s, int len, const char *suffix)
{
	int			n = strlen(suffix);

	return len >= n && memcmp(s + len - n, suffix, n) == 0;
}

static void
sample_line(Encoder *enc, const char *s, const char *e)
{
	const char *fname = enc->family_name;
	int			fname_len = enc->family_name_len;
	const char *name_end = s;
	const char *lab_s = NULL;
	const char *lab_e = NULL;
	const char *val_s;
	double		value;

	while (name_end < e && *name_end != '{' && *name_end != ' ')
		name_end++;
	if (name_end < e && *name_end == '{')
	{
		lab_s = name_end + 1;
		lab_e = lab_s;
		while (lab_e < e && *lab_e != '}')
			lab_e = (*lab_e == '"') ? value_end(lab_e + 1, e) + 1 : lab_e + 1;
		if (lab_e >= e)
			return;
		val_s = lab_e + 1;
	}
	else
		val_s = name_end;
	while (val_s < e && *val_s == ' ')
		val_s++;
	if (val_s >= e)
		return;
	value = parse_value(val_s, e);

	if (enc->type < 0)
		return;					/* no family: our text always has one */

	if (enc->type == MT_HISTOGRAM)
	{
		int			nlen = name_end - s;
		StringInfoData key;
		double		le = 0;

		if (nlen < fname_len || memcmp(s, fname, fname_len) != 0)
			return;
		initStringInfo(&key);
		le = INFINITY;
		if (lab_s)
			labels_without_le(&key, lab_s, lab_e, &le);
		if (!enc->metric_open || key.len != enc->hist_labels.len ||
			memcmp(key.data, enc->hist_labels.data, key.len) != 0)
		{
			close_metric(enc);
			enc->metric_open = true;
			appendBinaryStringInfo(&enc->hist_labels, key.data, key.len);
			if (lab_s)
				add_labels(enc, lab_s, lab_e, true);
		}
		pfree(key.data);
		if (ends_with(s, nlen, "_bucket") && nlen == fname_len + 7)
		{
			StringInfoData b;

			if (isinf(le))
				return;			/* +Inf: the count says it */
			initStringInfo(&b);
			put_uint(&b, 1, (uint64) value);
			put_double(&b, 2, le);
			put_bytes(&enc->hist, 3, b.data, b.len);
			pfree(b.data);
		}
		else if (ends_with(s, nlen, "_sum") && nlen == fname_len + 4)
			enc->hist_sum = value;
		else if (ends_with(s, nlen, "_count") && nlen == fname_len + 6)
			enc->hist_count = (uint64) value;
		return;
	}

	/* one Metric per sample */
	close_metric(enc);
	enc->metric_open = true;
	if (lab_s)
		add_labels(enc, lab_s, lab_e, false);
	resetStringInfo(&enc->scratch);
	put_double(&enc->scratch, 1, value);
	put_bytes(&enc->metric,
			  enc->type == MT_COUNTER ? 3 : enc->type == MT_GAUGE ? 2 : 5,
			  enc->scratch.data, enc->scratch.len);
	close_metric(enc);
}

/* The comma-separated counts [s, e) appended to counts, raw. */
static void
parse_counts(StringInfo counts, const char *s, const char *e)
{
	char		buf[32];

	while (s < e)
	{
		const char *ce = memchr(s, ',', e - s);
		uint64		v;
		int			n;

		if (ce == NULL)
			ce = e;
		n = Min(ce - s, (long) sizeof(buf) - 1);
		memcpy(buf, s, n);
		buf[n] = '\0';
		v = strtou64(buf, NULL, 10);
		appendBinaryStringInfo(counts, (char *) &v, sizeof(v));
		s = ce + 1;
	}
}

/*
 * "# NATIVE schema zero_threshold zero_count count first_index c1,c2,...
 * [negative_first_index n1,n2,...]" (expo.c): fields separated by one
 * space, the counts possibly empty.
 */
static void
native_line(Encoder *enc, const char *s, const char *e)
{
	NativePart *np = &enc->native;
	char		buf[64];
	const char *p = s;
	int			field;

	if (enc->type != MT_HISTOGRAM || !enc->metric_open)
		return;
	resetStringInfo(&np->counts);
	resetStringInfo(&np->neg_counts);
	np->neg_first_index = 0;
	for (field = 0; field < 8;)
	{
		const char *fe = p;
		int			n;

		while (fe < e && *fe != ' ')
			fe++;
		if (field == 5 || field == 7)
			parse_counts(field == 5 ? &np->counts : &np->neg_counts, p, fe);
		else
		{
			n = Min(fe - p, (long) sizeof(buf) - 1);
			memcpy(buf, p, n);
			buf[n] = '\0';
			switch (field)
			{
				case 0:
					np->schema = atoi(buf);
					break;
				case 1:
					np->zero_threshold = strtod(buf, NULL);
					break;
				case 2:
					np->zero_count = strtou64(buf, NULL, 10);
					break;
				case 3:
					np->count = strtou64(buf, NULL, 10);
					break;
				case 4:
					np->first_index = atoi(buf);
					break;
				case 6:
					np->neg_first_index = atoi(buf);
					break;
			}
		}
		field++;
		if (fe >= e)
			break;
		p = fe + 1;
	}
	if (field >= 6)
		enc->have_native = true;
}

static void
comment_line(Encoder *enc, const char *s, const char *e)
{
	const char *name;
	const char *name_end;
	const char *rest;

	if (e - s > 9 && memcmp(s, "# NATIVE ", 9) == 0)
	{
		native_line(enc, s + 9, e);
		return;
	}
	if (!(e - s > 7 && (memcmp(s, "# HELP ", 7) == 0 || memcmp(s, "# TYPE ", 7) == 0)))
		return;
	name = s + 7;
	name_end = name;
	while (name_end < e && *name_end != ' ')
		name_end++;
	rest = name_end < e ? name_end + 1 : e;

	if (s[2] == 'H')
	{
		/* HELP comes first: a new family begins */
		close_family(enc);
		enc->type = MT_UNTYPED;
		put_bytes(&enc->family, 1, name, name_end - name);
		remember_name(enc, name, name_end - name);
		resetStringInfo(&enc->scratch);
		unescape(&enc->scratch, rest, e);
		put_bytes(&enc->family, 2, enc->scratch.data, enc->scratch.len);
		return;
	}
	/* a TYPE of another family than the open one begins a new family */
	if (enc->type >= 0 &&
		!(enc->family_name_len == name_end - name &&
		  memcmp(enc->family_name, name, name_end - name) == 0))
		close_family(enc);
	if (enc->type < 0)
	{
		enc->type = MT_UNTYPED;
		put_bytes(&enc->family, 1, name, name_end - name);
		remember_name(enc, name, name_end - name);
	}
	if (e - rest == 7 && memcmp(rest, "counter", 7) == 0)
		enc->type = MT_COUNTER;
	else if (e - rest == 5 && memcmp(rest, "gauge", 5) == 0)
		enc->type = MT_GAUGE;
	else if (e - rest == 9 && memcmp(rest, "histogram", 9) == 0)
		enc->type = MT_HISTOGRAM;
	else
		enc->type = MT_UNTYPED;
	put_uint(&enc->family, 3, (uint64) enc->type);
}

void
pgprom_protobuf_from_text(const char *text, int len, StringInfo out)
{
	Encoder		enc;
	const char *p = text;
	const char *end = text +len;

	memset(&enc, 0, sizeof(enc));
	enc.out = out;
	enc.type = -1;
	initStringInfo(&enc.family);
	initStringInfo(&enc.metric);
	initStringInfo(&enc.hist);
	initStringInfo(&enc.scratch);
	initStringInfo(&enc.hist_labels);
	initStringInfo(&enc.native.counts);
	initStringInfo(&enc.native.neg_counts);

	while (p < end)
	{
		const char *nl = memchr(p, '\n', end - p);
		const char *e = nl ? nl : end;

		if (nl == NULL)
			break;				/* a line cut short: never a sample */

		if (e > p && *p == '#')
			comment_line(&enc, p, e);
		else if (e > p)
			sample_line(&enc, p, e);
		p = nl ? nl + 1 : end;
	}
	close_family(&enc);
	pfree(enc.family.data);
	pfree(enc.metric.data);
	pfree(enc.hist.data);
	pfree(enc.scratch.data);
	pfree(enc.hist_labels.data);
	pfree(enc.native.counts.data);
	pfree(enc.native.neg_counts.data);
}
