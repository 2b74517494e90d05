/*
 * logo.h - the watermark image: decoded once with libavcodec, scaled once.
 *
 * Life cycle: logo_load() at the start of a job (or once per worker), then
 * the overlay is blended many times (picture.h); pic_overlay_free().
 */
#ifndef SC_LOGO_H
#define SC_LOGO_H

#include "buf.h"
#include "error.h"
#include "picture.h"

/*
 * Decode the PNG or JPEG at path (NULL or "" for the built-in logo) and
 * scale it to `height` pixels high keeping its aspect ratio (both sizes
 * rounded to even), with opacity 0..100.  On SC_OK *out is the caller's;
 * on failure err says why (SC_ERR_IO, SC_ERR_INVALID, SC_ERR_NOMEM).
 */
enum sc_err logo_load(const char *path, int height, int opacity,
		      struct pic_overlay **out, struct buf *err);

#endif
