/*-------------------------------------------------------------------------
 *
 * appmetrics.h
 *		Application metrics recorded from SQL into shared memory, and a
 *		consistent copy of them for the exposition.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PG_PROM_APPMETRICS_H
#define PG_PROM_APPMETRICS_H

#define APP_NAME_MAX 128		/* metric name, with its NUL */
#define APP_MAX_LABEL_PAIRS 8
#define APP_MAX_BOUNDS 20		/* histogram upper bounds besides +Inf */
#define APP_HELP_MAX 256

/*
 * Native-histogram buckets of an application histogram: exponential, over
 * a quarter of its smallest bound (in magnitude, 0 aside) to four times its
 * largest, at the finest schema (3 down to 0) that fits APP_NATIVE_BUCKETS
 * (app_native_layout() in appmetrics.c).  When the first bound is at or
 * below 0 the same buckets are kept for negative observations too, in the
 * second half.
 */
#define APP_NATIVE_BUCKETS 128

typedef struct AppNativeLayout
{
	bool		on;				/* false: every bound is 0, or the range does
								 * not fit */
	bool		negative;		/* native[n .. 2n - 1] count -value */
	int			schema;
	int			first_index;	/* of native[0] (and of native[n]) */
	int			n;				/* buckets used per sign */
	double		zero_threshold;
} AppNativeLayout;


typedef enum AppType
{
	APP_COUNTER,
	APP_GAUGE,
	APP_HISTOGRAM
} AppType;

/* A copy of one family. */
typedef struct AppFamilyCopy
{
	char		name[APP_NAME_MAX];
	AppType		type;
	Oid			owner;
	int			nbounds;
	double		bounds[APP_MAX_BOUNDS];
	AppNativeLayout native;		/* a histogram's native buckets */
	char		help[APP_HELP_MAX];
} AppFamilyCopy;

/* A copy of one series: labels sorted by name. */
typedef struct AppSeriesCopy
{
	const char *name;
	AppType		type;
	int			nlabels;
	const char *label_names[APP_MAX_LABEL_PAIRS];
	const char *label_values[APP_MAX_LABEL_PAIRS];
	double		value;			/* a histogram's sum */
	uint64		buckets[APP_MAX_BOUNDS + 1];	/* per bucket, the last +Inf */
	uint64		native_zero;	/* a histogram's native buckets */
	uint64		native[APP_NATIVE_BUCKETS];
} AppSeriesCopy;

/* Every family and series, each sorted by name, taken at one moment. */
typedef struct AppSnapshot
{
	int			nfamilies;
	AppFamilyCopy *families;
	int			nseries;
	AppSeriesCopy *series;
	uint64		dropped;		/* trigger updates lost to a full table */
} AppSnapshot;

extern const char *const pgprom_app_type_names[];

extern Size pgprom_app_metrics_shmem_size(void);
extern void pgprom_app_metrics_shmem_request(void);
extern void pgprom_app_metrics_shmem_init(void);

/* False when application metrics are off (not preloaded, or capacity 0). */
extern bool pgprom_app_metrics_snapshot(AppSnapshot *snap);

/* Whether a family of that name is defined. */
extern bool pgprom_app_metric_exists(const char *name);

#endif							/* PG_PROM_APPMETRICS_H */
