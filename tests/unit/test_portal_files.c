/* test_portal_files.c - which names the portal serves, from where, and its
 * Content-Security-Policy. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "portal_files.h"
#include "unit.h"

static void put(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

/* a directory with index.html, app.js, a secret beside it and traps */
static char *make_tree(char *root)
{
	static char dir[300];
	char path[400];

	snprintf(dir, sizeof(dir), "%s/portal", root);
	CHECK(mkdir(dir, 0755) == 0);
	put(dir, "index.html", "<!doctype html>");
	put(dir, "app.js", "export {};");
	put(dir, "lib.min.mjs", "export default 1;");
	put(root, "secret.txt", "not for the web");
	snprintf(path, sizeof(path), "%s/sub.js", dir);
	CHECK(mkdir(path, 0755) == 0);		/* a directory named like a file */
	snprintf(path, sizeof(path), "%s/link.txt", dir);
	CHECK(symlink("../secret.txt", path) == 0);
	put(dir, ".env.js", "hidden");
	put(dir, "notes.md", "no type");
	return dir;
}

static void remove_tree(const char *root)
{
	static const char *const names[] = { "portal/index.html", "portal/app.js",
		"portal/lib.min.mjs", "portal/sub.js", "portal/link.txt", "portal/.env.js",
		"portal/notes.md", "portal", "secret.txt" };
	char path[400];
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", root, names[i]);
		if (unlink(path) < 0)
			rmdir(path);
	}
	rmdir(root);
}

/* 0 when path is served; its type in *type */
static int opens(struct portal_files *p, const char *path, const char **type)
{
	struct portal_file f;

	if (portal_files_open(p, path, &f) < 0)
		return -1;
	close(f.fd);
	*type = f.type;
	return 0;
}

static void test_portal_files_serves_names_in_its_directory_only(void)
{
	char root[] = "/tmp/portal-unit-XXXXXX";
	struct portal_files *p = NULL;
	const char *type = NULL, *dir;
	struct portal_file f;

	CHECK(mkdtemp(root) != NULL);
	dir = make_tree(root);
	CHECK_INT(portal_files_new(dir, "http://127.0.0.1:9000", &p), SC_OK);
	CHECK(p != NULL);
	if (!p)
		return;
	CHECK_INT(opens(p, "/", &type), 0);
	CHECK_STR(type, "text/html; charset=utf-8");
	CHECK_INT(portal_files_open(p, "/app.js", &f), 0);
	CHECK_INT(f.size, 10);
	CHECK_STR(f.type, "text/javascript; charset=utf-8");
	close(f.fd);
	/* a module that is not ours keeps its name (a browser refuses a
	 * module of another type) */
	CHECK_INT(opens(p, "/lib.min.mjs", &type), 0);
	CHECK_STR(type, "text/javascript; charset=utf-8");
	/* out of the directory, hidden, untyped, not a file, a link */
	CHECK_INT(opens(p, "/../secret.txt", &type), -1);
	CHECK_INT(opens(p, "/..", &type), -1);
	CHECK_INT(opens(p, "/portal/../app.js", &type), -1);
	CHECK_INT(opens(p, "/.env.js", &type), -1);
	CHECK_INT(opens(p, "/notes.md", &type), -1);
	CHECK_INT(opens(p, "/sub.js", &type), -1);
	CHECK_INT(opens(p, "/link.txt", &type), -1);
	CHECK_INT(opens(p, "/nope.js", &type), -1);
	CHECK_INT(opens(p, "/app js", &type), -1);
	CHECK_INT(opens(p, "/.js", &type), -1);
	portal_files_free(p);
	portal_files_free(NULL);
	remove_tree(root);
}

#define S3 "https://b.s3.eu-west-1.amazonaws.com"

static void test_portal_files_policy_allows_the_s3_origin_for_media(void)
{
	char root[] = "/tmp/portal-unit-XXXXXX";
	struct portal_files *p = NULL;
	const char *csp;

	CHECK(mkdtemp(root) != NULL);
	CHECK_INT(portal_files_new(make_tree(root), S3, &p), SC_OK);
	if (!p)
		return;
	csp = portal_files_csp(p);
	CHECK(strstr(csp, "default-src 'self';") != NULL);
	CHECK(strstr(csp, "script-src 'self';") != NULL);
	CHECK(strstr(csp, "img-src 'self' " S3 ";") != NULL);
	CHECK(strstr(csp, "media-src 'self' blob: " S3 ";") != NULL);
	/* hls.js fetches the segments from the presigned URLs */
	CHECK(strstr(csp, "connect-src 'self' " S3 ";") != NULL);
	/* and runs without a worker: blob: is for media only */
	CHECK(strstr(csp, "worker-src") == NULL);
	CHECK(strstr(csp, "blob:") == strstr(csp, "media-src") + 17);
	CHECK(strstr(csp, "frame-ancestors 'none'") != NULL);
	CHECK(strstr(csp, "unsafe") == NULL);
	portal_files_free(p);
	remove_tree(root);
}

static void test_portal_files_explicit_directory_must_have_the_page(void)
{
	char root[] = "/tmp/portal-unit-XXXXXX";
	struct portal_files *p = (struct portal_files *)1;

	CHECK(mkdtemp(root) != NULL);
	/* no index.html: refused, with nothing made */
	CHECK_INT(portal_files_new(root, "http://x", &p), SC_ERR_CONFIG);
	CHECK(p == NULL);
	CHECK_INT(portal_files_new("/nonexistent/portal", "http://x", &p),
		  SC_ERR_CONFIG);
	rmdir(root);
}

const struct unit_test test_portal_files_suite[] = {
	UNIT_TEST(test_portal_files_serves_names_in_its_directory_only),
	UNIT_TEST(test_portal_files_policy_allows_the_s3_origin_for_media),
	UNIT_TEST(test_portal_files_explicit_directory_must_have_the_page),
	{ NULL, NULL },
};
