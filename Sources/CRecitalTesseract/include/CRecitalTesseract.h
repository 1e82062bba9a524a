#pragma once
#include <stddef.h>
#include <tesseract/capi.h>

// The Tesseract functions Recital calls. They are looked up when a page is first recognised instead
// of being linked: libtesseract brings OpenMP, Leptonica, libarchive and libcurl into every process
// that loads it, and only scanned PDFs need it. A machine without it still reads every other book,
// and a scan gets a one-line reason naming the package to install.
#define CRECITAL_TESSERACT_FUNCTIONS(F) \
    F(TessVersion) \
    F(TessDeleteText) \
    F(TessBaseAPICreate) \
    F(TessBaseAPIDelete) \
    F(TessBaseAPIInit2) \
    F(TessBaseAPISetVariable) \
    F(TessBaseAPISetPageSegMode) \
    F(TessBaseAPISetImage) \
    F(TessBaseAPISetSourceResolution) \
    F(TessBaseAPIRecognize) \
    F(TessBaseAPIMeanTextConf) \
    F(TessBaseAPIClear) \
    F(TessBaseAPIEnd) \
    F(TessBaseAPIGetIterator) \
    F(TessResultIteratorDelete) \
    F(TessResultIteratorGetPageIteratorConst) \
    F(TessResultIteratorNext) \
    F(TessResultIteratorGetUTF8Text) \
    F(TessResultIteratorConfidence) \
    F(TessPageIteratorBoundingBox) \
    F(TessResultIteratorWordFontAttributes)

/// One pointer per function, typed from Tesseract's own declarations.
typedef struct CRecitalTesseractAPI {
#define CRECITAL_TESSERACT_FIELD(name) __typeof__(name) *_Nonnull name;
    CRECITAL_TESSERACT_FUNCTIONS(CRECITAL_TESSERACT_FIELD)
#undef CRECITAL_TESSERACT_FIELD
} CRecitalTesseractAPI;

/// Opens libtesseract (once per process) and returns its functions, or NULL with `*error` set to
/// the dynamic loader's message. Thread-safe.
const CRecitalTesseractAPI *_Nullable crecital_tesseract_load(const char *_Nullable *_Nonnull error);
