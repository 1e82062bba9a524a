#include "CRecitalFFmpeg.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

#include <libavcodec/version.h>
#include <libavformat/version.h>
#include <libavutil/version.h>
#include <libswresample/version.h>

// The sonames of the versions whose headers this was compiled against, so the layout of every
// struct Recital touches matches the library it opens.
#define CRECITAL_SONAME(library, major) "lib" #library ".so." AV_STRINGIFY(major)

static CRecitalFFmpegAPI api;
static const CRecitalFFmpegAPI *loaded;
static char failure[512];
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void *open_library(const char *soname) {
    void *handle = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
    if (handle == NULL) snprintf(failure, sizeof failure, "%s", dlerror());
    return handle;
}

static void load(void) {
    // Each library is opened by itself; dependencies first, as the linker would.
    void *avutil = open_library(CRECITAL_SONAME(avutil, LIBAVUTIL_VERSION_MAJOR));
    if (avutil == NULL) return;
    void *swresample = open_library(CRECITAL_SONAME(swresample, LIBSWRESAMPLE_VERSION_MAJOR));
    if (swresample == NULL) return;
    void *avcodec = open_library(CRECITAL_SONAME(avcodec, LIBAVCODEC_VERSION_MAJOR));
    if (avcodec == NULL) return;
    void *avformat = open_library(CRECITAL_SONAME(avformat, LIBAVFORMAT_VERSION_MAJOR));
    if (avformat == NULL) return;

#define CRECITAL_FFMPEG_RESOLVE(library, name) \
    api.name = (__typeof__(name) *)dlsym(library, #name); \
    if (api.name == NULL) { \
        snprintf(failure, sizeof failure, "%s", dlerror()); \
        return; \
    }
    CRECITAL_FFMPEG_FUNCTIONS(CRECITAL_FFMPEG_RESOLVE)
#undef CRECITAL_FFMPEG_RESOLVE

    // Recital reports FFmpeg's failures itself, with their context; the library's own log lines
    // would only interleave with the progress output.
    api.av_log_set_level(AV_LOG_QUIET);
    loaded = &api;
}

const CRecitalFFmpegAPI *crecital_ffmpeg_load(const char **error) {
    pthread_once(&once, load);
    if (loaded == NULL) *error = failure;
    return loaded;
}
