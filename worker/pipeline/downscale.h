/*
 * downscale.h - the 1080p-to-720p fast path: an exact 3:2 reduction.
 *
 * Most contest sources are 1920x1080 and every output is 1280x720, a
 * ratio of exactly 3:2 in both directions (and 960x540 to 640x360 for the
 * chroma planes).  For that one ratio a fixed 3-tap filter (the same
 * triangle kernel as swscale's bilinear downscale) is several times
 * cheaper than swscale's general path, which matters
 * because scaling runs on the pipeline's main thread for every frame.
 * Everything else goes through swscale.
 */
#ifndef SC_DOWNSCALE_H
#define SC_DOWNSCALE_H

#include <stdint.h>

/* Does a sw x sh plane reduce to exactly dw x dh by 3:2 (dw, dh even)? */
int downscale_3to2_fits(int sw, int sh, int dw, int dh);

/*
 * Reduce one 8-bit plane of dw*3/2 x dh*3/2 pixels into dw x dh.  tmp
 * holds 2 * (dw * 3/2 + 2) uint16_t.
 */
void downscale_3to2(uint8_t *dst, int dls, const uint8_t *src, int sls,
		    int dw, int dh, uint16_t *tmp);

#endif
