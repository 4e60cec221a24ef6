#!/usr/bin/env bash
# Start a lean, private dockerd for the sandbox's docker tests and build the local image.
#
# Installs nothing: .ci/run installs docker.io (and bubblewrap) with apt-get first.
# The daemon keeps its data and exec roots under a temporary directory, has no bridge and
# touches no iptables rules. Its PID goes to $INVEVOLVE_DOCKER_STATE/dockerd.pid and the
# socket to $INVEVOLVE_DOCKER_STATE/docker.sock; export DOCKER_HOST as printed.
# Exits 0 even when no daemon can start (it says why), so docker tests skip with a reason.
set -u
STATE="${INVEVOLVE_DOCKER_STATE:-/tmp/invevolve-dockerd}"
mkdir -p "$STATE"
SOCK="$STATE/docker.sock"
PIDFILE="$STATE/dockerd.pid"
LOG="$STATE/dockerd.log"
export DOCKER_HOST="unix://$SOCK"

say() { echo "docker-up: $*" >&2; }

if ! command -v dockerd >/dev/null 2>&1; then
    say "dockerd not installed (apt-get install -y --no-install-recommends docker.io); docker tests will skip"
    exit 0
fi
if [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
    say "dockerd already running (pid $(cat "$PIDFILE"))"
else
    mkdir -p "$STATE/data" "$STATE/exec"
    # --exec-root must stay short (unix socket path limit), hence a dedicated directory.
    dockerd --host "$DOCKER_HOST" --data-root "$STATE/data" --exec-root "$STATE/exec" \
        --pidfile "$STATE/dockerd.own.pid" --iptables=false --ip6tables=false --bridge=none \
        --ip-masq=false --userland-proxy=false >"$LOG" 2>&1 &
    echo $! >"$PIDFILE"
    ok=""
    for _ in $(seq 1 60); do
        if ! kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then break; fi
        if docker version >/dev/null 2>&1; then ok=1; break; fi
        sleep 0.5
    done
    if [ -z "$ok" ]; then
        say "dockerd did not come up; docker tests will skip. Last log lines:"
        tail -n 20 "$LOG" >&2 || true
        kill "$(cat "$PIDFILE")" 2>/dev/null || true
        rm -f "$PIDFILE"
        exit 0
    fi
    say "dockerd up (pid $(cat "$PIDFILE")), DOCKER_HOST=$DOCKER_HOST"
fi
cd "$(dirname "$0")/.." || exit 0
if ! python3 -m sandbox.image build >&2; then
    say "building the sandbox image failed; docker tests will skip"
fi
echo "export DOCKER_HOST=$DOCKER_HOST"
exit 0
