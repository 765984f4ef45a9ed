/*-------------------------------------------------------------------------
 *
 * appmetrics.c
 *		Application metrics recorded from SQL: counters, gauges and
 *		histograms in shared memory.
 *
 * pg_prom_counter_inc('shop_orders_total', 'region', 'eu') and its kin
 * update a series (a metric name plus label pairs) in a shared hash table
 * sized at start by pg_prom.max_app_series.  The app_metrics collector
 * exports every series with the other families.
 *
 * Concurrency: one LWLock guards the tables' shape.  An update finds its
 * series under the lock in shared mode and changes the value with atomic
 * operations, so sessions updating at the same time never lose an update;
 * only creating a series or a family, and dropping one, take the lock in
 * exclusive mode.  Updates are not transactional, like sequences: they
 * happen when the function runs and a rollback does not undo them (a
 * counter of attempts must count the attempts that failed, and shared
 * memory cannot be part of a transaction).  Values live as long as the
 * server: a worker restart keeps them, a server restart starts from zero.
 *
 * Every bad input is an ERROR with an error code before anything changes:
 * invalid names, odd label lists, a type clash, a full table, a name of
 * pg_prom's own (names.c: nobody may write a built-in family).
 *
 * Ownership: names are one namespace per server, but EXECUTE on these
 * functions is granted per database, so a family belongs to the role that
 * created it (for pg_prom_count_rows(), the owner of the table the trigger
 * is on).  Writing, redefining or dropping it takes the privileges of that
 * role (being it, a member of it, or a superuser): a role granted the
 * functions in one database cannot change another application's metrics.
 * The check costs nothing when the owner writes its own metric.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/tuplestore.h"
#include "utils/timestamp.h"

#include "backend/appmetrics.h"
#include "backend/hooks.h"
#include "compat.h"
#include "guc.h"
#include "names.h"
#include "shmem.h"

#define APP_LABELS_MAX 256		/* "name\0value\0" pairs, serialized */

const char *const pgprom_app_type_names[] = {"counter", "gauge", "histogram"};

#define app_type_names pgprom_app_type_names

/* The client libraries' default buckets, in seconds. */
static const double default_bounds[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

/*
 * Hash key of a series.  Only the name (to its NUL) and the first
 * labels_len bytes of labels count: series_hash and series_match read no
 * further, so a key need not be zero-filled.
 */
typedef struct AppSeriesKey
{
	char		name[APP_NAME_MAX];
	uint16		labels_len;
	char		labels[APP_LABELS_MAX];
} AppSeriesKey;

typedef struct AppSeries
{
	AppSeriesKey key;
	AppType		type;
	Oid			owner;			/* its family's */
	pg_atomic_uint64 value;		/* double bits: the value, or a histogram's
								 * sum */
	pg_atomic_uint64 buckets[APP_MAX_BOUNDS + 1];	/* per bucket, the last
													 * +Inf */
	pg_atomic_uint64 native_zero;	/* native buckets (histograms) */
	pg_atomic_uint64 native[APP_NATIVE_BUCKETS];
} AppSeries;

typedef struct AppFamily
{
	char		name[APP_NAME_MAX]; /* hash key */
	AppType		type;
	Oid			owner;			/* the role that created it */
	int			nseries;
	int			nbounds;
	double		bounds[APP_MAX_BOUNDS];
	AppNativeLayout native;		/* from the bounds, set with them */
	char		help[APP_HELP_MAX];
} AppFamily;

typedef struct AppMetricsShared
{
	LWLock	   *lock;
	int			nseries;		/* under the lock */
	int			nfamilies;
	pg_atomic_uint64 dropped;	/* trigger updates lost to a full table */
} AppMetricsShared;

/* Last log line of this backend about updates dropped. */
static TimestampTz last_drop_log = 0;


static AppMetricsShared *app_shared = NULL;
static HTAB *app_series = NULL;
static HTAB *app_families = NULL;

/*
 * The native buckets of a histogram with these bounds: bucket i holds
 * (2^((i-1)/2^schema), 2^(i/2^schema)]; from a quarter of the smallest
 * bound in magnitude (0 aside; at or below it: the zero bucket) to four
 * times the largest (above it: the last bucket), at the finest schema that
 * fits APP_NATIVE_BUCKETS.  When the first bound is not above 0, negative
 * observations are expected: the same buckets again for them (each half of
 * APP_NATIVE_BUCKETS); otherwise a negative observation counts in the zero
 * bucket, as it counts in the first classic one.  None when every bound is
 * 0 (no scale to start from).  Made when a family's bounds are set and
 * kept with them (AppFamily.native), under the lock held exclusively: the
 * backends that observe and the collector that writes read the same.
 */
static void
app_native_layout(const double *bounds, int nbounds,
				  AppNativeLayout *layout)
{
	double		smallest = 0;
	double		largest = 0;
	bool		negative;
	int			i;
	int			schema;

	memset(layout, 0, sizeof(*layout));
	if (nbounds < 1)
		return;
	for (i = 0; i < nbounds; i++)
	{
		double		m = fabs(bounds[i]);

		if (m > 0 && (smallest == 0 || m < smallest))
			smallest = m;
		if (m > largest)
			largest = m;
	}
	if (!(smallest > 0))
		return;
	negative = !(bounds[0] > 0);
	for (schema = 3; schema >= 0; schema--)
	{
		double		f = (double) (1 << schema);
		double		zmin = floor(log2(smallest / 4) * f);
		double		top = ceil(log2(largest * 4) * f);

		if ((top - zmin) * (negative ? 2 : 1) <= APP_NATIVE_BUCKETS)
		{
			layout->on = true;
			layout->negative = negative;
			layout->schema = schema;
			layout->first_index = (int) zmin + 1;
			layout->n = (int) (top - zmin);
			layout->zero_threshold = exp2(zmin / f);
			return;
		}
	}
}

/*
 * Position in native[] of an observation: -1 for the zero bucket (at or
 * below the zero threshold in magnitude, or negative without negative
 * buckets).
 */
static int
app_native_slot(const AppNativeLayout *l, double value)
{
	double		m = fabs(value);
	int			index;
	int			slot;

	if (!(m > l->zero_threshold) || (value < 0 && !l->negative))
		return -1;
	index = pgprom_native_bucket(m, l->schema);
	if (index < l->first_index)
		slot = 0;
	else if (index >= l->first_index + l->n)
		slot = l->n - 1;
	else
		slot = index - l->first_index;
	return value < 0 ? l->n + slot : slot;
}

static void
check_available(void)
{
	if (app_shared == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("application metrics are not available"),
				 errdetail(pgprom_shared == NULL ?
						   "pg_prom is not loaded through shared_preload_libraries." :
						   "pg_prom.max_app_series is 0."),
				 errhint("Set shared_preload_libraries = 'pg_prom' and pg_prom.max_app_series > 0, then restart the server.")));
}

/* Hash and match of series keys over the bytes that are used. */
static uint32
series_hash(const void *key, Size keysize)
{
	const AppSeriesKey *k = key;

	return hash_combine(hash_bytes((const unsigned char *) k->name, strlen(k->name)),
						hash_bytes((const unsigned char *) k->labels, k->labels_len));
}

static int
series_match(const void *key1, const void *key2, Size keysize)
{
	const AppSeriesKey *a = key1;
	const AppSeriesKey *b = key2;

	if (a->labels_len != b->labels_len || strcmp(a->name, b->name) != 0)
		return 1;
	return memcmp(a->labels, b->labels, a->labels_len);
}

Size
pgprom_app_metrics_shmem_size(void)
{
	Size		size;

	if (pgprom_max_app_series <= 0)
		return 0;
	size = MAXALIGN(sizeof(AppMetricsShared));
	size = add_size(size, hash_estimate_size(pgprom_max_app_series, sizeof(AppSeries)));
	size = add_size(size, hash_estimate_size(pgprom_max_app_series, sizeof(AppFamily)));
	return size;
}

void
pgprom_app_metrics_shmem_request(void)
{
	if (pgprom_max_app_series <= 0)
		return;
	RequestAddinShmemSpace(pgprom_app_metrics_shmem_size());
	RequestNamedLWLockTranche("pg_prom app metrics", 1);
}

/* Called under AddinShmemInitLock. */
void
pgprom_app_metrics_shmem_init(void)
{
	HASHCTL		info;
	bool		found;

	if (pgprom_max_app_series <= 0)
		return;
	app_shared = ShmemInitStruct("pg_prom app metrics", sizeof(AppMetricsShared), &found);
	if (!found)
	{
		app_shared->lock = &(GetNamedLWLockTranche("pg_prom app metrics"))->lock;
		app_shared->nseries = 0;
		app_shared->nfamilies = 0;
		pg_atomic_init_u64(&app_shared->dropped, 0);
	}
	info.keysize = sizeof(AppSeriesKey);
	info.entrysize = sizeof(AppSeries);
	info.hash = series_hash;
	info.match = series_match;
	app_series = pgprom_shmem_init_hash("pg_prom app series", pgprom_max_app_series,
										&info, HASH_ELEM | HASH_FUNCTION | HASH_COMPARE);
	info.keysize = APP_NAME_MAX;
	info.entrysize = sizeof(AppFamily);
	app_families = pgprom_shmem_init_hash("pg_prom app families", pgprom_max_app_series,
										  &info, HASH_ELEM | HASH_STRINGS);
}

/* ---------- input checks ---------- */

static void
check_metric_name(const char *name)
{
	if (strlen(name) >= APP_NAME_MAX || !pgprom_valid_user_metric_name(name))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_NAME),
				 errmsg("invalid metric name \"%s\"", name),
				 errdetail("A metric name is 1 to %d characters from [a-zA-Z0-9_], not starting with a digit (colons are for Prometheus's recording rules).",
						   APP_NAME_MAX - 1),
				 errhint("Prefix it with your application's name and end counters in _total, for example \"shop_orders_total\".")));
}

/* A name pg_prom's collectors write is not for applications. */
static void
check_not_reserved(const char *name)
{
	const char *why;

	if (pgprom_name_reserved(name, &why))
		ereport(ERROR,
				(errcode(ERRCODE_RESERVED_NAME),
				 errmsg("metric name \"%s\" is reserved for pg_prom's own metrics", name),
				 errdetail("Names starting with \"%s\" or equal to it, up to a _total, _bucket, _sum, _count, _created or _info suffix, are pg_prom's.",
						   why),
				 errhint("Prefix application metrics with your application's name, for example \"shop_orders_total\".")));
}

/* Whether actor may write, redefine or drop a family owned by owner. */
static bool
may_write(Oid actor, Oid owner)
{
	return actor == owner || superuser_arg(actor) ||
		has_privs_of_role(actor, owner);
}

static void
not_owner(const char *name, Oid owner)
{
	char	   *rolename = GetUserNameFromId(owner, true);

	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("permission denied for application metric \"%s\"", name),
			 errdetail("It belongs to role %s; only that role, its members and superusers may change it.",
					   rolename ? quote_identifier(rolename) : psprintf("with OID %u", owner)),
			 errhint("Use a name of your own application, or GRANT the owning role to this one.")));
}

/*
 * Name and labels as one zero-filled key, label names sorted; lnames and
 * lvalues may be reordered.
 */
static void
key_from_labels(const char *name, int npairs, const char **lnames,
				const char **lvalues, AppType type, AppSeriesKey *key)
{
	int			i;
	int			j;
	int			off = 0;

	check_metric_name(name);
	if (npairs > APP_MAX_LABEL_PAIRS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("too many labels for metric \"%s\"", name),
				 errdetail("At most %d labels are allowed; %d were given.",
						   APP_MAX_LABEL_PAIRS, npairs)));
	strlcpy(key->name, name, APP_NAME_MAX);

	for (i = 0; i < npairs; i++)
	{
		if (!pgprom_valid_label_name(lnames[i]))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_NAME),
					 errmsg("invalid label name \"%s\"", lnames[i]),
					 errdetail("A label name is made of [a-zA-Z0-9_], does not start with a digit and does not start with \"__\".")));
		if (type == APP_HISTOGRAM && strcmp(lnames[i], "le") == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_NAME),
					 errmsg("label name \"le\" is reserved for histogram buckets")));
	}
	/* sort by label name (insertion sort: at most 8) and refuse repeats */
	for (i = 1; i < npairs; i++)
	{
		const char *kn = lnames[i];
		const char *kv = lvalues[i];

		for (j = i - 1; j >= 0 && strcmp(lnames[j], kn) > 0; j--)
		{
			lnames[j + 1] = lnames[j];
			lvalues[j + 1] = lvalues[j];
		}
		lnames[j + 1] = kn;
		lvalues[j + 1] = kv;
	}
	for (i = 1; i < npairs; i++)
		if (strcmp(lnames[i - 1], lnames[i]) == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("label \"%s\" is given twice", lnames[i])));
	for (i = 0; i < npairs; i++)
	{
		int			ln = strlen(lnames[i]) + 1;
		int			vn = strlen(lvalues[i]) + 1;

		/* series are read from every database: their text must be UTF-8 */
		if (GetDatabaseEncoding() != PG_UTF8 &&
			!pg_verify_mbstr(PG_UTF8, lvalues[i], vn - 1, true))
			ereport(ERROR,
					(errcode(ERRCODE_CHARACTER_NOT_IN_REPERTOIRE),
					 errmsg("value of label \"%s\" of metric \"%s\" is not valid UTF-8", lnames[i], name),
					 errdetail("Application metrics are shared by every database of the server, and the exposition is UTF-8.")));

		if (off + ln + vn > APP_LABELS_MAX)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("labels of metric \"%s\" are too long", name),
					 errdetail("Label names and values together are limited to %d bytes.",
							   APP_LABELS_MAX - 2 * APP_MAX_LABEL_PAIRS)));
		memcpy(key->labels + off, lnames[i], ln);
		off += ln;
		memcpy(key->labels + off, lvalues[i], vn);
		off += vn;
	}
	key->labels_len = off;
}

/* The key of a name and a text[] of label name, value pairs. */
static void
build_key(const char *name, ArrayType *pairs, AppType type, AppSeriesKey *key)
{
	Datum	   *elems = NULL;
	bool	   *nulls = NULL;
	int			n = 0;
	const char *lnames[APP_MAX_LABEL_PAIRS];
	const char *lvalues[APP_MAX_LABEL_PAIRS];
	int			npairs;
	int			i;

	if (pairs != NULL)
	{
		if (ARR_NDIM(pairs) > 1)
			ereport(ERROR,
					(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
					 errmsg("labels must be a one-dimensional array of name, value pairs")));
		deconstruct_array(pairs, TEXTOID, -1, false, TYPALIGN_INT,
						  &elems, &nulls, &n);
	}
	if (n % 2 != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("labels must come in name, value pairs"),
				 errdetail("The label \"%s\" has no value.",
						   nulls[n - 1] ? "(null)" : TextDatumGetCString(elems[n - 1])),
				 errhint("For example: pg_prom_counter_inc('shop_orders_total', 'region', 'eu').")));
	npairs = n / 2;
	if (npairs > APP_MAX_LABEL_PAIRS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("too many labels for metric \"%s\"", name),
				 errdetail("At most %d labels are allowed; %d were given.",
						   APP_MAX_LABEL_PAIRS, npairs)));
	for (i = 0; i < npairs; i++)
	{
		if (nulls[2 * i] || nulls[2 * i + 1])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("label names and values must not be null"),
					 errhint("Use an empty string, or coalesce(), for a missing value.")));
		lnames[i] = TextDatumGetCString(elems[2 * i]);
		lvalues[i] = TextDatumGetCString(elems[2 * i + 1]);
	}
	key_from_labels(name, npairs, lnames, lvalues, type, key);
}

static AppType
parse_type(const char *s)
{
	int			i;

	for (i = 0; i < lengthof(app_type_names); i++)
		if (strcmp(s, app_type_names[i]) == 0)
			return (AppType) i;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid metric type \"%s\"", s),
			 errhint("The types are counter, gauge and histogram.")));
	return APP_GAUGE;			/* not reached */
}

/* ---------- the shared tables ---------- */

static void
type_clash(const char *name, AppType have, AppType want)
{
	ereport(ERROR,
			(errcode(ERRCODE_WRONG_OBJECT_TYPE),
			 errmsg("metric \"%s\" is a %s, not a %s", name,
					app_type_names[have], app_type_names[want]),
			 errhint("Use another name, or drop it first with pg_prom_metric_drop('%s').", name)));
}

static void
capacity_error(const char *name)
{
	ereport(ERROR,
			(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
			 errmsg("no room for another application metric series (\"%s\")", name),
			 errdetail("All %d series of pg_prom.max_app_series are in use.",
					   pgprom_max_app_series),
			 errhint("Raise pg_prom.max_app_series (needs a restart), drop unused metrics with pg_prom_metric_drop(), or use fewer label values.")));
}

/*
 * Create the family if needed; the caller holds the lock exclusively.
 * Returns NULL, with *clash set, on a type clash; NULL with no clash when
 * the table is full.
 */
/* The series names a histogram adds to its family's name. */
static const char *const histogram_suffixes[] = {"_bucket", "_sum", "_count"};

/*
 * The existing family whose series names a new family of that name and
 * type would share: a histogram's _bucket/_sum/_count, or the histogram
 * whose such series the name is.  NULL when there is none.  The caller
 * holds the lock.
 */
static AppFamily *
series_name_taken(const char *name, AppType type)
{
	char		other[APP_NAME_MAX + 16];
	size_t		len = strlen(name);
	AppFamily  *f;
	int			i;

	for (i = 0; i < lengthof(histogram_suffixes); i++)
	{
		size_t		slen = strlen(histogram_suffixes[i]);

		/* name is x_sum, and x is a histogram */
		if (len > slen && strcmp(name + len - slen, histogram_suffixes[i]) == 0)
		{
			memcpy(other, name, len - slen);
			other[len - slen] = '\0';
			f = hash_search(app_families, other, HASH_FIND, NULL);
			if (f != NULL && f->type == APP_HISTOGRAM)
				return f;
		}
		/* name is a histogram, and name_sum a family */
		if (type == APP_HISTOGRAM && len + slen < sizeof(other) &&
			len + slen < APP_NAME_MAX)
		{
			snprintf(other, sizeof(other), "%s%s", name, histogram_suffixes[i]);
			f = hash_search(app_families, other, HASH_FIND, NULL);
			if (f != NULL)
				return f;
		}
	}
	return NULL;
}

static AppFamily *
family_enter(const char *name, AppType type, Oid owner, bool *clash)
{
	AppFamily  *f;
	bool		found;

	*clash = false;
	f = hash_search(app_families, name, HASH_FIND, NULL);
	if (f != NULL)
	{
		*clash = (f->type != type);
		return *clash ? NULL : f;
	}
	if (series_name_taken(name, type) != NULL)
	{
		*clash = true;
		return NULL;
	}
	if (app_shared->nfamilies >= pgprom_max_app_series)
		return NULL;
	f = hash_search(app_families, name, HASH_ENTER_NULL, &found);
	if (f == NULL)
		return NULL;
	app_shared->nfamilies++;
	f->type = type;
	f->owner = owner;
	f->nseries = 0;
	snprintf(f->help, sizeof(f->help), "Application %s set from SQL.", app_type_names[type]);
	if (type == APP_HISTOGRAM)
	{
		f->nbounds = lengthof(default_bounds);
		memcpy(f->bounds, default_bounds, sizeof(default_bounds));
	}
	else
		f->nbounds = 0;
	app_native_layout(f->bounds, f->nbounds, &f->native);
	return f;
}

/*
 * family_enter, raising the type clash or capacity error; the caller holds
 * the lock exclusively, and on error it is released first.  With
 * drop_when_full, a full table returns NULL, the lock still held.
 */
static AppFamily *
family_enter_or_error(const char *name, AppType type, Oid owner,
					  bool drop_when_full)
{
	bool		clash;
	AppFamily  *f = family_enter(name, type, owner, &clash);

	if (f == NULL && !clash && drop_when_full)
		return NULL;
	if (f == NULL)
	{
		AppFamily  *other = hash_search(app_families, name, HASH_FIND, NULL);
		AppType		have = other ? other->type : type;

		if (clash && other == NULL)
		{
			AppFamily  *taken = series_name_taken(name, type);
			char		tname[APP_NAME_MAX];

			strlcpy(tname, taken ? taken->name : "", sizeof(tname));
			LWLockRelease(app_shared->lock);
			ereport(ERROR,
					(errcode(ERRCODE_DUPLICATE_OBJECT),
					 errmsg("metric \"%s\" would share series names with metric \"%s\"", name, tname),
					 errdetail("A histogram x writes the series x_bucket, x_sum and x_count."),
					 errhint("Use another name.")));
		}
		LWLockRelease(app_shared->lock);
		if (clash)
			type_clash(name, have, type);
		capacity_error(name);
	}
	return f;
}

static void
atomic_add_double(pg_atomic_uint64 *v, double d)
{
	uint64		old = pg_atomic_read_u64(v);

	for (;;)
	{
		double		cur;
		double		next;
		uint64		bits;

		memcpy(&cur, &old, sizeof(double));
		next = cur + d;
		memcpy(&bits, &next, sizeof(double));
		if (pg_atomic_compare_exchange_u64(v, &old, bits))
			return;
	}
}

typedef enum AppOp
{
	APP_OP_ADD,
	APP_OP_SET,
	APP_OP_OBSERVE
} AppOp;

/* Apply an update to a series; the caller holds the lock (any mode). */
static void
apply(AppSeries *s, const AppFamily *f, AppOp op, double value)
{
	switch (op)
	{
		case APP_OP_ADD:
			atomic_add_double(&s->value, value);
			break;
		case APP_OP_SET:
			{
				uint64		bits;

				memcpy(&bits, &value, sizeof(double));
				pg_atomic_write_u64(&s->value, bits);
			}
			break;
		case APP_OP_OBSERVE:
			{
				int			b = 0;

				if (f == NULL)	/* a histogram series always has its family */
					return;
				while (b < f->nbounds && value > f->bounds[b])
					b++;
				pg_atomic_fetch_add_u64(&s->buckets[b], 1);
				if (f->native.on)
				{
					int			slot = app_native_slot(&f->native, value);

					pg_atomic_fetch_add_u64(slot < 0 ? &s->native_zero :
											&s->native[slot], 1);
				}
				atomic_add_double(&s->value, value);
			}
			break;
	}
}

/*
 * Find or create the series and apply the update as actor.  Errors are
 * raised only after the lock is released; the owner's privileges are
 * checked outside the lock (they read the catalog) and once per call.
 */
/*
 * A trigger's update that found the table full: counted and logged now and
 * then, never an error that would fail the application's write.  The
 * caller holds the lock; it is released here.
 */
static void
drop_update(const char *name)
{
	TimestampTz now = GetCurrentTimestamp();

	pg_atomic_fetch_add_u64(&app_shared->dropped, 1);
	LWLockRelease(app_shared->lock);
	if (last_drop_log == 0 || TimestampDifferenceExceeds(last_drop_log, now, 60 * 1000))
	{
		last_drop_log = now;
		ereport(LOG,
				(errmsg("pg_prom: application metric \"%s\" was not updated: all %d series of pg_prom.max_app_series are in use",
						name, pgprom_max_app_series),
				 errdetail("pg_prom_count_rows() never fails the write it counts; pg_prom_app_metric_updates_dropped_total counts the losses."),
				 errhint("Raise pg_prom.max_app_series (needs a restart) or drop unused metrics with pg_prom_metric_drop().")));
	}
}

static void
update_series(AppSeriesKey *key, AppType type, AppOp op, double value,
			  Oid actor, bool drop_when_full)
{
	AppSeries  *s;
	AppFamily  *f;
	bool		found;
	Oid			allowed = actor;	/* an owner actor may write for */

	check_available();

	for (;;)
	{
		LWLockAcquire(app_shared->lock, LW_SHARED);
		s = hash_search(app_series, key, HASH_FIND, NULL);
		if (s == NULL || s->type != type)
			break;
		if (s->owner != allowed)
		{
			Oid			owner = s->owner;

			LWLockRelease(app_shared->lock);
			if (!may_write(actor, owner))
				not_owner(key->name, owner);
			allowed = owner;
			continue;
		}
		f = (type == APP_HISTOGRAM) ?
			hash_search(app_families, key->name, HASH_FIND, NULL) : NULL;
		apply(s, f, op, value);
		LWLockRelease(app_shared->lock);
		return;
	}
	LWLockRelease(app_shared->lock);

	/* a new series, maybe of a new family */
	LWLockAcquire(app_shared->lock, LW_SHARED);
	f = hash_search(app_families, key->name, HASH_FIND, NULL);
	if (f == NULL || f->owner != allowed)
	{
		Oid			owner = f ? f->owner : InvalidOid;

		LWLockRelease(app_shared->lock);
		if (OidIsValid(owner))
		{
			if (!may_write(actor, owner))
				not_owner(key->name, owner);
			allowed = owner;
		}
		else
			check_not_reserved(key->name);
	}
	else
		LWLockRelease(app_shared->lock);

	LWLockAcquire(app_shared->lock, LW_EXCLUSIVE);
	f = family_enter_or_error(key->name, type, actor, drop_when_full);
	if (f == NULL)
	{
		drop_update(key->name);
		return;
	}
	if (f->owner != actor && f->owner != allowed)
	{
		/* created or redefined by another role meanwhile: check again */
		Oid			owner = f->owner;

		LWLockRelease(app_shared->lock);
		if (!may_write(actor, owner))
			not_owner(key->name, owner);
		update_series(key, type, op, value, actor, drop_when_full);
		return;
	}
	s = hash_search(app_series, key, HASH_FIND, NULL);
	if (s == NULL)
	{
		if (app_shared->nseries >= pgprom_max_app_series ||
			(s = hash_search(app_series, key, HASH_ENTER_NULL, &found)) == NULL)
		{
			/* an empty family created just now is not kept */
			if (f->nseries == 0)
			{
				hash_search(app_families, key->name, HASH_REMOVE, NULL);
				app_shared->nfamilies--;
			}
			if (drop_when_full)
			{
				drop_update(key->name);
				return;
			}
			LWLockRelease(app_shared->lock);
			capacity_error(key->name);
		}
		else
		{
			int			i;

			s->type = type;
			s->owner = f->owner;
			pg_atomic_init_u64(&s->value, 0);	/* 0.0 has all bits zero */
			for (i = 0; i <= APP_MAX_BOUNDS; i++)
				pg_atomic_init_u64(&s->buckets[i], 0);
			pg_atomic_init_u64(&s->native_zero, 0);
			for (i = 0; i < APP_NATIVE_BUCKETS; i++)
				pg_atomic_init_u64(&s->native[i], 0);
			app_shared->nseries++;
			f->nseries++;
		}
	}
	apply(s, f, op, value);
	LWLockRelease(app_shared->lock);
}

static char *
required_text(FunctionCallInfo fcinfo, int arg, const char *what)
{
	if (PG_ARGISNULL(arg))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be null", what)));
	return text_to_cstring(PG_GETARG_TEXT_PP(arg));
}

static double
required_value(FunctionCallInfo fcinfo, int arg, AppType type)
{
	double		v;

	if (PG_ARGISNULL(arg))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the value must not be null")));
	v = PG_GETARG_FLOAT8(arg);
	if (type != APP_GAUGE && (isnan(v) || isinf(v)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a %s cannot take %s", app_type_names[type],
						isnan(v) ? "NaN" : "an infinite value")));
	return v;
}

/* Common body: name in arg 0, value in arg value_arg (or 1), labels last. */
static void
record(FunctionCallInfo fcinfo, AppType type, AppOp op, int value_arg)
{
	AppSeriesKey key;
	char	   *name = required_text(fcinfo, 0, "the metric name");
	int			labels_arg = value_arg < 0 ? 1 : value_arg + 1;
	double		value = value_arg < 0 ? 1.0 : required_value(fcinfo, value_arg, type);
	ArrayType  *pairs = PG_ARGISNULL(labels_arg) ? NULL : PG_GETARG_ARRAYTYPE_P(labels_arg);

	if (type == APP_COUNTER && value < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("counter \"%s\" cannot decrease", name),
				 errdetail("%g was given.", value),
				 errhint("Use a gauge for a value that goes up and down.")));
	build_key(name, pairs, type, &key);
	update_series(&key, type, op, value, GetUserId(), false);
}

PG_FUNCTION_INFO_V1(pg_prom_counter_inc);
PG_FUNCTION_INFO_V1(pg_prom_counter_add);
PG_FUNCTION_INFO_V1(pg_prom_gauge_set);
PG_FUNCTION_INFO_V1(pg_prom_gauge_add);
PG_FUNCTION_INFO_V1(pg_prom_histogram_observe);
PG_FUNCTION_INFO_V1(pg_prom_metric_define);
PG_FUNCTION_INFO_V1(pg_prom_metric_drop);
PG_FUNCTION_INFO_V1(pg_prom_app_metrics);
PG_FUNCTION_INFO_V1(pg_prom_count_rows);

/* pg_prom_counter_inc(name, VARIADIC labels) */
Datum
pg_prom_counter_inc(PG_FUNCTION_ARGS)
{
	record(fcinfo, APP_COUNTER, APP_OP_ADD, -1);
	PG_RETURN_VOID();
}

/* pg_prom_counter_add(name, value, VARIADIC labels) */
Datum
pg_prom_counter_add(PG_FUNCTION_ARGS)
{
	record(fcinfo, APP_COUNTER, APP_OP_ADD, 1);
	PG_RETURN_VOID();
}

Datum
pg_prom_gauge_set(PG_FUNCTION_ARGS)
{
	record(fcinfo, APP_GAUGE, APP_OP_SET, 1);
	PG_RETURN_VOID();
}

Datum
pg_prom_gauge_add(PG_FUNCTION_ARGS)
{
	record(fcinfo, APP_GAUGE, APP_OP_ADD, 1);
	PG_RETURN_VOID();
}

Datum
pg_prom_histogram_observe(PG_FUNCTION_ARGS)
{
	record(fcinfo, APP_HISTOGRAM, APP_OP_OBSERVE, 1);
	PG_RETURN_VOID();
}

/*
 * pg_prom_count_rows() - a row trigger that adds 1 to a counter per row,
 * without a PL/pgSQL function around it:
 *
 *	CREATE TRIGGER ... AFTER INSERT ON orders FOR EACH ROW
 *		EXECUTE FUNCTION pg_prom_count_rows('shop_orders_total', 'region');
 *
 * The first argument is the counter, the others are columns whose values
 * label it (under the column's name).  INSERT and UPDATE count the new row,
 * DELETE the old one.  Errors are the functions' errors, so a trigger on a
 * full table fails the statement rather than losing the count.
 */
Datum
pg_prom_count_rows(PG_FUNCTION_ARGS)
{
	TriggerData *td;
	Trigger    *tg;
	HeapTuple	tuple;
	TupleDesc	desc;
	const char *lnames[APP_MAX_LABEL_PAIRS];
	const char *lvalues[APP_MAX_LABEL_PAIRS];
	AppSeriesKey key;
	int			i;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("pg_prom_count_rows() must be called as a trigger")));
	td = (TriggerData *) fcinfo->context;
	tg = td->tg_trigger;
	if (!TRIGGER_FIRED_FOR_ROW(td->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("pg_prom_count_rows() must be a FOR EACH ROW trigger"),
				 errhint("Trigger \"%s\" counts rows; declare it FOR EACH ROW.", tg->tgname)));
	if (tg->tgnargs < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("trigger \"%s\" gives pg_prom_count_rows() no counter name", tg->tgname),
				 errhint("For example: EXECUTE FUNCTION pg_prom_count_rows('shop_orders_total', 'region').")));
	if (tg->tgnargs - 1 > APP_MAX_LABEL_PAIRS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("trigger \"%s\" labels its counter with too many columns", tg->tgname),
				 errdetail("At most %d labels are allowed.", APP_MAX_LABEL_PAIRS)));

	tuple = TRIGGER_FIRED_BY_UPDATE(td->tg_event) ? td->tg_newtuple : td->tg_trigtuple;
	desc = RelationGetDescr(td->tg_relation);
	for (i = 1; i < tg->tgnargs; i++)
	{
		int			col = SPI_fnumber(desc, tg->tgargs[i]);
		char	   *value;

		if (col <= 0)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("trigger \"%s\" labels its counter with column \"%s\", which table \"%s\" does not have",
							tg->tgname, tg->tgargs[i], RelationGetRelationName(td->tg_relation))));
		value = SPI_getvalue(tuple, desc, col);
		lnames[i - 1] = tg->tgargs[i];
		lvalues[i - 1] = value ? value : "";
	}
	key_from_labels(tg->tgargs[0], tg->tgnargs - 1, lnames, lvalues, APP_COUNTER, &key);
	/* the table's owner counts: whoever may insert into it adds rows */
	update_series(&key, APP_COUNTER, APP_OP_ADD, 1.0,
				  td->tg_relation->rd_rel->relowner, true);

	/* a BEFORE trigger hands the row on; an AFTER trigger's result is ignored */
	return PointerGetDatum(tuple);
}

/*
 * pg_prom_metric_define(name, metric_type, help, buckets) - declare a
 * family with its HELP text and, for a histogram, its bucket bounds.
 * Defining it again updates the help; the type and buckets cannot change
 * while it exists.
 */
Datum
pg_prom_metric_define(PG_FUNCTION_ARGS)
{
	char	   *name = required_text(fcinfo, 0, "the metric name");
	AppType		type = parse_type(required_text(fcinfo, 1, "the metric type"));
	char	   *help = PG_ARGISNULL(2) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(2));
	double		bounds[APP_MAX_BOUNDS];
	int			nbounds = 0;
	AppFamily  *f;
	Oid			owner;
	int			i;

	check_metric_name(name);
	if (help != NULL && strlen(help) >= APP_HELP_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_STRING_DATA_RIGHT_TRUNCATION),
				 errmsg("help text of metric \"%s\" is too long", name),
				 errdetail("At most %d bytes are allowed.", APP_HELP_MAX - 1)));

	if (!PG_ARGISNULL(3))
	{
		ArrayType  *arr = PG_GETARG_ARRAYTYPE_P(3);
		Datum	   *elems;
		bool	   *nulls;
		int			n;

		if (type != APP_HISTOGRAM)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("only a histogram has buckets")));
		if (ARR_NDIM(arr) > 1)
			ereport(ERROR,
					(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
					 errmsg("buckets must be a one-dimensional array")));
		deconstruct_array(arr, FLOAT8OID, sizeof(float8), FLOAT8PASSBYVAL,
						  TYPALIGN_DOUBLE, &elems, &nulls, &n);
		if (n < 1 || n > APP_MAX_BOUNDS)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("a histogram needs 1 to %d bucket bounds; %d were given",
							APP_MAX_BOUNDS, n),
					 errhint("The +Inf bucket is always added; do not list it.")));
		for (i = 0; i < n; i++)
		{
			if (nulls[i])
				ereport(ERROR,
						(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
						 errmsg("bucket bounds must not be null")));
			bounds[i] = DatumGetFloat8(elems[i]);
			if (isnan(bounds[i]) || isinf(bounds[i]) ||
				(i > 0 && bounds[i] <= bounds[i - 1]))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("bucket bounds must be finite and strictly increasing"),
						 errhint("For example: ARRAY[0.01, 0.1, 1, 10].")));
		}
		nbounds = n;
	}

	check_available();
	LWLockAcquire(app_shared->lock, LW_SHARED);
	f = hash_search(app_families, name, HASH_FIND, NULL);
	owner = f ? f->owner : InvalidOid;
	LWLockRelease(app_shared->lock);
	if (!OidIsValid(owner))
		check_not_reserved(name);
	else if (!may_write(GetUserId(), owner))
		not_owner(name, owner);

	LWLockAcquire(app_shared->lock, LW_EXCLUSIVE);
	f = family_enter_or_error(name, type, GetUserId(), false);
	if (f->owner != owner && f->owner != GetUserId())
	{
		Oid			other = f->owner;

		LWLockRelease(app_shared->lock);
		not_owner(name, other);
	}
	if (nbounds > 0 &&
		(f->nbounds != nbounds || memcmp(f->bounds, bounds, nbounds * sizeof(double)) != 0))
	{
		if (f->nseries > 0)
		{
			LWLockRelease(app_shared->lock);
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_IN_USE),
					 errmsg("histogram \"%s\" already has other buckets", name),
					 errhint("Drop it first with pg_prom_metric_drop('%s'); its values are lost.", name)));
		}
		f->nbounds = nbounds;
		memcpy(f->bounds, bounds, nbounds * sizeof(double));
		app_native_layout(f->bounds, f->nbounds, &f->native);
	}
	if (help != NULL)
		strlcpy(f->help, help, sizeof(f->help));
	LWLockRelease(app_shared->lock);
	PG_RETURN_VOID();
}

/* pg_prom_metric_drop(name) - forget a family and its series. */
Datum
pg_prom_metric_drop(PG_FUNCTION_ARGS)
{
	char	   *name = required_text(fcinfo, 0, "the metric name");
	HASH_SEQ_STATUS seq;
	AppSeries  *s;
	AppFamily  *f;
	Oid			owner;
	int64		removed = 0;
	bool		found;

	check_metric_name(name);
	check_available();
	LWLockAcquire(app_shared->lock, LW_SHARED);
	f = hash_search(app_families, name, HASH_FIND, NULL);
	owner = f ? f->owner : InvalidOid;
	LWLockRelease(app_shared->lock);
	if (OidIsValid(owner) && !may_write(GetUserId(), owner))
		not_owner(name, owner);

	LWLockAcquire(app_shared->lock, LW_EXCLUSIVE);
	f = hash_search(app_families, name, HASH_FIND, NULL);
	if (f != NULL && f->owner != owner)
	{
		Oid			other = f->owner;

		/* dropped and created again by someone else meanwhile */
		LWLockRelease(app_shared->lock);
		if (!may_write(GetUserId(), other))
			not_owner(name, other);
		LWLockAcquire(app_shared->lock, LW_EXCLUSIVE);
	}
	hash_search(app_families, name, HASH_REMOVE, &found);
	if (found)
	{
		app_shared->nfamilies--;
		hash_seq_init(&seq, app_series);
		while ((s = hash_seq_search(&seq)) != NULL)
		{
			if (strcmp(s->key.name, name) == 0)
			{
				hash_search(app_series, &s->key, HASH_REMOVE, NULL);
				app_shared->nseries--;
				removed++;
			}
		}
	}
	LWLockRelease(app_shared->lock);
	if (!found)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("application metric \"%s\" does not exist", name)));
	PG_RETURN_INT64(removed);
}

/* ---------- reading ---------- */

static int
compare_series(const void *a, const void *b)
{
	const AppSeries *x = *(AppSeries *const *) a;
	const AppSeries *y = *(AppSeries *const *) b;
	int			c = strcmp(x->key.name, y->key.name);

	if (c != 0)
		return c;
	if (x->key.labels_len != y->key.labels_len)
		return x->key.labels_len < y->key.labels_len ? -1 : 1;
	return memcmp(x->key.labels, y->key.labels, x->key.labels_len);
}

static int
compare_families(const void *a, const void *b)
{
	return strcmp(((const AppFamilyCopy *) a)->name,
				  ((const AppFamilyCopy *) b)->name);
}

/*
 * Copies of every family and series, each sorted by name, in
 * CurrentMemoryContext.  The shared lock is held while copying only.
 */
bool
pgprom_app_metrics_snapshot(AppSnapshot *snap)
{
	HASH_SEQ_STATUS seq;
	AppFamily  *f;
	AppSeries  *s;
	AppSeries  *raw;
	AppSeries **sorted;
	int			nf = 0;
	int			ns = 0;
	int			i;

	memset(snap, 0, sizeof(AppSnapshot));
	if (app_shared == NULL)
		return false;

	LWLockAcquire(app_shared->lock, LW_SHARED);
	snap->families = palloc(sizeof(AppFamilyCopy) * Max(app_shared->nfamilies, 1));
	raw = palloc(sizeof(AppSeries) * Max(app_shared->nseries, 1));
	hash_seq_init(&seq, app_families);
	while ((f = hash_seq_search(&seq)) != NULL)
	{
		AppFamilyCopy *c = &snap->families[nf++];

		memcpy(c->name, f->name, APP_NAME_MAX);
		c->type = f->type;
		c->owner = f->owner;
		c->nbounds = f->nbounds;
		memcpy(c->bounds, f->bounds, sizeof(c->bounds));
		c->native = f->native;
		memcpy(c->help, f->help, APP_HELP_MAX);
	}
	hash_seq_init(&seq, app_series);
	while ((s = hash_seq_search(&seq)) != NULL)
	{
		AppSeries  *c = &raw[ns++];

		c->key = s->key;
		c->type = s->type;
		pg_atomic_init_u64(&c->value, pg_atomic_read_u64(&s->value));
		/* native first: an observation adds to them after the classic one */
		pg_atomic_init_u64(&c->native_zero, 0);
		for (i = 0; i < APP_NATIVE_BUCKETS; i++)
			pg_atomic_init_u64(&c->native[i], 0);
		if (s->type == APP_HISTOGRAM)
		{
			pg_atomic_init_u64(&c->native_zero, pg_atomic_read_u64(&s->native_zero));
			for (i = 0; i < APP_NATIVE_BUCKETS; i++)
				pg_atomic_init_u64(&c->native[i], pg_atomic_read_u64(&s->native[i]));
			pg_read_barrier();
		}
		for (i = 0; i <= APP_MAX_BOUNDS; i++)
			pg_atomic_init_u64(&c->buckets[i], pg_atomic_read_u64(&s->buckets[i]));
	}
	LWLockRelease(app_shared->lock);

	qsort(snap->families, nf, sizeof(AppFamilyCopy), compare_families);
	sorted = palloc(sizeof(AppSeries *) * Max(ns, 1));
	for (i = 0; i < ns; i++)
		sorted[i] = &raw[i];
	qsort(sorted, ns, sizeof(AppSeries *), compare_series);

	snap->series = palloc(sizeof(AppSeriesCopy) * Max(ns, 1));
	for (i = 0; i < ns; i++)
	{
		AppSeries  *r = sorted[i];
		AppSeriesCopy *c = &snap->series[i];
		uint64		bits = pg_atomic_read_u64(&r->value);
		int			off = 0;
		int			b;

		c->name = r->key.name;
		c->type = r->type;
		memcpy(&c->value, &bits, sizeof(double));
		for (b = 0; b <= APP_MAX_BOUNDS; b++)
			c->buckets[b] = pg_atomic_read_u64(&r->buckets[b]);
		c->native_zero = pg_atomic_read_u64(&r->native_zero);
		for (b = 0; b < APP_NATIVE_BUCKETS; b++)
			c->native[b] = pg_atomic_read_u64(&r->native[b]);
		c->nlabels = 0;
		while (off < r->key.labels_len && c->nlabels < APP_MAX_LABEL_PAIRS)
		{
			c->label_names[c->nlabels] = r->key.labels + off;
			off += strlen(r->key.labels + off) + 1;
			c->label_values[c->nlabels] = r->key.labels + off;
			off += strlen(r->key.labels + off) + 1;
			c->nlabels++;
		}
	}
	snap->nfamilies = nf;
	snap->nseries = ns;
	snap->dropped = pg_atomic_read_u64(&app_shared->dropped);
	return true;
}

bool
pgprom_app_metric_exists(const char *name)
{
	bool		found;

	if (app_shared == NULL || strlen(name) >= APP_NAME_MAX)
		return false;
	LWLockAcquire(app_shared->lock, LW_SHARED);
	found = hash_search(app_families, name, HASH_FIND, NULL) != NULL;
	LWLockRelease(app_shared->lock);
	return found;
}

/*
 * pg_prom_app_metrics() - every series: name, type, labels (as in the
 * exposition), value (a histogram's sum), count (histogram only) and the
 * role that owns its family.
 */
Datum
pg_prom_app_metrics(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	AppSnapshot snap;
	int			fi = 0;
	int			i;

	InitMaterializedSRF(fcinfo, 0);
	if (!pgprom_app_metrics_snapshot(&snap))
		return (Datum) 0;
	for (i = 0; i < snap.nseries; i++)
	{
		AppSeriesCopy *s = &snap.series[i];
		Datum		values[6];
		bool		nulls[6] = {false, false, false, false, false, false};
		StringInfoData labels;
		char	   *owner = NULL;
		int			j;

		while (fi < snap.nfamilies && strcmp(snap.families[fi].name, s->name) < 0)
			fi++;
		if (fi < snap.nfamilies && strcmp(snap.families[fi].name, s->name) == 0)
			owner = GetUserNameFromId(snap.families[fi].owner, true);

		initStringInfo(&labels);
		for (j = 0; j < s->nlabels; j++)
		{
			const char *p;

			appendStringInfo(&labels, "%s%s=\"", j > 0 ? "," : "", s->label_names[j]);
			for (p = s->label_values[j]; *p; p++)
			{
				if (*p == '\\' || *p == '"')
					appendStringInfoChar(&labels, '\\');
				if (*p == '\n')
					appendStringInfoString(&labels, "\\n");
				else
					appendStringInfoChar(&labels, *p);
			}
			appendStringInfoChar(&labels, '"');
		}
		values[0] = CStringGetTextDatum(s->name);
		values[1] = CStringGetTextDatum(app_type_names[s->type]);
		values[2] = CStringGetTextDatum(labels.data);
		values[3] = Float8GetDatum(s->value);
		if (s->type == APP_HISTOGRAM)
		{
			uint64		count = 0;

			for (j = 0; j <= APP_MAX_BOUNDS; j++)
				count += s->buckets[j];
			values[4] = Int64GetDatum((int64) count);
		}
		else
			nulls[4] = true;
		if (owner)
			values[5] = CStringGetTextDatum(owner);
		else
			nulls[5] = true;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
