/*-------------------------------------------------------------------------
 *
 * legacy.c
 *		Refuse the SECURITY DEFINER functions of pg_prom 1.0 until the
 *		extension is updated.
 *
 * Version 1.0 registered custom queries with PL/pgSQL functions that ran
 * as the extension's owner and resolved names through the extension's
 * schema: where untrusted roles can create objects there, calling them
 * runs their code as a superuser.  This library no longer ships the 1.0
 * script, but a database created with 1.0 keeps those functions until
 * ALTER EXTENSION pg_prom UPDATE replaces them.  Until then, the object
 * access hook refuses to execute them, in every backend.
 *
 * Cost: the candidates (functions of those names that are SECURITY
 * DEFINER and not C) are looked up once per backend, at its first function
 * execution; after that a call is a compare against at most a few OIDs.
 * The functions keep their OIDs across the update (CREATE OR REPLACE), so
 * a candidate is refused only while it is still SECURITY DEFINER.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/objectaccess.h"
#include "catalog/pg_language.h"
#include "catalog/pg_proc.h"
#include "utils/catcache.h"
#include "utils/syscache.h"

#include "backend/legacy.h"

#define MAX_LEGACY 8

static object_access_hook_type prev_object_access_hook = NULL;
static Oid	legacy[MAX_LEGACY];
static int	nlegacy = -1;		/* -1: not looked up yet */

static void
find_legacy(const char *name)
{
	CatCList   *list = SearchSysCacheList1(PROCNAMEARGSNSP, CStringGetDatum(name));
	int			i;

	for (i = 0; i < list->n_members && nlegacy < MAX_LEGACY; i++)
	{
		Form_pg_proc proc = (Form_pg_proc) GETSTRUCT(&list->members[i]->tuple);

		if (proc->prosecdef && proc->prolang != ClanguageId)
			legacy[nlegacy++] = proc->oid;
	}
	ReleaseSysCacheList(list);
}

static void
refuse_if_still_legacy(Oid funcid)
{
	HeapTuple	tup = SearchSysCache1(PROCOID, ObjectIdGetDatum(funcid));
	bool		legacy_def;
	char		name[NAMEDATALEN];

	if (!HeapTupleIsValid(tup))
		return;
	legacy_def = ((Form_pg_proc) GETSTRUCT(tup))->prosecdef &&
		((Form_pg_proc) GETSTRUCT(tup))->prolang != ClanguageId;
	strlcpy(name, NameStr(((Form_pg_proc) GETSTRUCT(tup))->proname), sizeof(name));
	ReleaseSysCache(tup);
	if (legacy_def)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("%s() of extension pg_prom 1.0 is disabled", name),
				 errdetail("It runs as the extension's owner and is not safe where other roles can create objects in the extension's schema."),
				 errhint("Run ALTER EXTENSION pg_prom UPDATE in this database.")));
}

static void
legacy_object_access(ObjectAccessType access, Oid classId, Oid objectId,
					 int subId, void *arg)
{
	int			i;

	if (prev_object_access_hook)
		prev_object_access_hook(access, classId, objectId, subId, arg);
	if (access != OAT_FUNCTION_EXECUTE || !IsTransactionState())
		return;
	if (nlegacy < 0)
	{
		nlegacy = 0;
		find_legacy("pg_prom_register_query");
		find_legacy("pg_prom_unregister_query");
	}
	for (i = 0; i < nlegacy; i++)
		if (legacy[i] == objectId)
			refuse_if_still_legacy(objectId);
}

void
pgprom_install_legacy_guard(void)
{
	prev_object_access_hook = object_access_hook;
	object_access_hook = legacy_object_access;
}
