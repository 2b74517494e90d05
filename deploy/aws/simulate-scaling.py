#!/usr/bin/env python3
"""Simulate the worker group's scaling on a synthetic day of uploads.

The model follows deploy/aws/showcase.yaml: every minute the backlog per
worker (jobs waiting / workers running) is published; target tracking
scales out when three minutes in a row are above the target, to
ceil(workers x backlog / target), and scales in after fifteen minutes
below 90% of it; a new instance works after a warm-up (boot, packages,
release); the group stays within its min and max.  A worker instance
finishes JOBS_PER_HOUR jobs an hour (docs/benchmarks.md, fleet
throughput, WORKER_CONCURRENCY 2), WORKER_CONCURRENCY at a time.

Arrivals: a quiet night, a daytime plateau and an evening peak, with a
deadline surge on top (the hours before voting closes).  Deterministic:
a fixed seed.

usage: simulate-scaling.py [--min N] [--max N] [--target B] [--peak UPLOADS_PER_HOUR]
Prints the settings and: the longest wait from upload to processed, the
95th percentile, the most workers, and instance-hours.
"""
import argparse
import math
import random

STEP = 10  # seconds


def arrivals_per_hour(t_h, peak):
    """Uploads an hour at hour t_h of the day."""
    day = 0.15 + 0.35 * max(0.0, math.sin(math.pi * (t_h - 7) / 15))  # 07:00-22:00
    evening = math.exp(-((t_h - 20.5) ** 2) / 2.0)                     # around 20:30
    surge = 1.0 if 21 <= t_h < 23 else 0.0                            # deadline
    return peak * min(1.0, 0.25 * day + 0.45 * evening + 0.55 * surge)


def simulate(args):
    rng = random.Random(7)
    job_s = 3600.0 * args.concurrency / args.jobs_per_hour  # one job's wall time
    workers = [0.0] * args.min  # ready-at time of each instance
    queue = []                  # arrival times of waiting jobs
    running = []                # (finish time, arrival time)
    waits = []
    high = low = 0
    most = args.min
    inst_s = 0.0
    backlog_per_worker = 0.0
    for step in range(int(24 * 3600 / STEP)):
        now = step * STEP
        # arrivals (Poisson)
        lam = arrivals_per_hour(now / 3600.0, args.peak) * STEP / 3600.0
        n, p, l = 0, rng.random(), math.exp(-lam)
        while p > l:
            n += 1
            p *= rng.random()
        queue += [now] * n
        # work: finished jobs free their slots; ready instances take jobs
        for fin, arr in [r for r in running if r[0] <= now]:
            waits.append(fin - arr)
        running = [r for r in running if r[0] > now]
        slots = sum(args.concurrency for ready in workers if ready <= now) - len(running)
        while slots > 0 and queue:
            running.append((now + job_s, queue.pop(0)))
            slots -= 1
        inst_s += len(workers) * STEP
        # every minute: the metric, and target tracking
        if now % 60 == 0:
            live = max(1, sum(1 for ready in workers if ready <= now))
            backlog_per_worker = len(queue) / live
            high = high + 1 if backlog_per_worker > args.target else 0
            low = low + 1 if backlog_per_worker < 0.9 * args.target else 0
            want = len(workers)
            if high >= 3:
                want = math.ceil(len(workers) * backlog_per_worker / args.target)
                high = 0
            elif low >= 15:
                want = len(workers) - 1
                low = 0
            want = max(args.min, min(args.max, want))
            while len(workers) < want:
                workers.append(now + args.warmup)
            if want < len(workers) and not queue:
                workers = workers[:want]  # scale-in: idle instances drain at once
            most = max(most, len(workers))
    waits.sort()
    return {
        "jobs": len(waits),
        "longest": waits[-1] if waits else 0,
        "p95": waits[int(0.95 * (len(waits) - 1))] if waits else 0,
        "most": most,
        "hours": inst_s / 3600.0,
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--min", type=int, default=1)
    ap.add_argument("--max", type=int, default=12)
    ap.add_argument("--target", type=float, default=2.0)
    ap.add_argument("--peak", type=float, default=4000.0, help="uploads an hour at the peak")
    ap.add_argument("--jobs-per-hour", type=float, default=641.0)
    ap.add_argument("--concurrency", type=int, default=2)
    ap.add_argument("--warmup", type=int, default=180, help="seconds from launch to work")
    args = ap.parse_args()
    r = simulate(args)
    print("min %d, max %d, target %.1f jobs waiting per worker, peak %.0f uploads/h, "
          "%.0f jobs/h per instance, warm-up %d s" %
          (args.min, args.max, args.target, args.peak, args.jobs_per_hour, args.warmup))
    print("%d uploads; upload to processed: longest %.1f min, p95 %.1f min; "
          "most workers %d; %.1f instance-hours" %
          (r["jobs"], r["longest"] / 60, r["p95"] / 60, r["most"], r["hours"]))


if __name__ == "__main__":
    main()
