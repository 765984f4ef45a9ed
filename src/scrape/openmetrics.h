/*-------------------------------------------------------------------------
 *
 * openmetrics.h
 *		OpenMetrics 1.0 text from the classic exposition text.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PG_PROM_OPENMETRICS_H
#define PG_PROM_OPENMETRICS_H

#include "lib/stringinfo.h"

#define CONTENT_TYPE_OPENMETRICS \
	"application/openmetrics-text; version=1.0.0; charset=utf-8"

extern void pgprom_openmetrics_from_text(const char *text, int len, StringInfo out);

#endif							/* PG_PROM_OPENMETRICS_H */
