/*
 * poster.h - the JPEG still shown before playback.
 */
#ifndef SC_POSTER_H
#define SC_POSTER_H

#include <libavutil/frame.h>

#include "buf.h"
#include "error.h"

/*
 * Encode pic (YUV420P, limited range) as a JPEG into path, replacing it.
 * On failure err says why and path may hold a partial file (the caller
 * writes to a temporary name).
 */
enum sc_err poster_write(const AVFrame *pic, const char *path, struct buf *err);

#endif
