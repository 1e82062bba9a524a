#pragma once
#include <libxml/xmlversion.h>
// libxml2 built with ICU exposes ICU headers that clash with Foundation's own ICU module.
#undef LIBXML_ICU_ENABLED
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/HTMLparser.h>
#include <libxml/xmlerror.h>
#include <libxml/entities.h>

/// `xmlFree` is a global function-pointer variable, which Swift 6 rejects as shared mutable state.
static inline void crecital_xml_free(void *p) { xmlFree(p); }

/// Silences libxml2's default error printer (it writes to stderr); errors are read with xmlGetLastError.
static void crecital_xml_ignore_error(void *ctx, const char *msg, ...) { (void)ctx; (void)msg; }
static inline void crecital_xml_silence(void) {
    xmlSetGenericErrorFunc(NULL, crecital_xml_ignore_error);
    xmlSetStructuredErrorFunc(NULL, NULL);
}
