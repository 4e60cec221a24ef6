#!/usr/bin/env bash
# Stop the dockerd started by .ci/docker-up.sh, by the PID it recorded. Never fails.
set -u
STATE="${INVEVOLVE_DOCKER_STATE:-/tmp/invevolve-dockerd}"
PIDFILE="$STATE/dockerd.pid"
if [ ! -f "$PIDFILE" ]; then
    echo "docker-down: no dockerd pid file at $PIDFILE; nothing to stop" >&2
    exit 0
fi
PID="$(cat "$PIDFILE")"
if kill -0 "$PID" 2>/dev/null; then
    kill -TERM "$PID"
    for _ in $(seq 1 40); do
        kill -0 "$PID" 2>/dev/null || break
        sleep 0.25
    done
    if kill -0 "$PID" 2>/dev/null; then
        echo "docker-down: dockerd $PID ignored SIGTERM; sending SIGKILL" >&2
        kill -KILL "$PID" 2>/dev/null || true
    fi
    echo "docker-down: stopped dockerd $PID" >&2
fi
rm -f "$PIDFILE"
exit 0
