#include "CRecitalEspeak.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

// The soname Debian's libespeak-ng-dev links against; speak_lib.h carries no version to build it from.
#define CRECITAL_ESPEAK_SONAME "libespeak-ng.so.1"

static CRecitalEspeakAPI api;
static const CRecitalEspeakAPI *loaded;
static char failure[512];
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void load(void) {
    void *library = dlopen(CRECITAL_ESPEAK_SONAME, RTLD_NOW | RTLD_LOCAL);
    if (library == NULL) {
        snprintf(failure, sizeof failure, "%s", dlerror());
        return;
    }
#define CRECITAL_ESPEAK_RESOLVE(name) \
    api.name = (__typeof__(name) *)dlsym(library, #name); \
    if (api.name == NULL) { \
        snprintf(failure, sizeof failure, "%s", dlerror()); \
        return; \
    }
    CRECITAL_ESPEAK_FUNCTIONS(CRECITAL_ESPEAK_RESOLVE)
#undef CRECITAL_ESPEAK_RESOLVE
    loaded = &api;
}

const CRecitalEspeakAPI *crecital_espeak_load(const char **error) {
    pthread_once(&once, load);
    if (loaded == NULL) *error = failure;
    return loaded;
}
