/*-------------------------------------------------------------------------
 *
 * names.h
 *		Metric and label names: what is valid, and what is pg_prom's own.
 *
 * A leaf, used by the exposition writer and by everything that takes a
 * name from a user (application metrics, custom queries).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PG_PROM_NAMES_H
#define PG_PROM_NAMES_H

/* Longest metric name the writer accepts (histogram suffixes included). */
#define PGPROM_NAME_MAX 200

extern bool pgprom_valid_metric_name(const char *name);
extern int	pgprom_metric_name_len(const char *name);

/* The same without colons: the names applications and custom queries may use. */
extern bool pgprom_valid_user_metric_name(const char *name);
extern bool pgprom_valid_label_name(const char *name);

/*
 * Whether name is pg_prom's own, on any supported PostgreSQL version: it
 * starts with a reserved prefix, or it is (or differs only by a
 * _total/_created/_bucket/_sum/_count/_info suffix from) a family pg_prom's
 * collectors may write.  *why then says which rule matched.
 */
extern bool pgprom_name_reserved(const char *name, const char **why);

#endif							/* PG_PROM_NAMES_H */
