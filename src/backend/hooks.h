/*-------------------------------------------------------------------------
 *
 * hooks.h
 *		Counters fed by hooks in every backend: statement and transaction
 *		latency histograms, errors by severity and SQLSTATE, and
 *		authentication outcomes.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PG_PROM_HOOKS_H
#define PG_PROM_HOOKS_H

#include "libpq/hba.h"
#include "port/atomics.h"

/* Latency buckets, in seconds (upper bounds; +Inf is implied). */
#define PGPROM_LATENCY_BUCKETS 16
extern const double pgprom_latency_bounds[PGPROM_LATENCY_BUCKETS];

/* Statement kinds of the latency histogram. */
typedef enum PromCommand
{
	PROM_CMD_SELECT,
	PROM_CMD_INSERT,
	PROM_CMD_UPDATE,
	PROM_CMD_DELETE,
	PROM_CMD_MERGE,
	PROM_CMD_UTILITY,
	PROM_CMD_OTHER,
	PROM_NUM_COMMANDS
} PromCommand;

extern const char *const pgprom_command_names[PROM_NUM_COMMANDS];

/*
 * The same observations in exponential buckets, for Prometheus native
 * histograms (schema 3): bucket i holds (2^((i-1)/8), 2^(i/8)] seconds, a
 * width of 9%.  Observations up to PGPROM_NATIVE_ZERO_THRESHOLD (2^-20 s,
 * about a microsecond) are counted in the zero bucket; those beyond
 * 2^22 s (48 days: an idle-in-transaction session's transaction) in the
 * last bucket.
 */
#define PGPROM_NATIVE_SCHEMA 3
#define PGPROM_NATIVE_MIN_INDEX (-159)
#define PGPROM_NATIVE_MAX_INDEX 176
#define PGPROM_NATIVE_BUCKETS (PGPROM_NATIVE_MAX_INDEX - PGPROM_NATIVE_MIN_INDEX + 1)
#define PGPROM_NATIVE_ZERO_THRESHOLD (1.0 / 1048576.0)

/* One histogram: per-bucket (not cumulative) counts, sum and count. */
typedef struct PromHistogram
{
	pg_atomic_uint64 buckets[PGPROM_LATENCY_BUCKETS + 1];	/* last: +Inf */
	pg_atomic_uint64 sum_us;
	pg_atomic_uint64 count;
	pg_atomic_uint64 native_zero;
	pg_atomic_uint64 native[PGPROM_NATIVE_BUCKETS]; /* from MIN_INDEX */
} PromHistogram;

extern int	pgprom_native_bucket(double value, int schema);
extern int	pgprom_native_index(double seconds);

/* Counters of one database slot. */
typedef struct PromDatabaseCounters
{
	pg_atomic_uint32 dboid;		/* InvalidOid: free (the last slot: others) */
	PromHistogram statements[PROM_NUM_COMMANDS];
	PromHistogram transactions;
} PromDatabaseCounters;

#define PGPROM_SEVERITIES 4		/* WARNING, ERROR, FATAL, PANIC */
#define PGPROM_SQLSTATE_CLASSES 4096	/* two 6-bit characters */
#define PGPROM_AUTH_RESULTS 3	/* success, failure, client_aborted */
#define PGPROM_AUTH_METHODS (USER_AUTH_LAST + 2)	/* + unknown */

/* The individual SQLSTATEs operators alert on. */
typedef struct PromErrorCode
{
	int			sqlstate;
	const char *condition;
} PromErrorCode;

#define PGPROM_ERROR_CODES 16
extern const PromErrorCode pgprom_error_codes[PGPROM_ERROR_CODES];

typedef struct PromHookCounters
{
	int			ndatabases;		/* slots, the last one for "others" */
	pg_atomic_uint64 errors[PGPROM_SEVERITIES][PGPROM_SQLSTATE_CLASSES];
	pg_atomic_uint64 error_codes[PGPROM_ERROR_CODES];
	pg_atomic_uint64 auth[PGPROM_AUTH_RESULTS][PGPROM_AUTH_METHODS];
	PromDatabaseCounters databases[FLEXIBLE_ARRAY_MEMBER];
} PromHookCounters;

extern const char *const pgprom_severity_names[PGPROM_SEVERITIES];
extern const char *const pgprom_auth_result_names[PGPROM_AUTH_RESULTS];

/* NULL unless loaded through shared_preload_libraries */
extern PromHookCounters *pgprom_hook_counters;

extern Size pgprom_hook_counters_size(void);
extern void pgprom_hook_counters_init(PromHookCounters *c);
extern void pgprom_install_hooks(void);
extern const char *pgprom_auth_method_name(int method);
extern void pgprom_release_database_slot(int slot, Oid dboid);

/* Set in pg_prom's own processes: their statements are not counted. */
extern bool pgprom_in_own_process;

#endif							/* PG_PROM_HOOKS_H */
