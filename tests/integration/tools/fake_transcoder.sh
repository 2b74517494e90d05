#!/usr/bin/env bash
# A transcoder for the worker's tests (WORKER_TRANSCODER): a source that
# reads "CRASH" dies of SIGSEGV, one that reads "HANG" never ends; anything
# else goes to the real showcase-transcode (REAL_TRANSCODER) unchanged.
# The worker passes the source as the second-to-last argument.
src=${*: -2:1}
case $(head -c 8 "$src" 2>/dev/null) in
CRASH) kill -SEGV $$ ;;
HANG) exec sleep 3600 ;;
esac
exec "$REAL_TRANSCODER" "$@"
