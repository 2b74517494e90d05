/*
 * routes/portal.c - the players' portal's files at / (portal_files.h).
 *
 * GET and HEAD of "/" (index.html) and of "/NAME", one segment only, so
 * every /api/... path stays the API's; the route table comes last, after
 * the API's.  The files have no fingerprint in their names, so a browser
 * keeps them but asks again each time (Cache-Control: no-cache) with the
 * validators of RFC 9110 section 8.8 (ETag from size and modification
 * time, Last-Modified) and gets 304 when nothing changed.  Every page
 * carries the Content-Security-Policy, refuses to be framed and sends no
 * Referer (presigned URLs stay private).  With API_PORTAL=0, or no files
 * found, these paths answer 404 like any unknown path; other methods on
 * them too (R_FALLBACK: "/{}" matches any name, so 405 would claim that
 * /nowhere exists), and a HEAD of an API path has no file either: 404.
 */
#define _GNU_SOURCE	/* strptime */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "http.h"
#include "portal_files.h"

/* RFC 9110 section 5.6.7 IMF-fixdate */
#define HTTP_DATE_FMT "%a, %d %b %Y %H:%M:%S GMT"

static enum MHD_Result not_found(struct request *req,
				 struct MHD_Connection *conn)
{
	char msg[HTTP_NO_ROUTE_MAX];

	http_no_route_message(req, msg, sizeof(msg));
	return http_send_error(req, conn, MHD_HTTP_NOT_FOUND, "not_found", msg);
}

/* Does If-None-Match list etag, or is it "*" (the whole value, optional
 * whitespace aside)?  A weak comparison (RFC 9110 section 13.1.2): "W/"
 * prefixes do not matter. */
static int etag_listed(const char *inm, const char *etag)
{
	const char *p = inm + strspn(inm, " \t");

	if (*p == '*' && !p[1 + strspn(p + 1, " \t")])
		return 1;
	return strstr(inm, etag) != NULL;
}

/* Has the file not changed since the client's copy? */
static int unchanged(struct MHD_Connection *conn, const char *etag,
		     time_t mtime)
{
	const char *inm = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
						      MHD_HTTP_HEADER_IF_NONE_MATCH);
	const char *ims = MHD_lookup_connection_value(
		conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_MODIFIED_SINCE);
	struct tm tm = { 0 };
	const char *end;

	if (inm)	/* when both come, If-None-Match decides */
		return etag_listed(inm, etag);
	if (!ims || !(end = strptime(ims, HTTP_DATE_FMT, &tm)) || *end)
		return 0;
	return mtime <= timegm(&tm);
}

static enum MHD_Result get_file(struct api *api, struct request *req,
				struct MHD_Connection *conn)
{
	struct portal_file f;
	struct MHD_Response *resp;
	char etag[64], modified[64];
	struct tm tm;
	unsigned status = MHD_HTTP_OK;

	if (!api->portal || portal_files_open(api->portal, req->path, &f) < 0)
		return not_found(req, conn);
	snprintf(etag, sizeof(etag), "\"%llx-%llx%08lx\"",
		 (unsigned long long)f.size, (unsigned long long)f.mtime,
		 f.mtime_ns);
	gmtime_r(&f.mtime, &tm);
	strftime(modified, sizeof(modified), HTTP_DATE_FMT, &tm);
	if (unchanged(conn, etag, f.mtime)) {
		close(f.fd);
		status = MHD_HTTP_NOT_MODIFIED;
		resp = MHD_create_response_from_buffer(0, NULL,
						       MHD_RESPMEM_PERSISTENT);
	} else {
		/* libmicrohttpd closes the descriptor with the response */
		resp = MHD_create_response_from_fd((uint64_t)f.size, f.fd);
		if (!resp)
			close(f.fd);
		else
			req->bytes_out = (long long)f.size;
	}
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, etag);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_LAST_MODIFIED, modified);
	MHD_add_response_header(resp, "Content-Security-Policy",
				portal_files_csp(api->portal));
	MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(resp, "Cross-Origin-Opener-Policy", "same-origin");
	return http_send_response(req, conn, status, resp,
				  status == MHD_HTTP_OK ? f.type : NULL);
}

const struct route route_portal[] = {
	{ "GET", "/", get_file, R_FALLBACK, NULL },
	{ "HEAD", "/", get_file, R_FALLBACK, NULL },
	{ "GET", "/{}", get_file, R_FALLBACK, NULL },
	{ "HEAD", "/{}", get_file, R_FALLBACK, NULL },
	{ NULL, NULL, NULL, 0, NULL },
};
