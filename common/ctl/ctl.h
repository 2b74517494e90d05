/*
 * ctl.h - the subcommands of showcasectl, one file each.
 *
 * Each takes the loaded configuration and the arguments after its own
 * name, and returns the exit code: 0 done, 1 the operation failed, 2
 * usage error.
 */
#ifndef SC_CTL_H
#define SC_CTL_H

#include "config.h"

int ctl_s3(const struct config *cfg, int argc, char **argv);
int ctl_queue(const struct config *cfg, int argc, char **argv);

/* `showcasectl queue publish-backlog` (ctl_metrics.c): the queue's and the
 * videos' figures to CloudWatch, over connections of its own. */
int ctl_publish_backlog(const struct config *cfg);

int ctl_videos(const struct config *cfg, int argc, char **argv);

/* `showcasectl votes` (ctl_votes.c): the vote audit, suspicious videos
 * and voiding a network's votes. */
int ctl_votes(const struct config *cfg, int argc, char **argv);

/* `showcasectl webhooks` (ctl_webhooks.c): the webhook endpoints and the
 * deliveries of events to them. */
int ctl_webhooks(const struct config *cfg, int argc, char **argv);

#endif
