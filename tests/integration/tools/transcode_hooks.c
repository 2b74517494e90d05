/*
 * transcode_hooks - drive the pipeline's progress and cancellation hooks.
 *
 *   transcode_hooks IN OUT [CANCEL_AT]
 *
 * Runs the pipeline with the settings in the environment and prints
 * "reason=NAME calls=N first=F last=L monotonic=0|1".  With CANCEL_AT the
 * cancellation hook says stop once progress reaches that fraction.
 */
#include <stdio.h>
#include <stdlib.h>

#include "config.h"
#include "log.h"
#include "transcode.h"

struct seen {
	double cancel_at, first, last;
	long calls;
	int monotonic;
};

static void progress(double done, void *arg)
{
	struct seen *s = arg;

	if (s->calls++ == 0)
		s->first = done;
	else if (done < s->last)
		s->monotonic = 0;
	s->last = done;
}

static int cancelled(void *arg)
{
	const struct seen *s = arg;

	return s->cancel_at > 0 && s->last >= s->cancel_at;
}

int main(int argc, char **argv)
{
	struct seen s = { .monotonic = 1 };
	struct transcode_hooks hooks = { progress, cancelled, &s };
	struct buf err = BUF_INIT(4096);
	struct transcode *t = NULL;
	struct config cfg;
	enum tc_reason r;

	if (argc < 3) {
		fprintf(stderr, "usage: transcode_hooks IN OUT [CANCEL_AT]\n");
		return 1;
	}
	if (argc > 3)
		s.cancel_at = atof(argv[3]);
	if (config_load(&cfg, CFG_TRANSCODE, &err) || transcode_new(&cfg, &t, &err)) {
		fprintf(stderr, "%s\n", err.data ? err.data : "");
		buf_release(&err);
		return 2;
	}
	log_init("transcode_hooks", cfg.log_level);
	r = transcode_run(t, argv[1], argv[2], NULL, &hooks);
	printf("reason=%s calls=%ld first=%.3f last=%.3f monotonic=%d\n",
	       tc_reason_name(r), s.calls, s.first, s.last, s.monotonic);
	transcode_free(t);
	config_free(&cfg);
	buf_release(&err);
	return 0;
}
