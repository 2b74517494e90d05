/*
 * ctl_s3.c - `showcasectl s3`: the S3 client from the command line, for
 * operators and checks.
 *
 *   s3 put FILE|- KEY [--content-type T]   stream a file (or stdin) up
 *   s3 get KEY FILE|- [--range FIRST-LAST]  download to a file (or stdout)
 *   s3 head KEY                             print size, ETag, type as JSON
 *   s3 rm KEY | s3 rm --prefix PREFIX       delete one key or a prefix
 *   s3 presign KEY [--method GET|PUT] [--ttl SECONDS]
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "buf.h"
#include "ctl.h"
#include "s3.h"

static const char usage[] =
	"usage: showcasectl s3 put FILE|- KEY [--content-type TYPE]\n"
	"       showcasectl s3 get KEY FILE|- [--range FIRST-LAST]\n"
	"       showcasectl s3 head KEY\n"
	"       showcasectl s3 rm KEY | --prefix PREFIX\n"
	"       showcasectl s3 presign KEY [--method GET|PUT] [--ttl SECONDS]\n";

/* The value of --name in argv, or NULL. */
static const char *option(int argc, char **argv, const char *name)
{
	int i;

	for (i = 0; i + 1 < argc; i++)
		if (!strcmp(argv[i], name))
			return argv[i + 1];
	return NULL;
}

static int put(struct s3_client *s3, int argc, char **argv)
{
	const char *type = option(argc, argv, "--content-type");
	long long size = 0;
	enum sc_err err;
	int fd;

	fd = strcmp(argv[0], "-") ? open(argv[0], O_RDONLY | O_CLOEXEC) : 0;
	if (fd < 0) {
		fprintf(stderr, "showcasectl: s3 put: cannot open %s: %s\n",
			argv[0], strerror(errno));
		return 1;
	}
	err = s3_put_file(s3, argv[1], fd, type, &size);
	if (fd)
		close(fd);
	if (err) {
		fprintf(stderr, "showcasectl: s3 put %s: %s\n", argv[1],
			s3_errstr(s3));
		return 1;
	}
	printf("%s %lld bytes\n", argv[1], size);
	return 0;
}

static int get(struct s3_client *s3, int argc, char **argv)
{
	const char *range = option(argc, argv, "--range");
	long long first = -1, last = -1;
	struct s3_object_info info;
	struct stat st;
	enum sc_err err;
	char *end;
	int fd = 1, created = 0;

	if (range) {
		first = strtoll(range, &end, 10);
		if (*end == '-' && end[1])
			last = strtoll(end + 1, &end, 10);
		else if (*end == '-')
			end++;
		if (*end || first < 0) {
			fprintf(stderr, "showcasectl: s3 get: bad --range '%s'\n",
				range);
			return 2;
		}
	}
	if (strcmp(argv[1], "-"))
		fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	/* a partial download is removed, but only from a file of ours */
	created = fd > 1 && !fstat(fd, &st) && S_ISREG(st.st_mode);
	if (fd < 0) {
		fprintf(stderr, "showcasectl: s3 get: cannot open %s: %s\n",
			argv[1], strerror(errno));
		return 1;
	}
	err = s3_get_to_fd(s3, argv[0], first, last, fd, &info);
	if (fd != 1 && close(fd) && !err) {
		fprintf(stderr, "showcasectl: s3 get: cannot write %s: %s\n",
			argv[1], strerror(errno));
		return 1;
	}
	if (err) {
		fprintf(stderr, "showcasectl: s3 get %s: %s\n", argv[0],
			s3_errstr(s3));
		if (created)
			unlink(argv[1]);
		return 1;
	}
	return 0;
}

static int head(struct s3_client *s3, char **argv)
{
	struct s3_object_info info;
	struct buf out = BUF_INIT(16 * 1024);
	const char *etag;

	if (s3_head_object(s3, argv[0], &info)) {
		fprintf(stderr, "showcasectl: s3 head %s: %s\n", argv[0],
			s3_errstr(s3));
		return 1;
	}
	/* ETags come quoted; print them without the quotes */
	etag = info.etag + (info.etag[0] == '"');
	if (buf_appends(&out, "{\"key\": \"") || buf_append_json(&out, argv[0]) ||
	    buf_appendf(&out, "\", \"size\": %lld, \"etag\": \"%.*s\", "
			"\"content_type\": \"", info.size,
			(int)strcspn(etag, "\""), etag) ||
	    buf_append_json(&out, info.content_type) ||
	    buf_appends(&out, "\", \"last_modified\": \"") ||
	    buf_append_json(&out, info.last_modified) || buf_appends(&out, "\"}")) {
		buf_release(&out);
		fprintf(stderr, "showcasectl: s3 head: out of memory\n");
		return 1;
	}
	printf("%s\n", out.data);
	buf_release(&out);
	return 0;
}

static int rm(struct s3_client *s3, int argc, char **argv)
{
	const char *prefix = option(argc, argv, "--prefix");
	long n = 1;
	enum sc_err err;

	err = prefix ? s3_delete_prefix(s3, prefix, &n)
		     : s3_delete_object(s3, argv[0]);
	if (err) {
		fprintf(stderr, "showcasectl: s3 rm %s: %s\n",
			prefix ? prefix : argv[0], s3_errstr(s3));
		return 1;
	}
	printf("deleted %ld\n", n);
	return 0;
}

static int presign(struct s3_client *s3, const struct config *cfg, int argc,
		   char **argv)
{
	const char *method = option(argc, argv, "--method");
	const char *ttl = option(argc, argv, "--ttl");
	long secs = ttl ? strtol(ttl, NULL, 10) : cfg->s3_presign_ttl_s;
	char *url;

	if (!method)
		method = "GET";
	if (strcmp(method, "GET") && strcmp(method, "PUT")) {
		fprintf(stderr, "showcasectl: s3 presign: --method must be GET or PUT\n");
		return 2;
	}
	if (s3_presign(s3, method, argv[0], secs, &url)) {
		fprintf(stderr, "showcasectl: s3 presign %s: %s\n", argv[0],
			s3_errstr(s3));
		return 1;
	}
	printf("%s\n", url);
	free(url);
	return 0;
}

int ctl_s3(const struct config *cfg, int argc, char **argv)
{
	static const struct { const char *name; int nargs; } cmds[] = {
		{ "put", 2 }, { "get", 2 }, { "head", 1 }, { "rm", 1 },
		{ "presign", 1 },
	};
	struct s3_client *s3;
	size_t i;
	int status;

	for (i = 0; argc > 0 && i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(argv[0], cmds[i].name))
			break;
	if (argc < 1 || i == sizeof(cmds) / sizeof(cmds[0]) ||
	    argc - 1 < cmds[i].nargs) {
		fputs(usage, stderr);
		return 2;
	}
	s3 = s3_client_new(cfg, NULL);
	if (!s3) {
		fprintf(stderr, "showcasectl: s3: out of memory\n");
		return 1;
	}
	argc--;
	argv++;
	switch (i) {
	case 0: status = put(s3, argc, argv); break;
	case 1: status = get(s3, argc, argv); break;
	case 2: status = head(s3, argv); break;
	case 3: status = rm(s3, argc, argv); break;
	default: status = presign(s3, cfg, argc, argv); break;
	}
	s3_client_free(s3);
	return status;
}
