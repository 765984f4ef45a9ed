/*-------------------------------------------------------------------------
 *
 * protobuf.h
 *		The Prometheus protobuf exposition format (delimited MetricFamily
 *		messages), made from a collection's text by the endpoint.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PG_PROM_PROTOBUF_H
#define PG_PROM_PROTOBUF_H

#include "lib/stringinfo.h"

/* The media type a scraper asks for, and that the response carries. */
#define CONTENT_TYPE_PROTOBUF \
	"application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited"

extern void pgprom_protobuf_from_text(const char *text, int len,
									  StringInfo out);

#endif							/* PG_PROM_PROTOBUF_H */
