#pragma once
#include <poppler.h>
#include <glib-object.h>
#include <cairo.h>
#include <stdint.h>

/// g_object_unref takes a gpointer; this keeps the call site typed.
static inline void crecital_unref(void *object) { if (object) g_object_unref(object); }

/// PopplerAction is a union; Swift imports unions awkwardly, so read the fields we need here.
static inline PopplerActionType crecital_action_type(PopplerAction *action) { return action->type; }
static inline PopplerDest *crecital_action_goto_dest(PopplerAction *action) {
    return action->type == POPPLER_ACTION_GOTO_DEST ? action->goto_dest.dest : NULL;
}

static inline const char *crecital_action_title(PopplerAction *action) { return action->any.title; }

/// Renders `page` on white at `scale` pixels per point into `gray` (`width` × `height` bytes, one per
/// pixel, luma of the colours). Returns cairo's status; CAIRO_STATUS_SUCCESS is 0. Done in C because
/// the per-pixel loop over a 300 dpi page is millions of pixels, in every build configuration.
static inline cairo_status_t crecital_render_gray(PopplerPage *page, double scale, int width, int height,
                                                  unsigned char *gray) {
    cairo_surface_t *surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, width, height);
    cairo_status_t status = cairo_surface_status(surface);
    if (status != CAIRO_STATUS_SUCCESS) {
        cairo_surface_destroy(surface);
        return status;
    }
    cairo_t *context = cairo_create(surface);
    cairo_set_source_rgb(context, 1, 1, 1);
    cairo_paint(context);
    cairo_scale(context, scale, scale);
    poppler_page_render(page, context);
    status = cairo_status(context);
    cairo_destroy(context);
    cairo_surface_flush(surface);
    if (status == CAIRO_STATUS_SUCCESS) {
        const unsigned char *data = cairo_image_surface_get_data(surface);
        int stride = cairo_image_surface_get_stride(surface);
        for (int y = 0; y < height; y++) {
            const uint32_t *row = (const uint32_t *)(data + (size_t)y * stride);
            unsigned char *out = gray + (size_t)y * width;
            for (int x = 0; x < width; x++) {
                uint32_t p = row[x];
                out[x] = (unsigned char)((((p >> 16) & 0xff) * 77 + ((p >> 8) & 0xff) * 150 + (p & 0xff) * 29) >> 8);
            }
        }
    }
    cairo_surface_destroy(surface);
    return status;
}

/// Whether the page draws any raster image (a scan, a photograph).
static inline int crecital_page_has_images(PopplerPage *page) {
    GList *mapping = poppler_page_get_image_mapping(page);
    int found = mapping != NULL;
    poppler_page_free_image_mapping(mapping);
    return found;
}
