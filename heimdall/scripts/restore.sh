# Restore the dump RESTORE_FROM (a file name in BACKUP_DIR) into the database, once.
#
# The database remembers every restore it received: a row (dump, run id) in
# heimdall_restore.applied, inserted in the SAME transaction as the restore itself. So:
# - a restore already applied (the same RESTORE_FROM and RESTORE_RUN_ID) is skipped with a
#   message: a restore Job deleted outside Pulumi and recreated by `pulumi up --refresh`, or
#   a new Job after a change of backup target, never restores an old dump over newer data;
# - any failure (a corrupt or truncated dump, an SQL error, a lost connection, a deadline)
#   rolls back the restore and its row together: the database is exactly as it was.
#
# pg_restore --clean --if-exists --single-transaction writes the restore as SQL; psql runs
# it after the row's INSERT, in one session, and the transaction commits only with the
# COMMIT pg_restore writes at the very end of a complete restore. If pg_restore stops
# early, what follows its partial output is an error psql cannot miss (the end of any COPY,
# then a raised exception), so no COMMIT is ever sent. The dump's own heimdall_restore
# objects, if any, are left out (a TOC list), so --clean never drops the history.
# A dump that is missing or cannot be read fails before the database is touched.
set -eu
export PGAPPNAME=heimdall-restore
dir="${BACKUP_DIR:?BACKUP_DIR is not set}"
name="${RESTORE_FROM:?RESTORE_FROM is not set}"
run_id="${RESTORE_RUN_ID:-}"
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
toc="$(mktemp)"
pg_restore --list "$file" > "$toc" \
  || fail "'$name' is not a readable pg_dump archive (custom format); the database was not changed"
# The restore history is this database's own: never the dump's.
grep -v -E '^[0-9]+; [0-9]+ [0-9]+ (SCHEMA - heimdall_restore|[A-Z][A-Z ]* heimdall_restore) ' \
  "$toc" > "$toc.use" || true

label="$name"
if [ -n "$run_id" ]; then label="$name (restore.runId $run_id)"; fi
applied="$(psql -X -A -t -v ON_ERROR_STOP=1 --no-password -v dump="$name" -v run_id="$run_id" <<'SQL'
SELECT to_regclass('heimdall_restore.applied') IS NOT NULL AS known \gset
\if :known
SELECT to_char(restored_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS "UTC"')
  FROM heimdall_restore.applied WHERE dump = :'dump' AND run_id = :'run_id';
\endif
SQL
)" || fail "cannot read the restore history of database $PGDATABASE (see the error above); the database was not changed"
if [ -n "$applied" ]; then
  echo "$label was already restored into database $PGDATABASE at $applied; nothing was done."
  echo "To restore it again on purpose, set restore.runId to a new value."
  exit 0
fi

echo "restoring $label into database $PGDATABASE at $PGHOST:$PGPORT in one transaction"
status=0
{
  cat <<'SQL'
SET client_min_messages = error;
BEGIN;
CREATE SCHEMA IF NOT EXISTS heimdall_restore;
CREATE TABLE IF NOT EXISTS heimdall_restore.applied (
  dump text NOT NULL,
  run_id text NOT NULL DEFAULT '',
  restored_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (dump, run_id)
);
COMMENT ON TABLE heimdall_restore.applied IS
  'Restores heimdall-pulumi applied to this database; a (dump, run_id) here is not restored again';
INSERT INTO heimdall_restore.applied (dump, run_id) VALUES (:'dump', :'run_id');
SQL
  if ! pg_restore --file=- --use-list="$toc.use" --clean --if-exists --single-transaction \
      --no-owner --no-acl "$file"; then
    printf '\n\\.\n'
    echo "DO \$\$ BEGIN RAISE EXCEPTION 'the dump could not be read to its end'; END \$\$;"
  fi
} | psql -X -q -o /dev/null -v ON_ERROR_STOP=1 --no-password -v dump="$name" -v run_id="$run_id" -f - \
  || status=$?
rm -f "$toc" "$toc.use"
if [ "$status" -ne 0 ]; then
  fail "restoring '$name' failed (see the error above); the transaction was rolled back, the database is as it was"
fi
echo "restored $label into $PGDATABASE"
