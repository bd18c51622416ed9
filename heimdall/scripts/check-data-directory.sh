# Before PostgreSQL starts on a volume it did not create (database.embedded.existingClaim):
# check that the volume holds a data directory this image can run, and stop with one line
# otherwise. The official image would run initdb into an empty PGDATA, and Heimdall would
# start on an empty database beside the real data.
#   PGDATA        where the image looks for the data directory
#   DATA_MOUNT    where the claim is mounted
#   PG_MAJOR      the image's PostgreSQL major version
#   EXPECTED_UID  the image's postgres user (999)
#   CLAIM         the claim's name, for the messages
set -u
pgdata="${PGDATA:?PGDATA is not set}"
mount="${DATA_MOUNT:?DATA_MOUNT is not set}"
major="${PG_MAJOR:?PG_MAJOR is not set}"
uid="${EXPECTED_UID:-999}"
claim="${CLAIM:-the existing claim}"
runbook="see docs/operations.md, 'Taking over a Helm chart install'"
fail() {
  echo "ERROR: existingClaim ${claim}: $*; ${runbook}" >&2
  exit 1
}
if [ ! -d "$pgdata" ]; then
  found=""
  for candidate in "$mount"/PG_VERSION "$mount"/*/PG_VERSION "$mount"/*/*/PG_VERSION; do
    if [ -f "$candidate" ]; then
      found="${candidate%/PG_VERSION}"
      break
    fi
  done
  if [ -n "$found" ]; then
    fail "no data directory at ${pgdata}, but one at ${found}: move it to ${pgdata} first"
  fi
  fail "no PostgreSQL data directory at ${pgdata} (the claim holds no data this image can use)"
fi
owner="$(stat -c %u "$pgdata")"
if [ "$owner" != "$uid" ]; then
  fail "${pgdata} is owned by uid ${owner}, not ${uid} (the postgres image's user): chown -R ${uid}:${uid} it first"
fi
if [ ! -f "$pgdata/PG_VERSION" ]; then
  fail "${pgdata} holds no PG_VERSION: it is not a PostgreSQL data directory"
fi
found_major="$(cat "$pgdata/PG_VERSION")"
if [ "$found_major" != "$major" ]; then
  fail "${pgdata} holds PostgreSQL ${found_major} data but the image is PostgreSQL ${major}: use a ${found_major} image, or dump and restore"
fi
if [ ! -f "$pgdata/postgresql.conf" ]; then
  fail "${pgdata} has no postgresql.conf (a Bitnami layout keeps it elsewhere): write one first"
fi
echo "existingClaim ${claim}: PostgreSQL ${found_major} data directory at ${pgdata}, owned by uid ${uid}"
