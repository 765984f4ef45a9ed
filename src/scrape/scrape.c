/*-------------------------------------------------------------------------
 *
 * scrape.c
 *		The current scrape: memory, unit notes and end-of-scrape clean-up.
 *
 * One scrape at a time per process.  Everything a scrape allocates lives
 * in its context, which pgprom_scrape_end() deletes; deleting it runs the
 * reset callbacks modules registered, in reverse order of registration,
 * so their per-scrape pointers never outlive the memory they point into
 * (also when an error ends the scrape early: the caller ends it in its
 * PG_FINALLY).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "scrape/scrape.h"

static MemoryContext scrape_cxt = NULL;
static ScrapeResult *current_unit = NULL;

MemoryContext
pgprom_scrape_begin(MemoryContext parent)
{
	Assert(scrape_cxt == NULL);
	scrape_cxt = AllocSetContextCreate(parent, "pg_prom scrape",
									   ALLOCSET_DEFAULT_SIZES);
	current_unit = NULL;
	return scrape_cxt;
}

void
pgprom_scrape_end(void)
{
	MemoryContext cxt = scrape_cxt;

	current_unit = NULL;
	scrape_cxt = NULL;
	if (cxt)
		MemoryContextDelete(cxt);
}

bool
pgprom_scrape_active(void)
{
	return scrape_cxt != NULL;
}

MemoryContext
pgprom_scrape_context(void)
{
	Assert(scrape_cxt != NULL);
	return scrape_cxt;
}

/* Run fn (with no argument) when the scrape's memory goes away. */
void
pgprom_scrape_on_end(MemoryContextCallbackFunction fn)
{
	MemoryContextCallback *cb;

	Assert(scrape_cxt != NULL);
	cb = MemoryContextAlloc(scrape_cxt, sizeof(MemoryContextCallback));
	cb->func = fn;
	cb->arg = NULL;
	MemoryContextRegisterResetCallback(scrape_cxt, cb);
}

void
pgprom_scrape_set_unit(ScrapeResult *result)
{
	current_unit = result;
}

void
pgprom_note_left_out(int64 n)
{
	if (current_unit && n > 0)
		current_unit->left_out += n;
}

void
pgprom_note_skipped_locked(int64 n)
{
	if (current_unit && n > 0)
		current_unit->skipped_locked += n;
}
