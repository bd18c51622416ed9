# Dump the database with pg_dump (custom format) into BACKUP_DIR. The dump is written under a
# temporary name, verified (pg_restore --list, then a full read of the archive) and only then
# renamed to heimdall-<UTC time>.dump, so a run that fails or is killed never leaves a file
# that passes for a dump. A run refuses to start when the volume cannot hold another dump. Only after that are dumps beyond BACKUP_RETENTION pruned (0: keep
# all; the S3 uploader prunes instead). Any failure: a message and a non-zero exit.
set -eu
umask 077
export PGAPPNAME=heimdall-backup
dir="${BACKUP_DIR:?BACKUP_DIR is not set}"
retention="${BACKUP_RETENTION:-0}"
fail() { echo "ERROR: $*" >&2; exit 1; }

case "$retention" in
  ''|*[!0-9]*) fail "BACKUP_RETENTION must be a whole number, not '$retention'" ;;
esac
if [ ! -d "$dir" ] || [ ! -w "$dir" ]; then
  fail "backup directory $dir is missing or not writable"
fi

# Runs never overlap (the CronJob forbids it): an unfinished dump is a killed run's leftover.
for stale in "$dir"/.heimdall-*.partial; do
  if [ -e "$stale" ]; then
    echo "removing $(basename "$stale"), left by an earlier run that did not finish"
    rm -f "$stale"
  fi
done

# Room for another dump? Old dumps are pruned only after a new one is verified, so the
# volume must hold one more than it does: compare its free space with the last dump's size
# (plus a tenth for growth) before writing anything. (Target s3: the emptyDir holds no
# earlier dump; its sizeLimit, backup.s3.scratchSize, bounds it instead.)
last="$(ls -1 "$dir" | grep -E '^heimdall-[0-9]{8}T[0-9]{6}Z\.dump$' | sort | tail -n 1 || true)"
if [ -n "$last" ]; then
  last_kb=$(( $(wc -c < "$dir/$last") / 1024 + 1 ))
  need_kb=$(( last_kb + last_kb / 10 ))
  free_kb="$(df -Pk "$dir" 2>/dev/null | awk 'NR == 2 { print $4 }' || true)"
  case "$free_kb" in
    ''|*[!0-9]*)
      echo "warning: cannot read the free space of $dir (df); dumping without checking it" ;;
    *)
      if [ "$free_kb" -lt "$need_kb" ]; then
        fail "the backup volume has $((free_kb / 1024)) MiB free and the last dump ($last) is $((last_kb / 1024 + 1)) MiB: another dump would not fit (older dumps are pruned to backup.retention only after a new one is verified); no dump was written, older dumps are untouched. Grow backup.pvc.size or lower backup.retention"
      fi ;;
  esac
fi

name="heimdall-$(date -u +%Y%m%dT%H%M%SZ).dump"
while [ -e "$dir/$name" ]; do
  sleep 1
  name="heimdall-$(date -u +%Y%m%dT%H%M%SZ).dump"
done
partial="$dir/.$name.partial"

dump_pid=""
cleanup() {
  if [ -n "$dump_pid" ]; then
    kill "$dump_pid" 2>/dev/null || true
    wait "$dump_pid" 2>/dev/null || true
  fi
  rm -f "$partial"
}
on_signal() {
  cleanup
  echo "ERROR: backup interrupted; the unfinished dump was removed, older dumps are untouched" >&2
  trap - EXIT
  exit 143
}
trap cleanup EXIT
trap on_signal TERM INT HUP

echo "dumping database $PGDATABASE at $PGHOST:$PGPORT into $dir/$name"
# In the background, so that a TERM (a deadline, a deleted pod) is handled at once.
# Not the restore history (heimdall_restore, see restore.sh): it belongs to this database.
pg_dump --no-password --format=custom --exclude-schema=heimdall_restore --file="$partial" &
dump_pid=$!
status=0
wait "$dump_pid" || status=$?
dump_pid=""
if [ "$status" -ne 0 ]; then
  fail "pg_dump failed (exit status $status, see its message above); no dump was written, older dumps are untouched"
fi

toc="$(pg_restore --list "$partial")" \
  || fail "verification failed: pg_restore cannot read the new dump's table of contents; it was discarded"
pg_restore --file=/dev/null "$partial" \
  || fail "verification failed: the new dump cannot be read back in full; it was discarded"
tables="$(printf '%s\n' "$toc" | grep -c ' TABLE DATA ' || true)"

mv "$partial" "$dir/$name"
sync "$dir" 2>/dev/null || sync
echo "backup $name written and verified: $(wc -c < "$dir/$name" | tr -d ' ') bytes, $tables tables with data"

if [ "$retention" -gt 0 ]; then
  ls -1 "$dir" | grep -E '^heimdall-[0-9]{8}T[0-9]{6}Z\.dump$' | sort -r | tail -n +"$((retention + 1))" |
    while read -r old; do
      rm -f "$dir/$old"
      echo "pruned $old (keeping the newest $retention)"
    done
fi
