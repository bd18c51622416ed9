# Restore the dump RESTORE_FROM (a file name in BACKUP_DIR) into the database, with
# pg_restore --clean --if-exists in one transaction: on any error nothing is changed. A dump
# that is missing or cannot be read fails before the database is touched.
set -eu
export PGAPPNAME=heimdall-restore
dir="${BACKUP_DIR:?BACKUP_DIR is not set}"
name="${RESTORE_FROM:?RESTORE_FROM is not set}"
fail() { echo "ERROR: $*" >&2; exit 1; }

case "$name" in
  */*|.*) fail "RESTORE_FROM must be the file name of a dump in $dir, not '$name'" ;;
esac
file="$dir/$name"
if [ ! -f "$file" ]; then
  available="$(ls -1 "$dir" 2>/dev/null | grep -E '\.dump$' || true)"
  echo "ERROR: dump '$name' not found in $dir; the database was not changed." >&2
  if [ -n "$available" ]; then
    echo "dumps there:" >&2
    printf '%s\n' "$available" | sed 's/^/  /' >&2
  else
    echo "there are no dumps there" >&2
  fi
  exit 1
fi
pg_restore --list "$file" > /dev/null \
  || fail "'$name' is not a readable pg_dump archive (custom format); the database was not changed"

echo "restoring $name into database $PGDATABASE at $PGHOST:$PGPORT in one transaction"
if ! pg_restore --no-password --dbname="$PGDATABASE" --clean --if-exists \
    --single-transaction --exit-on-error --no-owner --no-acl "$file"; then
  fail "restoring '$name' failed (see the error above); the transaction was rolled back, the database is as it was"
fi
echo "restored $name into $PGDATABASE"
