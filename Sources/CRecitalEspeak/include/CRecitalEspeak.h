#pragma once
#include <stddef.h>
#include <espeak-ng/speak_lib.h>

// The espeak-ng functions Recital calls. They are looked up when the built-in voice first speaks
// instead of being linked: espeak-ng and the audio libraries it depends on cost every process a
// few milliseconds before main, and only runs without a TTS server use the built-in voice.
#define CRECITAL_ESPEAK_FUNCTIONS(F) \
    F(espeak_Initialize) \
    F(espeak_SetParameter) \
    F(espeak_SetSynthCallback) \
    F(espeak_SetVoiceByName) \
    F(espeak_Synchronize) \
    F(espeak_Synth)

/// One pointer per function, typed from espeak-ng's own declarations.
typedef struct CRecitalEspeakAPI {
#define CRECITAL_ESPEAK_FIELD(name) __typeof__(name) *_Nonnull name;
    CRECITAL_ESPEAK_FUNCTIONS(CRECITAL_ESPEAK_FIELD)
#undef CRECITAL_ESPEAK_FIELD
} CRecitalEspeakAPI;

/// Opens libespeak-ng (once per process) and returns its functions, or NULL with `*error` set to
/// the dynamic loader's message. Thread-safe.
const CRecitalEspeakAPI *_Nullable crecital_espeak_load(const char *_Nullable *_Nonnull error);
