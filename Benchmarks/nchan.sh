#!/usr/bin/env bash
# nginx + Nchan peer for the fan-out benchmark: a private nginx (one worker, loopback only, its own
# prefix and temp dir under /tmp) with one pub/sub channel, and a publisher that POSTs one JSON
# message a second carrying "seq" and "ts" (RFC 3339, ms, UTC: the time it was sent), padded to the
# size of a Pulseboard wallboard delta.
#
#   Benchmarks/nchan.sh                 run until Ctrl-C (subscribe: curl -N 127.0.0.1:18081/sub)
#   source Benchmarks/nchan.sh          helpers for other scripts: nchan_start, nchan_worker_pid,
#                                       nchan_stop (the caller traps EXIT and calls nchan_stop)
#
# Environment: NCHAN_PORT (18081), NCHAN_INTERVAL seconds between messages (1), NCHAN_PAYLOAD_BYTES
# (240). Installs nginx and libnginx-mod-nchan with apt-get only if they are missing.

NCHAN_PORT="${NCHAN_PORT:-18081}"
NCHAN_INTERVAL="${NCHAN_INTERVAL:-1}"
NCHAN_PAYLOAD_BYTES="${NCHAN_PAYLOAD_BYTES:-240}"
NCHAN_MODULE="${NCHAN_MODULE:-/usr/lib/nginx/modules/ngx_nchan_module.so}"
NCHAN_DIR=""
NCHAN_MASTER_PID=""
NCHAN_PUBLISHER_PID=""
_NCHAN_HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$_NCHAN_HERE/lib.sh"

nchan_install() {
    if command -v nginx >/dev/null 2>&1 && [[ -f "$NCHAN_MODULE" ]]; then
        return 0
    fi
    echo "installing nginx and libnginx-mod-nchan..." >&2
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y nginx libnginx-mod-nchan >&2; then
        apt-get update >&2 && apt-get install -y nginx libnginx-mod-nchan >&2
    fi
    # The package starts nothing here (no init system), and this script never uses its default site.
    command -v nginx >/dev/null 2>&1 && [[ -f "$NCHAN_MODULE" ]] || {
        echo "nginx or the Nchan module ($NCHAN_MODULE) is still missing" >&2
        return 1
    }
}

# Prints the pid of the nginx worker process (the one holding the subscribers).
nchan_worker_pid() {
    { ps -o pid= --ppid "$NCHAN_MASTER_PID" 2>/dev/null || true; } | head -n 1 | tr -d ' '
}

nchan_start() {
    nchan_install || return 1
    if curl -s -o /dev/null -m 2 "http://127.0.0.1:${NCHAN_PORT}/" 2>/dev/null; then
        echo "something is already answering on port ${NCHAN_PORT}; stop it first" >&2
        return 1
    fi
    NCHAN_DIR="$(mktemp -d /tmp/nchan-bench.XXXXXX)"
    chmod 755 "$NCHAN_DIR"
    local nofile
    nofile="$(ulimit -Hn)"
    [[ "$nofile" == unlimited || "$nofile" -gt 20000 ]] && nofile=20000
    sed -e "s|@DIR@|${NCHAN_DIR}|g" -e "s|@PORT@|${NCHAN_PORT}|g" -e "s|@MODULE@|${NCHAN_MODULE}|g" \
        -e "s|@NOFILE@|${nofile}|g" -e "s|@WORKER_CONNECTIONS@|$((nofile - 500))|g" \
        "${_NCHAN_HERE}/nchan.conf" >"${NCHAN_DIR}/nginx.conf"
    nginx -p "${NCHAN_DIR}/" -e "${NCHAN_DIR}/error.log" -c "${NCHAN_DIR}/nginx.conf" &
    NCHAN_MASTER_PID=$!
    local up=0
    for _ in $(seq 1 100); do
        if [[ "$(curl -s -o /dev/null -w '%{http_code}' -m 2 "http://127.0.0.1:${NCHAN_PORT}/pub" 2>/dev/null)" != 000 ]]; then
            up=1
            break
        fi
        kill -0 "$NCHAN_MASTER_PID" 2>/dev/null || break
        sleep 0.1
    done
    if [[ "$up" != 1 ]]; then
        echo "nginx did not start; its log:" >&2
        cat "${NCHAN_DIR}/error.log" >&2 2>/dev/null || true
        return 1
    fi
    python3 -u - "$NCHAN_PORT" "$NCHAN_INTERVAL" "$NCHAN_PAYLOAD_BYTES" <<'PY' &
import datetime, http.client, json, math, sys, time

port, interval, size = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
conn, seq = None, 0
due = math.ceil(time.time())
while True:
    delay = due - time.time()
    if delay > 0:
        time.sleep(delay)
    due += interval
    seq += 1
    now = datetime.datetime.now(datetime.timezone.utc)
    ts = now.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (now.microsecond // 1000)
    body = {"seq": seq, "ts": ts, "widgets": {"pad": ""}}
    pad = max(0, size - len(json.dumps(body, separators=(",", ":"))))
    body["widgets"]["pad"] = "x" * pad
    data = json.dumps(body, separators=(",", ":")).encode()
    try:
        if conn is None:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        conn.request("POST", "/pub", data, {"Content-Type": "application/json"})
        conn.getresponse().read()
    except Exception as error:
        print("publisher: %s" % error, file=sys.stderr)
        if conn is not None:
            conn.close()
        conn = None
PY
    NCHAN_PUBLISHER_PID=$!
    echo "nchan: nginx master ${NCHAN_MASTER_PID}, worker $(nchan_worker_pid), 127.0.0.1:${NCHAN_PORT} (/sub, /pub), publisher ${NCHAN_PUBLISHER_PID}" >&2
}

nchan_stop() {
    if [[ -n "$NCHAN_PUBLISHER_PID" ]]; then
        kill -TERM "$NCHAN_PUBLISHER_PID" 2>/dev/null || true
        wait "$NCHAN_PUBLISHER_PID" 2>/dev/null || true
        NCHAN_PUBLISHER_PID=""
    fi
    if [[ -n "$NCHAN_MASTER_PID" ]]; then
        local worker
        worker="$(nchan_worker_pid)"
        # TERM is nginx's fast shutdown; the master ends its worker too.
        stop_pid "$NCHAN_MASTER_PID" 10 nginx
        if [[ -n "$worker" ]] && kill -0 "$worker" 2>/dev/null; then
            kill -KILL "$worker" 2>/dev/null || true
        fi
        NCHAN_MASTER_PID=""
    fi
    if [[ -n "$NCHAN_DIR" ]]; then
        rm -rf "$NCHAN_DIR"
        NCHAN_DIR=""
    fi
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
    set -euo pipefail
    trap nchan_stop EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    nchan_start
    echo "publishing every ${NCHAN_INTERVAL} s; Ctrl-C stops" >&2
    wait "$NCHAN_MASTER_PID"
fi
