/* SPDX-License-Identifier: Apache-2.0 */
/* p2m-debug.h - the transcript: library code says what it does, the program decides where it goes. */
#ifndef P2M_DEBUG_H
#define P2M_DEBUG_H

#include <glib.h>

/*
 * For the person debugging at 2 a.m. (CUPS LogLevel debug): the SMTP
 * dialogue, the token request and their timings, one line each.  Library
 * code calls p2m_debug(); nothing is printed until the program sets a sink
 * (the backend writes "DEBUG: " lines for cupsd).  Callers never pass a
 * secret: AUTH payloads are "<hidden>", form bodies are never shown.
 */
typedef void (*p2m_debug_sink)(const char *line, void *ctx);

/* Set (or with NULL, remove) the process's sink.  Not thread-safe: set it
 * once at start-up. */
void p2m_debug_set_sink(p2m_debug_sink sink, void *ctx);

/* TRUE when a sink is set: skip building lines nobody reads. */
gboolean p2m_debug_enabled(void);

/* One line to the sink, if any; the sink cleans and caps it. */
void p2m_debug(const char *fmt, ...) G_GNUC_PRINTF(1, 2);

#endif /* P2M_DEBUG_H */
