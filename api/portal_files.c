/*
 * portal_files.c - where the portal's files are, which names may be
 * served, their types, and the page's Content-Security-Policy.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "portal_files.h"

#define PORTAL_NAME_MAX 64

struct portal_files {
	int dirfd;
	char *dir;
	char *csp;
};

static const struct {
	const char *ext;
	const char *type;
} types[] = {
	{ ".html", "text/html; charset=utf-8" },
	{ ".css", "text/css; charset=utf-8" },
	{ ".js", "text/javascript; charset=utf-8" },
	{ ".mjs", "text/javascript; charset=utf-8" },
	{ ".json", "application/json" },
	{ ".svg", "image/svg+xml" },
	{ ".png", "image/png" },
	{ ".ico", "image/x-icon" },
	{ ".txt", "text/plain; charset=utf-8" },
};

/* The type of a servable name, or NULL: one plain segment, no leading dot
 * (".." and hidden files), a known extension. */
static const char *servable(const char *name)
{
	size_t n = strlen(name), i, e;

	if (n == 0 || n > PORTAL_NAME_MAX || name[0] == '.' ||
	    strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			 "0123456789._-") != n)
		return NULL;
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		e = strlen(types[i].ext);
		if (n > e && !strcmp(name + n - e, types[i].ext))
			return types[i].type;
	}
	return NULL;
}

/* Open dir if it holds index.html; -1 with errno otherwise. */
static int open_dir(const char *dir)
{
	struct stat sb;
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	if (fstatat(fd, "index.html", &sb, 0) < 0 || !S_ISREG(sb.st_mode)) {
		close(fd);
		errno = ENOENT;
		return -1;
	}
	return fd;
}

/* "" : beside the program, installed, then in the repository. */
static int find_dir(struct buf *found)
{
	static const char *const beside[] = { "/../share/showcase/portal",
					      "/../api/portal" };
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *slash;
	size_t i;
	int fd;

	if (n <= 0)
		return -1;
	exe[n] = '\0';
	if (!(slash = strrchr(exe, '/')))
		return -1;
	*slash = '\0';
	for (i = 0; i < sizeof(beside) / sizeof(beside[0]); i++) {
		buf_release(found);
		if (buf_appendf(found, "%s%s", exe, beside[i]))
			return -1;
		if ((fd = open_dir(found->data)) >= 0)
			return fd;
	}
	return -1;
}

enum sc_err portal_files_new(const char *dir, const char *media_origin,
			     struct portal_files **out)
{
	struct buf path = BUF_INIT(PATH_MAX);
	struct buf csp = BUF_INIT(4096);
	struct portal_files *p;
	int fd;

	*out = NULL;
	if (dir[0]) {
		if ((fd = open_dir(dir)) < 0) {
			log_error("API_PORTAL_DIR: cannot serve the portal from "
				  "%s: %s (index.html is needed)", dir,
				  strerror(errno));
			return SC_ERR_CONFIG;
		}
		if (buf_appends(&path, dir)) {
			close(fd);
			return SC_ERR_NOMEM;
		}
	} else if ((fd = find_dir(&path)) < 0) {
		buf_release(&path);
		log_warn("the portal's files are neither in ../share/showcase/portal "
			 "nor in ../api/portal beside the program: the portal is "
			 "not served (set API_PORTAL_DIR, or API_PORTAL=0)");
		return SC_OK;
	}
	/* posters and the MP4 come from presigned S3 URLs, and so do the HLS
	 * segments hls.js fetches; its media source is a blob: URL; no worker
	 * (hls.js runs without one) */
	if (buf_appendf(&csp, "default-src 'self'; script-src 'self'; "
			"style-src 'self'; img-src 'self' %s; media-src 'self' blob: %s; "
			"connect-src 'self' %s; object-src 'none'; base-uri 'none'; "
			"form-action 'self'; frame-ancestors 'none'",
			media_origin, media_origin, media_origin) ||
	    !(p = calloc(1, sizeof(*p)))) {
		close(fd);
		buf_release(&path);
		buf_release(&csp);
		return SC_ERR_NOMEM;
	}
	p->dirfd = fd;
	p->dir = buf_detach(&path, NULL);
	p->csp = buf_detach(&csp, NULL);
	*out = p;
	return SC_OK;
}

void portal_files_free(struct portal_files *p)
{
	if (!p)
		return;
	close(p->dirfd);
	free(p->dir);
	free(p->csp);
	free(p);
}

const char *portal_files_csp(const struct portal_files *p)
{
	return p->csp;
}

const char *portal_files_dir(const struct portal_files *p)
{
	return p->dir;
}

int portal_files_open(const struct portal_files *p, const char *path,
		      struct portal_file *f)
{
	const char *name = path[0] == '/' ? path + 1 : path;
	struct stat sb;
	int fd;

	if (!name[0])
		name = "index.html";
	if (!(f->type = servable(name)))
		return -1;
	fd = openat(p->dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
		close(fd);
		return -1;
	}
	f->fd = fd;
	f->size = sb.st_size;
	f->mtime = sb.st_mtim.tv_sec;
	f->mtime_ns = sb.st_mtim.tv_nsec;
	return 0;
}
