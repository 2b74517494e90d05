#!/usr/bin/env bash
# Run every benchmark in tests/bench/ (bench_*.sh).  Benchmarks measure;
# they never pass or fail on timing.  Results go to stdout, to be copied
# with the command into docs/benchmarks.md.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
for b in "$here"/bench_*.sh; do
    echo "== $(basename "$b")"
    bash "$b"
done
