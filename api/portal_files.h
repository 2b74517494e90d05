/*
 * portal_files.h - the players' portal's static files (api/portal/).
 *
 * Invariants: the files are served from one directory, opened once at
 * start-up and held by descriptor, so a request names a file in it and
 * nothing else: a name is one path segment of [A-Za-z0-9._-], not
 * starting with a dot, with an extension of a known type (others are not
 * found); the file is opened relative to the directory without following
 * a symbolic link and must be a regular file.  The Content-Security-Policy
 * is built once: everything from the API's own origin, except pictures,
 * media and fetches, which may also come from the S3 origin that presigned
 * URLs point to (posters, the MP4, the HLS segments hls.js fetches), and
 * media from blob: (the upload page reads a chosen file's duration and
 * picture size in a <video> element before sending it; hls.js feeds the
 * player a MediaSource by a blob: URL); no worker from anywhere but the
 * API (hls.js runs without one), no inline script or style (W3C CSP
 * Level 3).
 *
 * Life cycle: portal_files_new() at start-up, portal_files_free() after
 * the HTTP threads stopped.  portal_files_open() may be called from any
 * thread at once.
 */
#ifndef SC_PORTAL_FILES_H
#define SC_PORTAL_FILES_H

#include <sys/types.h>
#include <time.h>

#include "error.h"

struct portal_files;

/* An opened file: the caller owns fd (close it, or hand it to
 * libmicrohttpd, which closes it). */
struct portal_file {
	int fd;
	off_t size;			/* bytes */
	time_t mtime;			/* seconds since the epoch */
	long mtime_ns;			/* its nanoseconds */
	const char *type;		/* Content-Type, static */
};

/*
 * dir: the directory of the files; "" looks beside the program, first in
 * ../share/showcase/portal (an installed release, the container images),
 * then in ../api/portal (a build in the repository).  media_origin: the
 * S3 origin ("http://127.0.0.1:9000"), allowed for img-src, media-src and
 * connect-src.
 * On success *out is the handle (the caller's; portal_files_free), or
 * NULL when dir is "" and neither place has the files (a warning is
 * logged: the portal is not served).  SC_ERR_CONFIG when an explicit dir
 * cannot be opened or has no index.html (why logged), SC_ERR_NOMEM.
 */
enum sc_err portal_files_new(const char *dir, const char *media_origin,
			     struct portal_files **out);
void portal_files_free(struct portal_files *p);

/* The Content-Security-Policy header's value; owned by p. */
const char *portal_files_csp(const struct portal_files *p);

/* The directory the files come from (for the log); owned by p. */
const char *portal_files_dir(const struct portal_files *p);

/*
 * Open the file a request path names: "/" is index.html, "/NAME" is NAME.
 * Returns 0 with *f filled, -1 when there is no such file to serve (a
 * name outside the rules above included).
 */
int portal_files_open(const struct portal_files *p, const char *path,
		      struct portal_file *f);

#endif
