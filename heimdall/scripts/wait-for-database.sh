# Wait until PostgreSQL at DATABASE_HOST:DATABASE_PORT accepts connections, at most
# WAIT_TIMEOUT_SECONDS. pg_isready needs no password: it only asks whether the server is up.
set -u
timeout="${WAIT_TIMEOUT_SECONDS:-300}"
host="${DATABASE_HOST:?DATABASE_HOST is not set}"
port="${DATABASE_PORT:-5432}"
user="${DATABASE_USERNAME:-postgres}"
db="${DATABASE_NAME:-postgres}"
start=$(date +%s)
echo "waiting for PostgreSQL at ${host}:${port} (database ${db}, up to ${timeout}s)"
while :; do
  if pg_isready -q -h "$host" -p "$port" -U "$user" -d "$db" -t 5; then
    echo "PostgreSQL at ${host}:${port} accepts connections after $(( $(date +%s) - start ))s"
    exit 0
  fi
  # Whole seconds on both sides: more than the timeout apart means at least that long
  # (-ge would give up up to a second early).
  if [ $(( $(date +%s) - start )) -gt "$timeout" ]; then
    echo "ERROR: PostgreSQL at ${host}:${port} did not accept connections within ${timeout}s;" \
      "check the database pod or instance, the host name, the port and any NetworkPolicy" >&2
    exit 1
  fi
  sleep 2
done
