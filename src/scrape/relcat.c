/*-------------------------------------------------------------------------
 *
 * relcat.c
 *		Read the relation catalog of the current database into one flat
 *		buffer (see relcat.h), and look things up in such a buffer.
 *
 * Three catalog queries (user tables, their indexes, every relation OID
 * above the system range), each with a cached plan, all names and
 * operators schema-qualified; then, when asked, the sizes of each table
 * under a conditional lock, as the old per-table query did: a table whose
 * lock is not free at once (a migration holds it) is skipped, never waited
 * for.  The buffer is built in CurrentMemoryContext and is position
 * independent, so it can be copied into dynamic shared memory as it is.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/transam.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/syscache.h"

#include "scrape/query.h"
#include "scrape/relcat.h"

/* pg_stat_user_tables' and pg_stat_user_indexes' choice of schemas */
#define USER_SCHEMA(n) \
	" " n ".nspname OPERATOR(pg_catalog.<>) ALL ('{pg_catalog,information_schema}'::pg_catalog.name[])" \
	" AND " n ".nspname OPERATOR(pg_catalog.!~) '^pg_toast'"

static int
size_cmp(const void *a, const void *b)
{
	return oid_cmp(&((const RelCatSize *) a)->relid,
				   &((const RelCatSize *) b)->relid);
}

/* Append a string to the area; its offset. */
static uint32
add_string(StringInfo strings, const char *s)
{
	uint32		off = strings->len;

	appendBinaryStringInfo(strings, s, strlen(s) + 1);
	return off;
}

/* Pad buf to a MAXALIGN boundary; the offset there. */
static uint32
align(StringInfo buf)
{
	while (buf->len % MAXIMUM_ALIGNOF != 0)
		appendStringInfoChar(buf, '\0');
	return buf->len;
}

void
pgprom_relcat_read(StringInfo buf, bool sizes)
{
	static SPIPlanPtr tables_plan = NULL;
	static SPIPlanPtr indexes_plan = NULL;
	static SPIPlanPtr known_plan = NULL;
	RelCatHeader h;
	RelCatTable *tables;
	RelCatIndex *indexes;
	RelCatSize *sz = NULL;
	Oid		   *known;
	StringInfoData strings;
	uint64		n;
	uint64		r;
	int			t;

	memset(&h, 0, sizeof(h));
	initStringInfo(&strings);

	/* the user tables, as pg_stat_user_tables lists them (temp ones aside) */
	n = pgprom_query(&tables_plan,
					 "SELECT c.oid::pg_catalog.int8::pg_catalog.float8,"
					 " n.nspname::pg_catalog.text, c.relname::pg_catalog.text,"
					 " c.reltoastrelid::pg_catalog.int8::pg_catalog.float8,"
					 " COALESCE((SELECT x.indexrelid FROM pg_catalog.pg_index x"
					 "   WHERE x.indrelid OPERATOR(pg_catalog.=) c.reltoastrelid LIMIT 1),"
					 "  0::pg_catalog.oid)::pg_catalog.int8::pg_catalog.float8,"
					 " CASE WHEN c.relkind OPERATOR(pg_catalog.=) ANY ('{r,t,m}'::pg_catalog.\"char\"[])"
					 "  THEN pg_catalog.age(c.relfrozenxid)::pg_catalog.float8 ELSE -1 END,"
					 " c.relkind::pg_catalog.text"
					 " FROM pg_catalog.pg_class c"
					 " JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace"
					 " WHERE c.relkind OPERATOR(pg_catalog.=) ANY ('{r,t,m,p}'::pg_catalog.\"char\"[])"
					 " AND c.relpersistence OPERATOR(pg_catalog.<>) 't' AND" USER_SCHEMA("n")
					 " ORDER BY n.nspname, c.relname");
	h.ntables = (int32) n;
	tables = palloc0(sizeof(RelCatTable) * Max(n, 1));
	for (r = 0; r < n; r++)
	{
		tables[r].relid = (Oid) pgprom_double(r, 1, 0);
		tables[r].schemaname = add_string(&strings, pgprom_text(r, 2));
		tables[r].relname = add_string(&strings, pgprom_text(r, 3));
		tables[r].toastrelid = (Oid) pgprom_double(r, 4, 0);
		tables[r].toastidxid = (Oid) pgprom_double(r, 5, 0);
		tables[r].xid_age = (int32) Min(pgprom_double(r, 6, -1), PG_INT32_MAX);
		tables[r].relkind = pgprom_text(r, 7)[0];
	}

	/* their indexes, in the same order of tables, as pg_stat_user_indexes */
	n = pgprom_query(&indexes_plan,
					 "SELECT x.indexrelid::pg_catalog.int8::pg_catalog.float8,"
					 " x.indrelid::pg_catalog.int8::pg_catalog.float8, i.relname::pg_catalog.text"
					 " FROM pg_catalog.pg_index x"
					 " JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) x.indrelid"
					 " JOIN pg_catalog.pg_class i ON i.oid OPERATOR(pg_catalog.=) x.indexrelid"
					 " JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace"
					 " WHERE c.relkind OPERATOR(pg_catalog.=) ANY ('{r,t,m}'::pg_catalog.\"char\"[])"
					 " AND c.relpersistence OPERATOR(pg_catalog.<>) 't' AND" USER_SCHEMA("n")
					 " ORDER BY n.nspname, c.relname, i.relname");
	indexes = palloc0(sizeof(RelCatIndex) * Max(n, 1));
	t = 0;
	for (r = 0; r < n; r++)
	{
		Oid			indrelid = (Oid) pgprom_double(r, 2, 0);

		/* both lists are in schema and table name order: walk them together */
		while (t < h.ntables && tables[t].relid != indrelid)
			t++;
		if (t >= h.ntables)
			break;				/* cannot happen: the same snapshot */
		if (tables[t].nindexes == 0)
			tables[t].first_index = h.nindexes;
		tables[t].nindexes++;
		indexes[h.nindexes].indexrelid = (Oid) pgprom_double(r, 1, 0);
		indexes[h.nindexes].table = t;
		indexes[h.nindexes].indexrelname = add_string(&strings, pgprom_text(r, 3));
		h.nindexes++;
	}

	/* every relation of the database above the system range */
	n = pgprom_query(&known_plan,
					 "SELECT c.oid::pg_catalog.int8::pg_catalog.float8 FROM pg_catalog.pg_class c"
					 " WHERE c.oid OPERATOR(pg_catalog.>=) 16384::pg_catalog.oid ORDER BY c.oid");
	StaticAssertStmt(FirstNormalObjectId == 16384, "FirstNormalObjectId changed");
	h.nknown = (int32) n;
	known = palloc(sizeof(Oid) * Max(n, 1));
	for (r = 0; r < n; r++)
		known[r] = (Oid) pgprom_double(r, 1, 0);

	/* sizes, never waiting for a lock */
	h.nsizes = -1;
	if (sizes)
	{
		h.nsizes = 0;
		sz = palloc(sizeof(RelCatSize) * Max(h.ntables, 1));
		for (t = 0; t < h.ntables; t++)
		{
			Oid			relid = tables[t].relid;
			Datum		d = ObjectIdGetDatum(relid);

			CHECK_FOR_INTERRUPTS();
			if (!ConditionalLockRelationOid(relid, AccessShareLock))
			{
				h.skipped_locked++;
				continue;
			}
			if (SearchSysCacheExists1(RELOID, d))
			{
				RelCatSize *s = &sz[h.nsizes++];

				s->relid = relid;
				s->table_bytes = (double) DatumGetInt64(DirectFunctionCall1(pg_table_size, d));
				s->index_bytes = (double) DatumGetInt64(DirectFunctionCall1(pg_indexes_size, d));
				s->total_bytes = (double) DatumGetInt64(DirectFunctionCall1(pg_total_relation_size, d));
			}
			UnlockRelationOid(relid, AccessShareLock);
		}
		qsort(sz, h.nsizes, sizeof(RelCatSize), size_cmp);
	}

	/* the buffer: header, arrays, strings */
	resetStringInfo(buf);
	appendBinaryStringInfo(buf, (char *) &h, sizeof(h));
	h.tables_off = align(buf);
	appendBinaryStringInfo(buf, (char *) tables, sizeof(RelCatTable) * h.ntables);
	h.indexes_off = align(buf);
	appendBinaryStringInfo(buf, (char *) indexes, sizeof(RelCatIndex) * h.nindexes);
	h.known_off = align(buf);
	appendBinaryStringInfo(buf, (char *) known, sizeof(Oid) * h.nknown);
	h.sizes_off = align(buf);
	if (h.nsizes > 0)
		appendBinaryStringInfo(buf, (char *) sz, sizeof(RelCatSize) * h.nsizes);
	h.strings_off = align(buf);
	appendBinaryStringInfo(buf, strings.data, strings.len);
	appendStringInfoChar(buf, '\0');	/* the area always ends with a NUL */
	h.size = buf->len;
	memcpy(buf->data, &h, sizeof(h));

	pfree(tables);
	pfree(indexes);
	pfree(known);
	if (sz)
		pfree(sz);
	pfree(strings.data);
}

bool
pgprom_relcat_knows(const RelCatHeader *h, Oid relid)
{
	const Oid  *known = (const Oid *) ((const char *) h + h->known_off);

	return bsearch(&relid, known, h->nknown, sizeof(Oid), oid_cmp) != NULL;
}

const RelCatSize *
pgprom_relcat_size(const RelCatHeader *h, Oid relid)
{
	RelCatSize	key;

	if (h->nsizes <= 0)
		return NULL;
	key.relid = relid;
	return bsearch(&key, (const char *) h + h->sizes_off, h->nsizes,
				   sizeof(RelCatSize), size_cmp);
}

/* Whether [off, off + len) lies inside a buffer of size bytes. */
static bool
inside(uint64 off, uint64 len, uint64 size)
{
	return off <= size && len <= size - off;
}

bool
pgprom_relcat_valid(const RelCatHeader *h, Size len)
{
	const RelCatTable *tables;
	const RelCatIndex *indexes;
	uint64		strings_len;
	int			i;

	if (len < sizeof(RelCatHeader) || h->size != len ||
		h->ntables < 0 || h->nindexes < 0 || h->nknown < 0 || h->nsizes < -1)
		return false;
	if (!inside(h->tables_off, (uint64) h->ntables * sizeof(RelCatTable), len) ||
		!inside(h->indexes_off, (uint64) h->nindexes * sizeof(RelCatIndex), len) ||
		!inside(h->known_off, (uint64) h->nknown * sizeof(Oid), len) ||
		!inside(h->sizes_off, (uint64) Max(h->nsizes, 0) * sizeof(RelCatSize), len) ||
		!inside(h->strings_off, 1, len) ||
		((const char *) h)[len - 1] != '\0')
		return false;
	if (h->tables_off % MAXIMUM_ALIGNOF || h->indexes_off % MAXIMUM_ALIGNOF ||
		h->known_off % MAXIMUM_ALIGNOF || h->sizes_off % MAXIMUM_ALIGNOF)
		return false;
	strings_len = len - h->strings_off;
	tables = pgprom_relcat_tables(h);
	indexes = pgprom_relcat_indexes(h);
	for (i = 0; i < h->ntables; i++)
	{
		if (tables[i].schemaname >= strings_len || tables[i].relname >= strings_len ||
			tables[i].first_index < 0 || tables[i].nindexes < 0 ||
			(int64) tables[i].first_index + tables[i].nindexes > h->nindexes)
			return false;
	}
	for (i = 0; i < h->nindexes; i++)
	{
		if (indexes[i].indexrelname >= strings_len ||
			indexes[i].table < 0 || indexes[i].table >= h->ntables)
			return false;
	}
	return true;
}
