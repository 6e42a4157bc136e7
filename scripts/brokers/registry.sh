#!/usr/bin/env bash
# A real Apicurio Registry 3.x (its Quarkus fast-jar from Maven Central) with in-memory storage (H2 in memory, the
# registry's default), on free loopback ports, for the schema-registry tests.
#   registry.sh start <stateDir>  -> prints http://127.0.0.1:<port>/apis/ccompat/v7 (the Confluent-compatible API,
#                                    the URL a user gives as ?registry=) as its last line (idempotent)
#   registry.sh stop  <stateDir>  -> stops it by process id (no-op when not running)
#   registry.sh url   <stateDir>  -> prints the URL of the running registry
# The distribution is fetched once into ${CLEAN_REGISTRY_APP:-.cache/registry-app/<version>}. The ports are kept in
# <stateDir>/ports so a restart comes back on the same address; the schemas do not survive a restart (in memory).
# Apicurio 3.3 is compiled for Java 21: the JVM is $CLEAN_REGISTRY_JAVA, else $JAVA_HOME or the first JDK under
# /usr/lib/jvm that is 21 or newer.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source=common.sh
source "$here/common.sh"

usage() { echo "usage: registry.sh start|stop|url <stateDir>" >&2; exit 2; }
[ $# -ge 2 ] || usage
action=$1
mkdir -p "$2"
state=$(cd "$2" && pwd)
pidfile="$state/registry.pid"
portfile="$state/ports"
version=$(sed -n 's:.*<apicurio.version>\(.*\)</apicurio.version>.*:\1:p' "$here/registry/pom.xml")
app=${CLEAN_REGISTRY_APP:-$repo/.cache/registry-app/$version}
start_timeout=${CLEAN_REGISTRY_START_TIMEOUT:-180}
api_path=/apis/ccompat/v7

port_of() { sed -n "s/^$1=//p" "$portfile"; }
url_of() { echo "http://127.0.0.1:$(port_of http)$api_path"; }

ensure_app() {
  [ -f "$app/.complete" ] && return 0
  command -v mvn >/dev/null 2>&1 || { echo "Maven (mvn) is needed to fetch Apicurio Registry: apt-get install -y maven" >&2; exit 1; }
  echo "fetching Apicurio Registry $version (its built Quarkus application) from Maven Central into $app (once)" >&2
  rm -rf "$app" "$app.build"
  mkdir -p "$(dirname "$app")"
  local t0=$SECONDS
  # Maven 3.8 prints colour resets even in batch mode; strip them from what reaches the log.
  mvn -q -B -f "$here/registry/pom.xml" package -Dregistry.build.dir="$app.build" -Dregistry.app.dir="$app" 2>&1 |
    sed 's/\x1b\[[0-9;]*m//g' >&2
  rm -rf "$app.build"
  [ -f "$app/quarkus-run.jar" ] || { echo "registry.sh: $app/quarkus-run.jar is missing after the fetch" >&2; exit 1; }
  touch "$app/.complete"
  echo "fetched Apicurio Registry $version ($(du -sh "$app" | cut -f1)) in $((SECONDS - t0)) s" >&2
}

# java_major BINARY: the feature version of a JVM (17, 21, 25 ...), or 0 when it does not run.
java_major() {
  "$1" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = \([0-9]*\).*/\1/p' | head -n 1 | grep . || echo 0
}

find_java() {
  local candidates=() c
  [ -n "${CLEAN_REGISTRY_JAVA:-}" ] && candidates+=("$CLEAN_REGISTRY_JAVA")
  [ -n "${JAVA_HOME:-}" ] && candidates+=("$JAVA_HOME/bin/java")
  candidates+=(/usr/lib/jvm/*/bin/java)
  command -v java >/dev/null 2>&1 && candidates+=("$(command -v java)")
  for c in "${candidates[@]}"; do
    [ -x "$c" ] && [ "$(java_major "$c")" -ge 21 ] && { echo "$c"; return 0; }
  done
  echo "registry.sh: Apicurio Registry $version needs Java 21 or newer; none found (set CLEAN_REGISTRY_JAVA to its java)" >&2
  exit 1
}

ready() {
  [ "$(curl -s -o /dev/null -m 2 -w '%{http_code}' "http://127.0.0.1:$1$api_path/subjects" 2>/dev/null || true)" = 200 ]
}

start() {
  ensure_app
  if pid=$(running_pid); then
    echo "registry already running (pid $pid)" >&2
    url_of
    return 0
  fi
  if [ ! -s "$portfile" ]; then
    { echo "http=$(free_port)"; echo "management=$(free_port)"; } > "$portfile"
  fi
  local java http management
  java=$(find_java)
  http=$(port_of http) management=$(port_of management)
  rm -rf "$state/tmp" && mkdir -p "$state/tmp"
  rm -f "$pidfile"
  local t0=$SECONDS
  # The management interface (health, metrics) would take port 9000 on all interfaces; the OpenTelemetry exporter
  # would keep trying localhost:4317; the H2 pool would open 20 connections. None of that is wanted here.
  (
    cd "$state"
    exec "$java" -Xms64m -Xmx${CLEAN_REGISTRY_HEAP:-512m} -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
      -Djava.io.tmpdir="$state/tmp" \
      -Dquarkus.http.host=127.0.0.1 -Dquarkus.http.port="$http" \
      -Dquarkus.management.host=127.0.0.1 -Dquarkus.management.port="$management" \
      -Dquarkus.otel.sdk.disabled=true \
      -Dapicurio.storage.kind=sql -Dapicurio.storage.sql.kind=h2 \
      -Dapicurio.datasource.jdbc.initial-size=2 -Dapicurio.datasource.jdbc.min-size=2 -Dapicurio.datasource.jdbc.max-size=20 \
      -jar "$app/quarkus-run.jar"
  ) > "$state/registry.log" 2>&1 < /dev/null &
  echo $! > "$pidfile"
  local pid
  pid=$(cat "$pidfile")
  for _ in $(seq 1 $((start_timeout * 5))); do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "Apicurio Registry exited during start-up. Last lines of $state/registry.log:" >&2
      tail -n 30 "$state/registry.log" >&2 || true
      rm -f "$pidfile"
      exit 1
    fi
    if ready "$http"; then
      echo "Apicurio Registry $version started in $((SECONDS - t0)) s on port $http (pid $pid, $("$java" -version 2>&1 | head -n 1))" >&2
      url_of
      return 0
    fi
    sleep 0.2
  done
  echo "Apicurio Registry did not answer $api_path/subjects on 127.0.0.1:$http within $start_timeout s; stopping it. See $state/registry.log" >&2
  stop_pid "$pid" 20
  rm -f "$pidfile"
  exit 1
}

stop() {
  stop_running registry 20
}

url() {
  if running_pid >/dev/null; then url_of; else echo "registry is not running" >&2; exit 1; fi
}

case "$action" in
  start) start ;;
  stop) stop ;;
  url) url ;;
  *) usage ;;
esac
