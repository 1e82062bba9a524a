#include "CRecitalTesseract.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

// The soname Debian's libtesseract-dev links against (Tesseract 5).
#define CRECITAL_TESSERACT_SONAME "libtesseract.so.5"

static CRecitalTesseractAPI api;
static const CRecitalTesseractAPI *loaded;
static char failure[512];
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void load(void) {
    // Recital recognises one page per core; Tesseract's own OpenMP threads on top of that would
    // oversubscribe the cores and spin. OpenMP reads this once, when libgomp is loaded below; a
    // value the user set is kept.
    setenv("OMP_THREAD_LIMIT", "1", 0);
    void *library = dlopen(CRECITAL_TESSERACT_SONAME, RTLD_NOW | RTLD_LOCAL);
    if (library == NULL) {
        snprintf(failure, sizeof failure, "%s", dlerror());
        return;
    }
#define CRECITAL_TESSERACT_RESOLVE(name) \
    api.name = (__typeof__(name) *)dlsym(library, #name); \
    if (api.name == NULL) { \
        snprintf(failure, sizeof failure, "%s", dlerror()); \
        return; \
    }
    CRECITAL_TESSERACT_FUNCTIONS(CRECITAL_TESSERACT_RESOLVE)
#undef CRECITAL_TESSERACT_RESOLVE
    loaded = &api;
}

const CRecitalTesseractAPI *crecital_tesseract_load(const char **error) {
    pthread_once(&once, load);
    if (loaded == NULL) *error = failure;
    return loaded;
}
