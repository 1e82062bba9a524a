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

// The FFmpeg functions Recital calls, by library. They are looked up when FFmpeg is first needed
// instead of being linked: loading FFmpeg's libraries and the 130 they depend on costs a process
// about 50 ms before main, and most runs of `recital` (status, synthesis) never decode or encode.
#define CRECITAL_FFMPEG_FUNCTIONS(F) \
    F(avutil, av_channel_layout_copy) \
    F(avutil, av_channel_layout_default) \
    F(avutil, av_channel_layout_uninit) \
    F(avutil, av_dict_free) \
    F(avutil, av_dict_set) \
    F(avutil, av_frame_alloc) \
    F(avutil, av_frame_free) \
    F(avutil, av_frame_get_buffer) \
    F(avutil, av_frame_unref) \
    F(avutil, av_free) \
    F(avutil, av_freep) \
    F(avutil, av_log_set_level) \
    F(avutil, av_malloc) \
    F(avutil, av_mallocz) \
    F(avutil, av_strerror) \
    F(swresample, swr_alloc_set_opts2) \
    F(swresample, swr_convert) \
    F(swresample, swr_free) \
    F(swresample, swr_get_out_samples) \
    F(swresample, swr_init) \
    F(avcodec, av_new_packet) \
    F(avcodec, av_packet_alloc) \
    F(avcodec, av_packet_free) \
    F(avcodec, av_packet_rescale_ts) \
    F(avcodec, av_packet_unref) \
    F(avcodec, avcodec_alloc_context3) \
    F(avcodec, avcodec_find_decoder) \
    F(avcodec, avcodec_find_encoder_by_name) \
    F(avcodec, avcodec_free_context) \
    F(avcodec, avcodec_open2) \
    F(avcodec, avcodec_parameters_from_context) \
    F(avcodec, avcodec_parameters_to_context) \
    F(avcodec, avcodec_receive_frame) \
    F(avcodec, avcodec_receive_packet) \
    F(avcodec, avcodec_send_frame) \
    F(avcodec, avcodec_send_packet) \
    F(avformat, av_find_best_stream) \
    F(avformat, av_find_input_format) \
    F(avformat, av_interleaved_write_frame) \
    F(avformat, av_read_frame) \
    F(avformat, av_write_trailer) \
    F(avformat, avformat_alloc_context) \
    F(avformat, avformat_alloc_output_context2) \
    F(avformat, avformat_close_input) \
    F(avformat, avformat_find_stream_info) \
    F(avformat, avformat_free_context) \
    F(avformat, avformat_new_stream) \
    F(avformat, avformat_open_input) \
    F(avformat, avformat_write_header) \
    F(avformat, avio_alloc_context) \
    F(avformat, avio_closep) \
    F(avformat, avio_context_free) \
    F(avformat, avio_open)

/// One pointer per function, typed from FFmpeg's own declarations.
typedef struct CRecitalFFmpegAPI {
#define CRECITAL_FFMPEG_FIELD(library, name) __typeof__(name) *_Nonnull name;
    CRECITAL_FFMPEG_FUNCTIONS(CRECITAL_FFMPEG_FIELD)
#undef CRECITAL_FFMPEG_FIELD
} CRecitalFFmpegAPI;

/// Opens the libraries (once per process) and returns their functions, or NULL with `*error` set
/// to the dynamic loader's message. Thread-safe.
const CRecitalFFmpegAPI *_Nullable crecital_ffmpeg_load(const char *_Nullable *_Nonnull error);
