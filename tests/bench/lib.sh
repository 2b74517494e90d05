# shellcheck shell=bash
# Sourced by the benchmark scripts: the project's paths, the local stack's
# helpers, a scratch directory ($dir) whose processes (every *.pid in it,
# one level down too) are stopped on exit, and median.

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=deploy/local/lib.sh
. "$top/deploy/local/lib.sh"
bin=${BIN_DIR:-build}
case $bin in /*) ;; *) bin="$top/$bin" ;; esac

dir=$(mktemp -d)
bench_cleanup() {
    local f
    for f in "$dir"/*.pid "$dir"/*/*.pid; do
        [ -e "$f" ] && sc_stop_pidfile "$f"
    done
    sc_services_stop "$dir"    # PostgreSQL's pid file lies deeper
    rm -rf "$dir"
}
trap bench_cleanup EXIT

# median: the middle one of the numbers on stdin, one a line
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
