#pragma once
#include <libavformat/avformat.h>
#include <libavformat/avio.h>
#include <libavcodec/avcodec.h>
#include <libavutil/avutil.h>
#include <libavutil/channel_layout.h>
#include <libavutil/error.h>
#include <libavutil/opt.h>
#include <libavutil/mem.h>
#include <libswresample/swresample.h>

// AVERROR and friends are function-like macros that Swift cannot import.
static inline int crecital_averror_eof(void) { return AVERROR_EOF; }
static inline int crecital_averror_eagain(void) { return AVERROR(EAGAIN); }
static inline int crecital_averror_enomem(void) { return AVERROR(ENOMEM); }
static inline int64_t crecital_nopts_value(void) { return AV_NOPTS_VALUE; }
