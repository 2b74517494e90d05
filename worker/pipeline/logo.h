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

struct logo_size {
	int height;		/* pixels; rounded down to even */
	int opacity;		/* 0..100 */
};

/*
 * Decode the PNG or JPEG at path (NULL or "" for the built-in logo) once
 * and make n overlays of it, out[i] sizes[i].height pixels high keeping
 * the aspect ratio (both sizes rounded to even).  On SC_OK every out[i]
 * is the caller's; on failure none is, and err says why (SC_ERR_IO,
 * SC_ERR_TOO_LARGE, SC_ERR_INVALID, SC_ERR_NOMEM).
 */
enum sc_err logo_load(const char *path, const struct logo_size *sizes, int n,
		      struct pic_overlay **out, struct buf *err);

#endif
