#!/usr/bin/env bash
# Install what building, running and testing Showcase needs on Debian 12:
# the Debian packages (only those missing) and the pinned npm packages
# (from package-lock.json).  Safe to run any number of times; quick when
# everything is there already.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)

packages=(
    build-essential pkg-config ca-certificates curl jq procps
    libhiredis-dev libcurl4-openssl-dev libpq-dev libcjson-dev
    libmicrohttpd-dev libsodium-dev libssl-dev
    libavformat-dev libavcodec-dev libswscale-dev libavutil-dev libavfilter-dev ffmpeg
    libseccomp-dev
    redis-server redis-tools postgresql-15 postgresql-client-15
    python3 python3-botocore python3-yaml python3-tuspy python3-jwcrypto
    chromium fonts-dejavu-core
    valgrind wrk shellcheck time systemd
    docker-compose
)

missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$p")
    fi
done
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)

if [ ${#missing[@]} -gt 0 ]; then
    echo "installing Debian packages: ${missing[*]}"
    sudo=
    if [ "$(id -u)" != 0 ]; then
        command -v sudo >/dev/null 2>&1 || { echo "error: need root or sudo to install ${missing[*]}" >&2; exit 1; }
        sudo=sudo
    fi
    $sudo apt-get update -q
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
    # The packaged servers must not run as system services: the stack and
    # the tests start their own, on their own ports.
    for svc in redis-server postgresql; do
        if command -v systemctl >/dev/null 2>&1 && systemctl is-active -q "$svc" 2>/dev/null; then
            $sudo systemctl disable --now "$svc" >/dev/null 2>&1 || true
        fi
    done
fi

stamp="$here/node_modules/.package-lock.json"
if [ ! -f "$stamp" ] || [ "$here/package-lock.json" -nt "$stamp" ]; then
    echo "installing npm packages from deploy/local/package-lock.json"
    (cd "$here" && npm ci --no-audit --no-fund --loglevel=error --engine-strict=false)
fi
