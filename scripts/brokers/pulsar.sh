#!/usr/bin/env bash
# A real Apache Pulsar standalone broker (embedded bookie, RocksDB metadata) from the pulsar-broker jars
# on Maven Central, on free loopback ports, with the WebSocket API enabled.
#   pulsar.sh start <stateDir>  -> prints pulsar+ws://127.0.0.1:<web port> as its last line (idempotent)
#   pulsar.sh stop  <stateDir>  -> stops it by process id (no-op when not running)
#   pulsar.sh url   <stateDir>  -> prints the URL of the running broker
# The jars are fetched once into ${CLEAN_PULSAR_LIBS:-.cache/pulsar-libs}. The ports are kept in <stateDir>/ports
# so that a restart after `stop` comes back on the same addresses with the same data.
# Token authentication (for auth tests): CLEAN_PULSAR_TOKEN_KEY=<base64 HS256 key, 32 bytes> on the first start
# enables it for that state dir; the super-user token (role "admin") is written to <stateDir>/admin-token.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source=common.sh
source "$here/common.sh"

usage() { echo "usage: pulsar.sh start|stop|url <stateDir>" >&2; exit 2; }
[ $# -ge 2 ] || usage
action=$1
mkdir -p "$2"
state=$(cd "$2" && pwd)
pidfile="$state/pulsar.pid"
portfile="$state/ports"
libs=${CLEAN_PULSAR_LIBS:-$repo/.cache/pulsar-libs}
pulsar_version=$(sed -n 's:.*<pulsar.version>\(.*\)</pulsar.version>.*:\1:p' "$here/pulsar/pom.xml")
start_timeout=${CLEAN_PULSAR_START_TIMEOUT:-240}

port_of() { sed -n "s/^$1=//p" "$portfile"; }

ensure_libs() {
  if [ -f "$libs/lib/.complete-$pulsar_version" ]; then return 0; fi
  command -v mvn >/dev/null 2>&1 || { echo "Maven (mvn) is needed to fetch the Pulsar jars: apt-get install -y maven" >&2; exit 1; }
  echo "fetching pulsar-broker $pulsar_version and its runtime dependencies from Maven Central into $libs (once)" >&2
  rm -rf "$libs/lib"
  mkdir -p "$libs"
  local t0=$SECONDS
  # The settings file points every repository Pulsar's poms mention at Maven Central (the others are unreachable here).
  mvn -q -B -s "$here/pulsar/settings.xml" -f "$here/pulsar/pom.xml" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$libs/lib" >&2
  touch "$libs/lib/.complete-$pulsar_version"
  echo "fetched $(ls "$libs/lib" | wc -l) jars ($(du -sh "$libs/lib" | cut -f1)) in $((SECONDS - t0)) s" >&2
}

# sign_token KEY_BASE64 ROLE: an HS256 JWT whose subject is ROLE, as Pulsar's AuthenticationProviderToken expects.
sign_token() {
  node -e 'const c=require("crypto");const b=(o)=>Buffer.from(JSON.stringify(o)).toString("base64url");
    const h=b({alg:"HS256",typ:"JWT"})+"."+b({sub:process.argv[2]});
    console.log(h+"."+c.createHmac("sha256",Buffer.from(process.argv[1],"base64")).update(h).digest("base64url"))' "$1" "$2"
}

ready() {
  # The standalone starter creates public/default last; once it is listed the broker serves clients.
  local auth=()
  [ -s "$state/admin-token" ] && auth=(-H "Authorization: Bearer $(cat "$state/admin-token")")
  curl -fsS -m 2 "${auth[@]}" "http://127.0.0.1:$1/admin/v2/namespaces/public" 2>/dev/null | grep -q '"public/default"'
}

write_auth_config() {
  if [ -n "${CLEAN_PULSAR_TOKEN_KEY:-}" ] && [ ! -s "$state/token-key" ]; then
    (umask 077; echo "$CLEAN_PULSAR_TOKEN_KEY" > "$state/token-key")
  fi
  [ -s "$state/token-key" ] || return 0
  local key admin
  key=$(cat "$state/token-key")
  admin=$(sign_token "$key" admin)
  (umask 077; echo "$admin" > "$state/admin-token")
  {
    echo "authenticationEnabled=true"
    echo "authorizationEnabled=true"
    echo "authenticationProviders=org.apache.pulsar.broker.authentication.AuthenticationProviderToken"
    echo "tokenSecretKey=data:;base64,$key"
    echo "superUserRoles=admin"
    echo "brokerClientAuthenticationPlugin=org.apache.pulsar.client.impl.auth.AuthenticationToken"
    echo "brokerClientAuthenticationParameters=token:$admin"
  } >> "$state/standalone.conf"
}

start() {
  ensure_libs
  if pid=$(running_pid); then
    echo "pulsar already running (pid $pid)" >&2
    echo "pulsar+ws://127.0.0.1:$(port_of web)"
    return 0
  fi
  if [ ! -s "$portfile" ]; then
    { echo "web=$(free_port)"; echo "broker=$(free_port)"; } > "$portfile"
  fi
  local web broker
  web=$(port_of web) broker=$(port_of broker)
  mkdir -p "$state/data"
  sed -e "s|@WEB_PORT@|$web|g" -e "s|@BROKER_PORT@|$broker|g" -e "s|@STATE_DIR@|$state|g" \
    "$here/pulsar/standalone.conf" > "$state/standalone.conf"
  write_auth_config
  rm -f "$pidfile"
  local t0=$SECONDS
  # With RocksDB metadata the embedded bookie picks its own port (kept in its data dir, so stable across restarts)
  # and binds all interfaces; --bookkeeper-port only applies to the ZooKeeper mode.
  # The --add-opens/--add-exports flags are the ones Pulsar's bin/pulsar passes on Java 17.
  (
    cd "$state"
    exec java -Xms256m -Xmx${CLEAN_PULSAR_HEAP:-512m} -XX:MaxDirectMemorySize=512m -XX:+UseG1GC \
      --add-opens java.base/java.io=ALL-UNNAMED \
      --add-opens java.base/java.util.zip=ALL-UNNAMED \
      --add-opens java.base/sun.net=ALL-UNNAMED \
      --add-opens java.management/sun.management=ALL-UNNAMED \
      --add-opens jdk.management/com.sun.management.internal=ALL-UNNAMED \
      --add-opens java.base/java.lang=ALL-UNNAMED \
      --add-opens java.base/java.nio=ALL-UNNAMED \
      --add-opens java.base/jdk.internal.misc=ALL-UNNAMED \
      --add-exports java.base/jdk.internal.misc=ALL-UNNAMED \
      -Dio.netty.tryReflectionSetAccessible=true \
      -Dpulsar.allocator.exit_on_oom=true \
      -Dlog4j.configurationFile="$here/pulsar/log4j2.xml" \
      -Dpulsar.log.file="$state/pulsar.log" \
      -cp "$libs/lib/*" org.apache.pulsar.PulsarStandaloneStarter \
      --config "$state/standalone.conf" --no-functions-worker --no-stream-storage \
      --metadata-dir "$state/data/metadata" --bookkeeper-dir "$state/data/bookkeeper" \
      --advertised-address 127.0.0.1
  ) > "$state/pulsar.out" 2>&1 < /dev/null &
  echo $! > "$pidfile"
  local pid
  pid=$(cat "$pidfile")
  for _ in $(seq 1 $((start_timeout * 2))); do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "the Pulsar broker exited during start-up. Last lines of $state/pulsar.out and pulsar.log:" >&2
      tail -n 20 "$state/pulsar.out" >&2 || true
      grep -E 'ERROR|Exception' "$state/pulsar.log" 2>/dev/null | tail -n 20 >&2 || true
      rm -f "$pidfile"
      exit 1
    fi
    if ready "$web"; then
      echo "pulsar $pulsar_version started in $((SECONDS - t0)) s on web port $web, broker port $broker (pid $pid)" >&2
      echo "pulsar+ws://127.0.0.1:$web"
      return 0
    fi
    sleep 0.5
  done
  echo "the Pulsar broker did not list public/default on 127.0.0.1:$web within $start_timeout s; stopping it. See $state/pulsar.log" >&2
  stop_pid "$pid" 20
  rm -f "$pidfile"
  exit 1
}

stop() {
  # The standalone starter closes the broker and the bookie on SIGTERM; give it time to flush.
  stop_running pulsar 30
}

url() {
  if running_pid >/dev/null; then echo "pulsar+ws://127.0.0.1:$(port_of web)"; else echo "pulsar is not running" >&2; exit 1; fi
}

case "$action" in
  start) start ;;
  stop) stop ;;
  url) url ;;
  *) usage ;;
esac
