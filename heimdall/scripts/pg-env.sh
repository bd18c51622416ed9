# libpq's environment for pg_dump, pg_restore and psql, from the DATABASE_* variables Heimdall
# reads. The password comes from DATABASE_PASSWORD (a Secret, by reference) into PGPASSWORD:
# it is never on a command line. TLS follows Heimdall's DATABASE_SSL* semantics.
export PGHOST="${DATABASE_HOST:?DATABASE_HOST is not set}"
export PGPORT="${DATABASE_PORT:-5432}"
export PGUSER="${DATABASE_USERNAME:-postgres}"
export PGDATABASE="${DATABASE_NAME:?DATABASE_NAME is not set}"
export PGPASSWORD="${DATABASE_PASSWORD:-}"
# Fail within seconds, not minutes, when the server does not answer.
export PGCONNECT_TIMEOUT="${PGCONNECT_TIMEOUT:-15}"
case "${DATABASE_SSL:-false}" in
  false)
    # Heimdall then talks plain TCP; the tools still use TLS if the server offers it.
    export PGSSLMODE=prefer ;;
  *)
    if [ "${DATABASE_SSL_INSECURE:-false}" = "true" ]; then
      export PGSSLMODE=require
    else
      export PGSSLMODE=verify-full
      ca="${DATABASE_SSL_CA:-}"
      if [ -z "$ca" ]; then
        export PGSSLROOTCERT=system  # the image's trust store (libpq 16 and later)
      elif [ -f "$ca" ]; then
        export PGSSLROOTCERT="$ca"
      else
        case "$ca" in
          -----BEGIN*)  # PEM text, as Heimdall also accepts
            PGSSLROOTCERT="$(mktemp)"
            printf '%s\n' "$ca" > "$PGSSLROOTCERT"
            export PGSSLROOTCERT ;;
          *)
            echo "ERROR: DATABASE_SSL_CA is neither a readable file nor PEM text: $ca" >&2
            exit 1 ;;
        esac
      fi
    fi ;;
esac
