#pragma once
#include <poppler.h>
#include <glib-object.h>

/// g_object_unref takes a gpointer; this keeps the call site typed.
static inline void crecital_unref(void *object) { if (object) g_object_unref(object); }

/// PopplerAction is a union; Swift imports unions awkwardly, so read the fields we need here.
static inline PopplerActionType crecital_action_type(PopplerAction *action) { return action->type; }
static inline PopplerDest *crecital_action_goto_dest(PopplerAction *action) {
    return action->type == POPPLER_ACTION_GOTO_DEST ? action->goto_dest.dest : NULL;
}

static inline const char *crecital_action_title(PopplerAction *action) { return action->any.title; }
