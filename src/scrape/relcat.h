/*-------------------------------------------------------------------------
 *
 * relcat.h
 *		The relation catalog of one database: its user tables and their
 *		indexes with names, TOAST relations and sizes, read from that
 *		database's own catalog, as one flat buffer that crosses processes.
 *
 * The numbers of every relation of every database are in the shared
 * statistics (tables_render.c reads them); only the names live in each
 * database's pg_class.  A relation catalog is read by the process
 * connected to the database (the collector for pg_prom.database, a
 * per-database worker for the others, the caller's backend for
 * pg_prom_metrics()) with pgprom_relcat_read(), and used wherever it
 * lands without decoding: the buffer holds fixed-size records that refer
 * to a string area by offset.
 *
 * A catalog lists the user tables as pg_stat_user_tables does (relkinds r,
 * t, m, p outside pg_catalog, information_schema and the TOAST schemas;
 * temporary tables left out) in schema and name order, their indexes (as
 * pg_stat_user_indexes) in table and name order, and every other relation
 * OID of the database above the system range, so that a statistics entry it
 * does not name can be told from one it should (pgprom_relcat_knows()).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PG_PROM_RELCAT_H
#define PG_PROM_RELCAT_H

#include "lib/stringinfo.h"

/* One user table. */
typedef struct RelCatTable
{
	Oid			relid;
	Oid			toastrelid;		/* InvalidOid: none */
	Oid			toastidxid;		/* its TOAST table's index, or InvalidOid */
	int32		first_index;	/* its indexes: [first_index, +nindexes) */
	int32		nindexes;
	int32		xid_age;		/* age(relfrozenxid) when read; -1: none */
	char		relkind;
	uint32		schemaname;		/* offsets into the string area */
	uint32		relname;
} RelCatTable;

/* One index of a user table. */
typedef struct RelCatIndex
{
	Oid			indexrelid;
	int32		table;			/* its table's position in the tables */
	uint32		indexrelname;	/* offset into the string area */
} RelCatIndex;

/* The sizes of one table, read with a conditional lock. */
typedef struct RelCatSize
{
	Oid			relid;
	double		table_bytes;
	double		index_bytes;
	double		total_bytes;
} RelCatSize;

/* The buffer's header; the arrays and the string area follow it. */
typedef struct RelCatHeader
{
	uint32		size;			/* of the whole buffer, in bytes */
	int32		ntables;
	int32		nindexes;
	int32		nknown;			/* other relation OIDs, sorted */
	int32		nsizes;			/* -1: sizes not read; else sorted by relid */
	int64		skipped_locked; /* tables whose sizes were skipped */
	uint32		tables_off;
	uint32		indexes_off;
	uint32		known_off;
	uint32		sizes_off;
	uint32		strings_off;
} RelCatHeader;

/*
 * Read the current database's catalog into buf (reset first); with sizes,
 * each table's sizes are read under a conditional lock (a table whose lock
 * is not free at once is counted in skipped_locked).  SPI must be
 * connected; runs as the current user (pg_monitor is enough).
 */
extern void pgprom_relcat_read(StringInfo buf, bool sizes);

/* Accessors of a buffer made by pgprom_relcat_read(). */
static inline RelCatTable *
pgprom_relcat_tables(const RelCatHeader *h)
{
	return (RelCatTable *) ((char *) h + h->tables_off);
}

static inline RelCatIndex *
pgprom_relcat_indexes(const RelCatHeader *h)
{
	return (RelCatIndex *) ((char *) h + h->indexes_off);
}

static inline const char *
pgprom_relcat_str(const RelCatHeader *h, uint32 off)
{
	return (const char *) h + h->strings_off + off;
}

/* Whether relid is one of the catalog's relations, of any kind. */
extern bool pgprom_relcat_knows(const RelCatHeader *h, Oid relid);

/* The sizes of a table, or NULL when not read (or skipped). */
extern const RelCatSize *pgprom_relcat_size(const RelCatHeader *h, Oid relid);

/* Whether a buffer of len bytes is a well-formed catalog. */
extern bool pgprom_relcat_valid(const RelCatHeader *h, Size len);

#endif							/* PG_PROM_RELCAT_H */
