/*
 * showcase-transcode - the worker's pipeline on local files.
 *
 *   showcase-transcode [options] IN OUT.mp4 [--poster P.jpg] [--report R.json]
 *                      [--hls DIR]
 *
 * Settings come from the same environment variables as the worker
 * (TRANSCODE_*, HLS_*, WATERMARK_*, POLICY_*); --set NAME=VALUE overrides one for
 * this run.  Exit status: 0 done, 1 usage, 2 configuration, and 10 + the
 * reason code when the source is refused or the run fails (reason.h;
 * `--help` lists them).
 *
 * --sandbox (the worker always passes it) installs the seccomp filter of
 * sandbox.h before the logo or the input is opened.  It is a flag rather
 * than always on so that the tools that trace a process from outside
 * (valgrind, strace -f, a debugger) keep working on a run by hand.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "reason.h"
#include "sandbox.h"
#include "transcode.h"

#define MAX_SETS 64

struct cli {
	const char *set[MAX_SETS];	/* "NAME=VALUE" */
	int nset;
	int progress;
	int progress_fd;		/* -1, or where "progress N\n" lines go */
	int last_pct;
	int sandbox;			/* --sandbox */
};

/* --set values first, then the environment. */
static const char *getter(const char *name, void *arg)
{
	const struct cli *c = arg;
	size_t n = strlen(name);
	int i;

	for (i = c->nset - 1; i >= 0; i--)
		if (!strncmp(c->set[i], name, n) && c->set[i][n] == '=')
			return c->set[i] + n + 1;
	return getenv(name);
}

static void progress(double done, void *arg)
{
	struct cli *c = arg;
	int pct = (int)(done * 100);
	char line[32];
	int n;

	if (pct == c->last_pct)
		return;
	c->last_pct = pct;
	if (c->progress)
		fprintf(stderr, "\rprogress %3d%%", pct);
	if (c->progress_fd >= 0) {
		/* for the worker; a lost reader must not stop the run */
		n = snprintf(line, sizeof(line), "progress %d\n", pct);
		if (write(c->progress_fd, line, (size_t)n) < 0)
			c->progress_fd = -1;
	}
}

static void usage(FILE *f)
{
	int r;

	fprintf(f,
		"usage: showcase-transcode [options] IN OUT.mp4\n"
		"  --poster P.jpg       also write the poster frame\n"
		"  --report R.json      write the run's report (- for stdout)\n"
		"  --hls DIR            also write the HLS renditions into DIR (HLS_LADDER)\n"
		"  --set NAME=VALUE     override a setting (see showcasectl config)\n"
		"  --progress           show progress on stderr\n"
		"  --progress-fd N      write \"progress PERCENT\" lines to file descriptor N\n"
		"  --sandbox            no sockets, processes or programs from the start\n"
		"exit status: 0 done, 1 usage, 2 configuration;");
	for (r = 1; r < TC__COUNT; r++)
		fprintf(f, "%s %d %s", r == 1 ? "" : ",", tc_reason_exit(r),
			tc_reason_name(r));
	fprintf(f, "\n");
}

static int write_report(struct transcode *t, const char *path)
{
	struct buf json = BUF_INIT(1 << 20);
	FILE *f;
	int ok;

	if (transcode_report_json(t, &json) || buf_appendc(&json, '\n')) {
		buf_release(&json);
		return -1;
	}
	f = strcmp(path, "-") ? fopen(path, "w") : stdout;
	ok = f && fwrite(json.data, 1, json.len, f) == json.len;
	if (f && f != stdout && fclose(f))
		ok = 0;
	buf_release(&json);
	return ok ? 0 : -1;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "poster", required_argument, NULL, 'p' },
		{ "report", required_argument, NULL, 'r' },
		{ "hls", required_argument, NULL, 'H' },
		{ "set", required_argument, NULL, 's' },
		{ "progress", no_argument, NULL, 'P' },
		{ "progress-fd", required_argument, NULL, 'F' },
		{ "sandbox", no_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct transcode_hooks hooks = { 0 };
	struct buf err = BUF_INIT(4096);
	struct cli cli = { .last_pct = -1, .progress_fd = -1 };
	struct config cfg;
	struct transcode *t = NULL;
	const char *poster = NULL, *report = NULL, *hls = NULL;
	enum tc_reason r;
	int opt, status = 1;

	while ((opt = getopt_long(argc, argv, "p:r:H:s:PF:Sh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'p':
			poster = optarg;
			break;
		case 'r':
			report = optarg;
			break;
		case 'H':
			hls = optarg;
			break;
		case 's':
			if (cli.nset == MAX_SETS || !strchr(optarg, '=')) {
				fprintf(stderr, "showcase-transcode: --set wants NAME=VALUE\n");
				return 1;
			}
			cli.set[cli.nset++] = optarg;
			break;
		case 'P':
			cli.progress = 1;
			break;
		case 'F':
			cli.progress_fd = atoi(optarg);
			break;
		case 'S':
			cli.sandbox = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (argc - optind != 2) {
		usage(stderr);
		return 1;
	}
	if (config_load_from(&cfg, CFG_TRANSCODE, getter, &cli, &err)) {
		fprintf(stderr, "showcase-transcode: bad configuration:\n%s",
			err.data ? err.data : "");
		buf_release(&err);
		return 2;
	}
	log_init("showcase-transcode", cfg.log_level);
	transcode_log_init();
	if (cli.sandbox && sandbox_enter(&err)) {
		log_error("cannot enter the sandbox: %s", err.data ? err.data : "");
		status = tc_reason_exit(TC_INTERNAL);
		goto out_free;
	}
	if (transcode_new(&cfg, &t, &err)) {
		fprintf(stderr, "showcase-transcode: %s\n", err.data ? err.data : "");
		status = 2;
		goto out_free;
	}
	if (cli.progress || cli.progress_fd >= 0) {
		hooks.progress = progress;
		hooks.arg = &cli;
	}
	transcode_set_hls(t, hls);
	r = transcode_run(t, argv[optind], argv[optind + 1], poster, &hooks);
	if (cli.progress)
		fprintf(stderr, "\n");
	if (r == TC_OK)
		log_info("transcoded %s to %s: %s", argv[optind], argv[optind + 1],
			 transcode_message(t));
	else
		log_error("cannot transcode %s: %s: %s", argv[optind],
			  tc_reason_name(r), transcode_message(t));
	status = tc_reason_exit(r);
	if (report && write_report(t, report) < 0) {
		fprintf(stderr, "showcase-transcode: cannot write report %s\n", report);
		if (!status)
			status = tc_reason_exit(TC_INTERNAL);
	}
out_free:
	transcode_free(t);
	config_free(&cfg);
	buf_release(&err);
	return status;
}
