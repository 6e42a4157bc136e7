#!/usr/bin/env bash
# A single-node Apache Kafka broker (KRaft, broker+controller in one JVM) from the jars on Maven Central.
#   kafka.sh start <stateDir>   fetches the jars once, formats storage once, starts the broker, waits until it
#                               serves metadata, prints kafka://127.0.0.1:<port> as its last line (idempotent)
#   kafka.sh stop  <stateDir>   stops it by process id (a no-op when not running)
#   kafka.sh url   <stateDir>   prints the URL of the running broker
# KAFKA_SASL=scram (on the first start of a state dir; remembered after) makes the client listener SASL_PLAINTEXT
# with SCRAM-SHA-256, SCRAM-SHA-512 and PLAIN for user $KAFKA_SASL_USER (default clean) with password
# $KAFKA_SASL_PASSWORD (default clean-secret).
# KAFKA_TLS=1 (on the first start of a state dir; remembered after) makes the client listener SSL (no client
# certificate asked for) with a throwaway CA made by openssl: the CA certificate is always $stateDir/ca.pem, the
# broker's certificate (for 127.0.0.1 and localhost) $stateDir/broker.pem. The controller listener stays plaintext.
# Ports are chosen once and kept, so a restart reuses them.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=common.sh
source "$here/common.sh"

action=${1:?usage: kafka.sh start|stop|url <stateDir>}
state=${2:?usage: kafka.sh start|stop|url <stateDir>}
mkdir -p "$state"
state=$(cd "$state" && pwd)
repo=$(cd "$here/../.." && pwd)
kafka_version=3.9.1
libs=${CLEAN_KAFKA_LIBS:-$repo/.cache/kafka-libs/$kafka_version}
pidfile=$state/kafka.pid

running() { [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }

fetch_libs() {
  [ -f "$libs/.complete" ] && return 0
  command -v mvn >/dev/null || { echo "kafka.sh: Maven (mvn) is needed to fetch the Kafka jars: apt-get install -y maven" >&2; exit 1; }
  echo "Fetching Apache Kafka $kafka_version jars from Maven Central into $libs (first run only)..." >&2
  rm -rf "$libs" && mkdir -p "$libs"
  mvn -q -B -f "$here/kafka/pom.xml" package -Dkafka.version="$kafka_version" -Dlibs.dir="$libs" >&2
  touch "$libs/.complete"
}

install_kcat() {
  command -v kcat >/dev/null && return 0
  echo "Installing kcat (Debian) for the tests..." >&2
  bash "$here/../apt-install" kcat ||
    echo "kafka.sh: could not install kcat; tests that produce with kcat will fail." >&2
}

# Chooses ports and the security mode once; later starts read them back.
load_settings() {
  if [ ! -f "$state/settings" ]; then
    local mode=plain
    case "${KAFKA_SASL:-}" in '' ) ;; scram) mode=scram ;; *) echo "kafka.sh: KAFKA_SASL must be 'scram' or unset" >&2; exit 2 ;; esac
    case "${KAFKA_TLS:-}" in '' | 0) ;; 1) mode=tls ;; *) echo "kafka.sh: KAFKA_TLS must be 1 or unset" >&2; exit 2 ;; esac
    if [ -n "${KAFKA_SASL:-}" ] && [ "$mode" = tls ]; then
      echo "kafka.sh: KAFKA_SASL and KAFKA_TLS together (SASL_SSL) are not supported; choose one" >&2; exit 2
    fi
    {
      echo "PORT=$(free_port)"
      echo "CONTROLLER_PORT=$(free_port)"
      echo "MODE=$mode"
      echo "SASL_USER=${KAFKA_SASL_USER:-clean}"
    } >"$state/settings"
  fi
  # shellcheck disable=SC1091
  source "$state/settings"
  if [ "${KAFKA_SASL:-}" = scram ] && [ "$MODE" != scram ]; then
    echo "kafka.sh: $state was set up without SASL; use another state dir for KAFKA_SASL=scram (or delete this one)" >&2; exit 2
  fi
  if [ "${KAFKA_TLS:-0}" = 1 ] && [ "$MODE" != tls ]; then
    echo "kafka.sh: $state was set up without TLS; use another state dir for KAFKA_TLS=1 (or delete this one)" >&2; exit 2
  fi
}

# A throwaway CA ($state/ca.pem) and a broker certificate it signs for 127.0.0.1 and localhost (made once).
make_certs() {
  [ -f "$state/ca.pem" ] && [ -f "$state/broker.pem" ] && [ -f "$state/broker-key.pem" ] && return 0
  if ! command -v openssl >/dev/null 2>&1; then
    echo "Installing openssl (Debian) for the TLS broker's certificates..." >&2
    bash "$here/../apt-install" openssl
  fi
  local cnf='[req]
distinguished_name = dn
[dn]
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[broker]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, DNS:localhost
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
'
  {
    openssl req -x509 -config <(printf '%s' "$cnf") -extensions ca -newkey rsa:2048 -nodes -days 3650 \
      -subj "/CN=Clean Streams test CA" -keyout "$state/ca-key.pem" -out "$state/ca.pem" &&
    openssl req -new -config <(printf '%s' "$cnf") -newkey rsa:2048 -nodes -subj "/CN=localhost" \
      -keyout "$state/broker-key.pem" -out "$state/broker.csr" &&
    openssl x509 -req -in "$state/broker.csr" -CA "$state/ca.pem" -CAkey "$state/ca-key.pem" -set_serial "0x$(openssl rand -hex 8)" \
      -days 3650 -extfile <(printf '%s' "$cnf") -extensions broker -out "$state/broker.pem"
  } >"$state/tls.log" 2>&1 || { echo "kafka.sh: making the TLS certificates failed; see $state/tls.log" >&2; cat "$state/tls.log" >&2; exit 1; }
  chmod 600 "$state/ca-key.pem" "$state/broker-key.pem"
  rm -f "$state/broker.csr"
}

# A PEM file as one Java properties value (newlines as \n escapes; Kafka's PEM parser wants the line breaks).
pem_value() { awk 'NF { printf "%s\\n", $0 }' "$1"; }

write_config() {
  local listeners protocol_map inter
  if [ "$MODE" = scram ]; then
    listeners="SASL_PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CONTROLLER_PORT"
    protocol_map="CONTROLLER:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT"
    inter=SASL_PLAINTEXT
  elif [ "$MODE" = tls ]; then
    listeners="SSL://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CONTROLLER_PORT"
    protocol_map="CONTROLLER:PLAINTEXT,SSL:SSL"
    inter=SSL
  else
    listeners="PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CONTROLLER_PORT"
    protocol_map="CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT"
    inter=PLAINTEXT
  fi
  cat >"$state/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$CONTROLLER_PORT
listeners=$listeners
advertised.listeners=${listeners%%,CONTROLLER*}
controller.listener.names=CONTROLLER
inter.broker.listener.name=$inter
listener.security.protocol.map=$protocol_map
log.dirs=$state/data
num.partitions=1
auto.create.topics.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
group.initial.rebalance.delay.ms=0
num.network.threads=2
num.io.threads=4
log.retention.hours=24
EOF
  if [ "$MODE" = scram ]; then
    # The broker's own inter-broker login; the admin user is created by --add-scram at format time.
    cat >>"$state/server.properties" <<EOF
sasl.enabled.mechanisms=SCRAM-SHA-256,SCRAM-SHA-512,PLAIN
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-256
listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="broker" password="$(cat "$state/broker-password")";
listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_$SASL_USER="$(cat "$state/user-password")";
EOF
  fi
  if [ "$MODE" = tls ]; then
    # PEM inline (ssl.keystore.location with PEM would need an encrypted key); the truststore is for the broker's own SSL clients.
    cat >>"$state/server.properties" <<EOF
ssl.keystore.type=PEM
ssl.keystore.certificate.chain=$(pem_value "$state/broker.pem")
ssl.keystore.key=$(pem_value "$state/broker-key.pem")
ssl.truststore.type=PEM
ssl.truststore.certificates=$(pem_value "$state/ca.pem")
ssl.client.auth=none
EOF
    chmod 600 "$state/server.properties"
  fi
  cat >"$state/log4j.properties" <<EOF
log4j.rootLogger=INFO, file
log4j.appender.file=org.apache.log4j.RollingFileAppender
log4j.appender.file.File=$state/server.log
log4j.appender.file.MaxFileSize=20MB
log4j.appender.file.MaxBackupIndex=2
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.request.logger=WARN
log4j.logger.org.apache.kafka.clients=WARN
EOF
}

java_cmd() {
  java -Xms128m -Xmx512m -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true \
    -Dlog4j.configuration="file:$state/log4j.properties" -Dkafka.logs.dir="$state" -cp "$libs/*" "$@"
}

format_storage() {
  [ -f "$state/data/meta.properties" ] && return 0
  local cluster_id extra=()
  cluster_id=$(java_cmd kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n1)
  if [ "$MODE" = scram ]; then
    local pw=${KAFKA_SASL_PASSWORD:-clean-secret}
    extra=(--add-scram "SCRAM-SHA-256=[name=broker,password=$(cat "$state/broker-password")]"
           --add-scram "SCRAM-SHA-256=[name=$SASL_USER,password=$pw]"
           --add-scram "SCRAM-SHA-512=[name=$SASL_USER,password=$pw]")
  fi
  java_cmd kafka.tools.StorageTool format -t "$cluster_id" -c "$state/server.properties" "${extra[@]}" >"$state/format.log" 2>&1 ||
    { echo "kafka.sh: formatting KRaft storage failed; see $state/format.log" >&2; cat "$state/format.log" >&2; exit 1; }
}

# kcat -L proves the broker answers metadata requests on the client listener (with SASL or TLS when configured).
serves_metadata() {
  local args=(-b "127.0.0.1:$PORT" -L -m 2)
  if [ "$MODE" = scram ]; then
    args+=(-X security.protocol=SASL_PLAINTEXT -X sasl.mechanisms=SCRAM-SHA-256 -X "sasl.username=$SASL_USER"
           -X "sasl.password=$(cat "$state/user-password")")
  elif [ "$MODE" = tls ]; then
    args+=(-X security.protocol=ssl -X "ssl.ca.location=$state/ca.pem")
  fi
  kcat "${args[@]}" 2>/dev/null | grep -q 'broker 1 at'
}

wait_ready() {
  for _ in $(seq 1 600); do
    if ! running; then
      echo "kafka.sh: the broker exited during start; last lines of $state/server.log:" >&2
      tail -n 30 "$state/server.log" "$state/stdout.log" >&2 2>/dev/null || true
      rm -f "$pidfile"; exit 1
    fi
    serves_metadata && return 0
    sleep 0.1
  done
  echo "kafka.sh: the broker did not serve metadata within 60 s; see $state/server.log" >&2
  exit 1
}

start() {
  install_kcat
  load_settings
  if running; then wait_ready; cat "$state/url"; return 0; fi
  fetch_libs
  if [ "$MODE" = scram ]; then
    [ -f "$state/broker-password" ] || head -c 18 /dev/urandom | base64 | tr -d '/+=' >"$state/broker-password"
    [ -f "$state/user-password" ] || printf '%s' "${KAFKA_SASL_PASSWORD:-clean-secret}" >"$state/user-password"
    chmod 600 "$state/broker-password" "$state/user-password"
  fi
  if [ "$MODE" = tls ]; then make_certs; fi
  write_config
  format_storage
  local t0=$SECONDS
  # setsid + closed stdio: the broker outlives this script and does not hold the caller's pipes open.
  setsid bash -c 'echo $$ >"$1"; shift; exec "$@"' _ "$pidfile" \
    java -Xms128m -Xmx512m -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true \
    -Dlog4j.configuration="file:$state/log4j.properties" -Dkafka.logs.dir="$state" -cp "$libs/*" \
    kafka.Kafka "$state/server.properties" </dev/null >"$state/stdout.log" 2>&1 &
  for _ in $(seq 1 50); do [ -s "$pidfile" ] && break; sleep 0.02; done
  wait_ready
  echo "kafka://127.0.0.1:$PORT" >"$state/url"
  echo "Kafka $kafka_version ($MODE) ready in $((SECONDS - t0)) s, pid $(cat "$pidfile"), state in $state" >&2
  cat "$state/url"
}

stop() {
  if running; then stop_pid "$(cat "$pidfile")" 30; fi
  rm -f "$pidfile"
}

case "$action" in
  start) start ;;
  stop) stop ;;
  url)
    if running; then cat "$state/url"; else echo "kafka.sh: no Kafka broker is running for $state" >&2; exit 1; fi ;;
  *) echo "usage: kafka.sh start|stop|url <stateDir>" >&2; exit 2 ;;
esac
