#!/usr/bin/env bash
# ClickHouse peer for the ingest and live-query benchmarks: a private clickhouse-server (Debian's
# 18.16, loopback only, its own data, tmp and log dir under /tmp, config copied from
# /etc/clickhouse-server with the paths and ports replaced) with one MergeTree table
# `frontend_events` shaped like seed 004's, and the four Pulseboard live queries as SQL.
#
#   Benchmarks/clickhouse.sh            start, create the table, run until Ctrl-C
#   source Benchmarks/clickhouse.sh     helpers for other scripts (the caller traps EXIT and calls
#                                       clickhouse_stop):
#       clickhouse_start                start the server, wait until SELECT 1 answers; sets CLICKHOUSE_PID
#       clickhouse_create_table         create frontend_events (if missing)
#       clickhouse_create_buffer_table  optional: frontend_events_buffer, a Buffer table in front of it
#       clickhouse_insert_path [TABLE]  print the bench's --path for inserts into TABLE (frontend_events)
#       clickhouse_truncate             empty it
#       clickhouse_count                print its row count
#       clickhouse_sql SQL              run one statement over HTTP, print the answer (TSV)
#       clickhouse_query_url N          print the HTTP GET URL of CLICKHOUSE_QUERIES[N] (for wrk)
#       clickhouse_show_queries         print each query and its answer once (to compare with Pulseboard)
#       clickhouse_bench_queries [S]    wrk -t1 -c1 -dS --latency on each query; prints p50/p99 per query
#       clickhouse_stop                 clean stop (SIGTERM, SIGKILL after a timeout), remove the dir
#
# Load it with `pulseboard bench ingest --target clickhouse --port $CLICKHOUSE_HTTP_PORT`.
#
# Adapted to 18.16 (no DateTime64, no JSONExtract, no DEFAULT for fields omitted in JSONEachRow):
# `timestamp` is DateTime('UTC') (second precision: the benchmark's timestamps lose their
# milliseconds), `event_id` is a String (Pulseboard's ids are "e-" + 32 hex digits, not UUIDs),
# `date` and `hour` are MATERIALIZED from `timestamp` rather than DEFAULT (18.16 fills omitted
# JSONEachRow fields with zeros, not with their DEFAULT expressions), and JSON properties are read
# with visitParamExtract*. The seed's `TTL timestamp + INTERVAL 90 DAY` is dropped: table TTLs
# came with ClickHouse 19.6.
#
# Small inserts: every INSERT writes a new part (about 48 files for this table in 18.16, which has no
# compact parts and no async inserts) that background merges then rewrite; ClickHouse advises
# batches of thousands of rows. The benchmark's 100-event batches are what Pulseboard gets, so they
# are the like-for-like default; `--batch-size 1000`, or inserting into the Buffer table
# (clickhouse_create_buffer_table, `--path "$(clickhouse_insert_path frontend_events_buffer)"`,
# CLICKHOUSE_QUERY_TABLE=frontend_events_buffer so the queries see rows not yet flushed) are the
# usual 18.x remedies. Removing the data dir after a large load takes a while (many small files).
#
# Environment: CLICKHOUSE_HTTP_PORT (18123), CLICKHOUSE_TCP_PORT (19000), CLICKHOUSE_ETC
# (/etc/clickhouse-server: where config.xml and users.xml are copied from), CLICKHOUSE_WRK_SECONDS
# (3, for clickhouse_bench_queries), CLICKHOUSE_QUERY_TABLE (frontend_events: the table the four
# queries read). Installs clickhouse-server and clickhouse-client with apt-get only if they are
# missing.

CLICKHOUSE_HTTP_PORT="${CLICKHOUSE_HTTP_PORT:-18123}"
CLICKHOUSE_TCP_PORT="${CLICKHOUSE_TCP_PORT:-19000}"
CLICKHOUSE_ETC="${CLICKHOUSE_ETC:-/etc/clickhouse-server}"
CLICKHOUSE_WRK_SECONDS="${CLICKHOUSE_WRK_SECONDS:-3}"
CLICKHOUSE_QUERY_TABLE="${CLICKHOUSE_QUERY_TABLE:-frontend_events}"
CLICKHOUSE_TABLE=frontend_events
CLICKHOUSE_DIR=""
CLICKHOUSE_PID=""
_CLICKHOUSE_HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$_CLICKHOUSE_HERE/lib.sh"

# The four live queries, equivalent to Pulseboard's (CLICKHOUSE_PULSEBOARD_QUERIES[N] is the same
# question as GET /api/metrics/query?...). Windows end now; ClickHouse's now() has second precision.
# They name frontend_events; clickhouse_query_url and clickhouse_show_queries read
# CLICKHOUSE_QUERY_TABLE instead.
CLICKHOUSE_QUERY_NAMES=(active_users_5m messages_per_sec_1m p95_response_time_by_model_5m error_rate_1h)
CLICKHOUSE_QUERIES=(
    # (a) Distinct users with any event in the last 5 minutes (exact, like Pulseboard).
    "SELECT uniqExact(user_id) AS active_users FROM frontend_events WHERE timestamp >= now() - 300"
    # (b) chat_interaction events per second over the last minute.
    "SELECT count() / 60 AS messages_per_sec FROM frontend_events WHERE event_type = 'chat_interaction' AND timestamp >= now() - 60"
    # (c) p95 of response_time_ms by model_used over 5 minutes, over the chat interactions that carry
    #     it (AI responses; prompts have none), like Pulseboard. quantile() samples (reservoir of
    #     8192), Pulseboard's DDSketch is within 1 %: expect small differences.
    "SELECT visitParamExtractString(properties, 'model_used') AS model, round(quantile(0.95)(visitParamExtractFloat(properties, 'response_time_ms')), 1) AS p95_ms FROM frontend_events WHERE event_type = 'chat_interaction' AND timestamp >= now() - 300 AND visitParamHas(properties, 'response_time_ms') GROUP BY model ORDER BY model"
    # (d) error_tracking events / chat_interaction events over the last hour (agg=per_interaction).
    "SELECT countIf(event_type = 'error_tracking') / countIf(event_type = 'chat_interaction') AS error_rate FROM frontend_events WHERE timestamp >= now() - 3600"
)
CLICKHOUSE_PULSEBOARD_QUERIES=(
    "metric=active_users&window=5m"
    "metric=messages_per_sec&window=1m"
    "metric=response_time_ms&agg=p95&window=5m&group_by=model_used"
    "metric=error_rate&window=1h"
)

clickhouse_install() {
    if command -v clickhouse-server >/dev/null 2>&1 && command -v clickhouse-client >/dev/null 2>&1; then
        return 0
    fi
    echo "installing clickhouse-server and clickhouse-client..." >&2
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y clickhouse-server clickhouse-client >&2; then
        apt-get update >&2 && apt-get install -y clickhouse-server clickhouse-client >&2
    fi
    # The package starts nothing here (no init system), and this script never uses its default paths.
    command -v clickhouse-server >/dev/null 2>&1 || {
        echo "clickhouse-server is still missing" >&2
        return 1
    }
}

clickhouse_base_url() {
    printf 'http://127.0.0.1:%s/' "$CLICKHOUSE_HTTP_PORT"
}

# clickhouse_sql SQL: runs one statement over HTTP and prints the answer (TabSeparated); fails with
# ClickHouse's error message on anything but HTTP 200.
clickhouse_sql() {
    local out status
    out="$(curl -sS -m 120 -w '\n%{http_code}' --data-binary "$1" "$(clickhouse_base_url)")" || return 1
    status="${out##*$'\n'}"
    out="${out%$'\n'*}"
    out="${out%$'\n'}"
    if [[ "$status" != 200 ]]; then
        echo "clickhouse: HTTP ${status}: ${out}" >&2
        return 1
    fi
    [[ -z "$out" ]] || printf '%s\n' "$out"
}

clickhouse_start() {
    clickhouse_install || return 1
    if curl -s -o /dev/null -m 2 "$(clickhouse_base_url)" 2>/dev/null; then
        echo "something is already answering on port ${CLICKHOUSE_HTTP_PORT}; stop it first" >&2
        return 1
    fi
    # On tmpfs when there is one: no disk in the way of the peer, and a removal that takes
    # seconds, not minutes, after millions of rows in small parts.
    local root=/tmp
    [[ -d /dev/shm && -w /dev/shm ]] && root=/dev/shm
    CLICKHOUSE_DIR="$(mktemp -d "${CLICKHOUSE_ROOT:-$root}/clickhouse-bench.XXXXXX")"
    mkdir -p "${CLICKHOUSE_DIR}/data"
    # Paths into the private dir, our ports, IPv4 loopback only, no interserver (replication) port,
    # UTC so that the benchmark's "YYYY-MM-DD hh:mm:ss" UTC timestamps mean what they say.
    sed -e "s|/var/lib/clickhouse/|${CLICKHOUSE_DIR}/data/|g" \
        -e "s|/var/log/clickhouse-server/|${CLICKHOUSE_DIR}/|g" \
        -e "s|/etc/clickhouse-server/|${CLICKHOUSE_DIR}/|g" \
        -e "s|<http_port>[0-9]*</http_port>|<http_port>${CLICKHOUSE_HTTP_PORT}</http_port>|" \
        -e "s|<tcp_port>[0-9]*</tcp_port>|<tcp_port>${CLICKHOUSE_TCP_PORT}</tcp_port>|" \
        -e "/<interserver_http_port>/d" \
        -e "/^[[:space:]]*<listen_host>[^<]*<\/listen_host>[[:space:]]*$/d" \
        -e "/^[[:space:]]*<timezone>[^<]*<\/timezone>[[:space:]]*$/d" \
        -e "s|^</yandex>|    <listen_host>127.0.0.1</listen_host>\n    <timezone>UTC</timezone>\n</yandex>|" \
        "${CLICKHOUSE_ETC}/config.xml" >"${CLICKHOUSE_DIR}/config.xml"
    # The default user: loopback clients only (the server listens on nothing else anyway).
    sed -e "s|<ip>::/0</ip>|<ip>127.0.0.1</ip>|" "${CLICKHOUSE_ETC}/users.xml" >"${CLICKHOUSE_DIR}/users.xml"
    grep -q "<http_port>${CLICKHOUSE_HTTP_PORT}</http_port>" "${CLICKHOUSE_DIR}/config.xml" \
        && grep -q "<listen_host>127.0.0.1</listen_host>" "${CLICKHOUSE_DIR}/config.xml" || {
        echo "could not set the HTTP port or listen host in ${CLICKHOUSE_DIR}/config.xml" >&2
        return 1
    }
    (cd "$CLICKHOUSE_DIR" && exec clickhouse-server --config-file="${CLICKHOUSE_DIR}/config.xml") \
        >"${CLICKHOUSE_DIR}/stdout.log" 2>&1 &
    CLICKHOUSE_PID=$!
    local up=0
    for _ in $(seq 1 300); do
        if [[ "$(curl -s -m 2 --data-binary 'SELECT 1' "$(clickhouse_base_url)" 2>/dev/null)" == 1 ]]; then
            up=1
            break
        fi
        kill -0 "$CLICKHOUSE_PID" 2>/dev/null || break
        sleep 0.1
    done
    if [[ "$up" != 1 ]]; then
        echo "clickhouse-server did not start; its logs:" >&2
        cat "${CLICKHOUSE_DIR}/stdout.log" "${CLICKHOUSE_DIR}/clickhouse-server.err.log" >&2 2>/dev/null || true
        return 1
    fi
    echo "clickhouse: server ${CLICKHOUSE_PID} ($(clickhouse_sql 'SELECT version()')), 127.0.0.1:${CLICKHOUSE_HTTP_PORT} (HTTP), :${CLICKHOUSE_TCP_PORT} (native), dir ${CLICKHOUSE_DIR}" >&2
}

# Seed 004's frontend_events, adapted to 18.16 (see the top of this file).
clickhouse_create_table() {
    clickhouse_sql "CREATE TABLE IF NOT EXISTS ${CLICKHOUSE_TABLE} (
        event_id String,
        timestamp DateTime('UTC') DEFAULT now(),
        user_id String,
        session_id String,
        event_type String,
        event_category String,
        event_action String,
        event_label String,
        event_value Float64,
        properties String,
        user_agent String,
        ip_address String,
        country_code String,
        page_path String,
        page_title String,
        referrer String,
        gtm_container_id String,
        environment String,
        app_version String,
        date Date MATERIALIZED toDate(timestamp),
        hour UInt8 MATERIALIZED toHour(timestamp)
    )
    ENGINE = MergeTree()
    PARTITION BY toYYYYMM(timestamp)
    ORDER BY (user_id, timestamp, event_id)
    SETTINGS index_granularity = 8192"
}

# A Buffer table in front of frontend_events (16 layers; a layer flushes once 1 s, 10,000 rows and
# 1 MB have all been reached, at the latest after 10 s, 1 M rows or 100 MB). Reads of it see
# buffered and flushed rows; rows still buffered are lost if the server is killed.
clickhouse_create_buffer_table() {
    clickhouse_sql "CREATE TABLE IF NOT EXISTS ${CLICKHOUSE_TABLE}_buffer AS ${CLICKHOUSE_TABLE}
        ENGINE = Buffer(currentDatabase(), ${CLICKHOUSE_TABLE}, 16, 1, 10, 10000, 1000000, 1000000, 100000000)"
}

# clickhouse_insert_path [TABLE]: `pulseboard bench ingest --path` for JSONEachRow inserts into TABLE.
clickhouse_insert_path() {
    printf '/?query=INSERT%%20INTO%%20%s%%20FORMAT%%20JSONEachRow\n' "${1:-$CLICKHOUSE_TABLE}"
}

# Empties frontend_events (and its Buffer table, if there is one: it is flushed first).
clickhouse_truncate() {
    if [[ "$(clickhouse_sql "EXISTS TABLE ${CLICKHOUSE_TABLE}_buffer")" == 1 ]]; then
        clickhouse_sql "OPTIMIZE TABLE ${CLICKHOUSE_TABLE}_buffer" || return 1
    fi
    clickhouse_sql "TRUNCATE TABLE ${CLICKHOUSE_TABLE}"
}

# Rows in frontend_events (with CLICKHOUSE_QUERY_TABLE=frontend_events_buffer: including buffered ones).
clickhouse_count() {
    clickhouse_sql "SELECT count() FROM ${CLICKHOUSE_QUERY_TABLE}"
}

# clickhouse_query N: CLICKHOUSE_QUERIES[N] reading CLICKHOUSE_QUERY_TABLE.
clickhouse_query() {
    local sql="${CLICKHOUSE_QUERIES[$1]:-}"
    printf '%s\n' "${sql//FROM ${CLICKHOUSE_TABLE} /FROM ${CLICKHOUSE_QUERY_TABLE} }"
}

# clickhouse_query_url N: the full GET URL of CLICKHOUSE_QUERIES[N] (0-based), URL-encoded.
clickhouse_query_url() {
    local n="$1"
    [[ -n "${CLICKHOUSE_QUERIES[$n]:-}" ]] || {
        echo "no query $n (0...$((${#CLICKHOUSE_QUERIES[@]} - 1)))" >&2
        return 1
    }
    printf '%s?query=%s\n' "$(clickhouse_base_url)" \
        "$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$(clickhouse_query "$n")")"
}

# Prints each query, its Pulseboard equivalent and ClickHouse's answer (fetched with its GET URL).
clickhouse_show_queries() {
    local n
    for n in "${!CLICKHOUSE_QUERIES[@]}"; do
        echo "-- ${n} ${CLICKHOUSE_QUERY_NAMES[$n]} (Pulseboard: /api/metrics/query?${CLICKHOUSE_PULSEBOARD_QUERIES[$n]})"
        clickhouse_query "$n"
        curl -sS -m 60 "$(clickhouse_query_url "$n")" | sed 's/^/   /'
    done
}

# clickhouse_bench_queries [SECONDS]: one closed-loop wrk client per query (-t1 -c1); prints a
# tab-separated line per query: name, requests/s, p50, p99 (as wrk prints them).
clickhouse_bench_queries() {
    local seconds="${1:-$CLICKHOUSE_WRK_SECONDS}" n out
    command -v wrk >/dev/null 2>&1 || {
        echo "wrk is missing (apt-get install -y wrk)" >&2
        return 1
    }
    printf 'query\treq/s\tp50\tp99\n'
    for n in "${!CLICKHOUSE_QUERIES[@]}"; do
        out="$(wrk -t1 -c1 -d"${seconds}s" --latency "$(clickhouse_query_url "$n")")" || return 1
        if grep -q "Non-2xx" <<<"$out"; then
            echo "query ${n}: wrk saw non-2xx answers:" >&2
            echo "$out" >&2
        fi
        printf '%s\t%s\t%s\t%s\n' "${CLICKHOUSE_QUERY_NAMES[$n]}" \
            "$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")" \
            "$(awk '$1 == "50%" {print $2}' <<<"$out")" \
            "$(awk '$1 == "99%" {print $2}' <<<"$out")"
    done
}

clickhouse_stop() {
    if [[ -n "$CLICKHOUSE_PID" ]]; then
        # SIGTERM is a clean shutdown (it waits for running queries and merges a short while).
        stop_pid "$CLICKHOUSE_PID" 30 clickhouse-server
        CLICKHOUSE_PID=""
    fi
    if [[ -n "$CLICKHOUSE_DIR" ]]; then
        rm -rf "$CLICKHOUSE_DIR"
        CLICKHOUSE_DIR=""
    fi
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
    set -euo pipefail
    trap clickhouse_stop EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    clickhouse_start
    clickhouse_create_table
    echo "table ${CLICKHOUSE_TABLE} ready; load: pulseboard bench ingest --target clickhouse --port ${CLICKHOUSE_HTTP_PORT}" >&2
    echo "query: curl '$(clickhouse_query_url 0)'; Ctrl-C stops" >&2
    wait "$CLICKHOUSE_PID"
fi
