/*
 * m3u8.h - reading and rewriting HLS media playlists (RFC 8216), as the
 * hls muxer of libavformat writes them for one rendition in one file
 * (single_file: each segment an EXT-X-BYTERANGE of the same URI, the
 * initialisation section an EXT-X-MAP with a BYTERANGE).
 *
 * Text in, text or numbers out; no I/O.
 */
#ifndef SC_M3U8_H
#define SC_M3U8_H

#include "buf.h"
#include "error.h"

/*
 * The bit rates of a media playlist's segments, bits per second: *peak
 * the highest of any segment (its EXT-X-BYTERANGE length times 8 over its
 * EXTINF duration: what RFC 8216 section 4.3.4.2 asks of a variant's
 * BANDWIDTH), *avg the whole playlist's (AVERAGE-BANDWIDTH).  Every
 * segment must have a positive duration and a byte range:
 * SC_ERR_INVALID otherwise, or when there is no segment.
 */
enum sc_err m3u8_media_rates(const char *text, long long *peak,
			     long long *avg);

/*
 * Copy the playlist text into out with the URI name replaced by url
 * wherever it stands: a URI line equal to name, and URI="name" in
 * EXT-X-MAP.  Other lines are copied as they are.  url must not hold a
 * double quote or a line break (SC_ERR_INVALID).  Appends to out; on
 * failure out holds part of the copy (the caller resets it).
 */
enum sc_err m3u8_replace_uri(const char *text, const char *name,
			     const char *url, struct buf *out);

#endif
