#!/usr/bin/env bash
# A transcoder for the worker's tests (WORKER_TRANSCODER): a source that
# reads "CRASH" dies of SIGSEGV, one that reads "HANG" never ends; anything
# else goes to the real showcase-transcode unchanged.  The worker passes
# the source as the second-to-last argument.
#
# The worker gives a transcode no environment but the transcoder's own
# settings, so the real transcoder's path is read from the file named
# like the script plus ".real": a test links this script into its
# directory and writes that file next to the link.
src=${*: -2:1}
case $(head -c 8 "$src" 2>/dev/null) in
CRASH) kill -SEGV $$ ;;
HANG) exec sleep 3600 ;;
esac
exec "$(cat "$0.real")" "$@"
