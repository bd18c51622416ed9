# postStart hook of the embedded PostgreSQL container: at every start, set the password of
# the database user (POSTGRES_USER) to the one in the Secret (POSTGRES_PASSWORD).
#
# The official image applies POSTGRES_PASSWORD only when it initialises an empty volume, so
# without this a new password in the Secret would lock every client out. This runs over the
# local unix socket, which the image's pg_hba.conf trusts (initdb's default
# "local all all trust"), as the image's superuser. The password never reaches a command
# line: the SQL is built with shell builtins (printf) and sed reads the value on stdin, and
# psql reads the SQL on stdin. The statement is not logged (log_statement off for it).
# Kubernetes marks the container ready only after this hook has succeeded; on failure it
# kills the container, which then restarts (the event FailedPostStartHook says why).
set -u
socket="${POSTGRES_SOCKET_DIR:-/var/run/postgresql}"
port="${PGPORT:-5432}"
deadline=$(( $(date +%s) + ${PASSWORD_SYNC_TIMEOUT:-300} ))
literal=$(printf '%s' "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD is not set}" | sed "s/'/''/g")
role=$(printf '%s' "${POSTGRES_USER:?POSTGRES_USER is not set}" | sed 's/"/""/g')
while :; do
  # The first start of an empty volume runs a temporary server on the socket first; a
  # statement it takes is harmless (the same password), one it drops is retried.
  if pg_isready -q -h "$socket" -p "$port" -U "$POSTGRES_USER" -d postgres \
    && printf "SET log_statement = 'none';\nSET log_min_duration_statement = -1;\nALTER ROLE \"%s\" WITH PASSWORD '%s';\n" "$role" "$literal" \
      | psql -X -q -v ON_ERROR_STOP=1 -h "$socket" -p "$port" -U "$POSTGRES_USER" -d postgres >/dev/null
  then
    exit 0
  fi
  if [ "$(date +%s)" -ge "$deadline" ]; then
    echo "could not set the password of $POSTGRES_USER over $socket" >&2
    exit 1
  fi
  sleep 1
done
