# Adopt a Bitnami PostgreSQL data directory (the volume of a Heimdall chart that used the
# Bitnami subchart) for the official postgres image, in place, before the stack's
# PostgreSQL first starts on it (docs/operations.md, "Taking over a Helm chart install").
# Run it as root in a one-off pod that mounts the claim at VOLUME, with PostgreSQL stopped.
#   VOLUME     where the claim is mounted (Bitnami keeps the data in <VOLUME>/data)
#   OWNER_UID  the official image's postgres user (999)
# It moves <VOLUME>/data to <VOLUME>/pgdata (the official image's PGDATA below its mount),
# writes the postgresql.conf and pg_hba.conf Bitnami keeps outside the data directory,
# and gives the directory to OWNER_UID. It changes nothing else: the data stays as it is.
set -eu
volume="${VOLUME:?VOLUME is not set}"
uid="${OWNER_UID:-999}"
source="$volume/data"
target="$volume/pgdata"
if [ ! -f "$source/PG_VERSION" ]; then
  echo "ERROR: no Bitnami data directory at $source (no PG_VERSION); nothing changed" >&2
  exit 1
fi
if [ -e "$target" ]; then
  echo "ERROR: $target exists already; nothing changed" >&2
  exit 1
fi
mv "$source" "$target"
if [ ! -f "$target/postgresql.conf" ]; then
  # The official image writes this only into directories its own initdb makes.
  printf "listen_addresses = '*'\n" > "$target/postgresql.conf"
fi
if [ ! -f "$target/pg_hba.conf" ]; then
  # The official image's rules: the unix socket for the image's own tools, passwords
  # (SCRAM) over TCP.
  printf 'local all all trust\nhost all all all scram-sha-256\n' > "$target/pg_hba.conf"
fi
chown -R "$uid:$uid" "$target"
chmod 0700 "$target"
echo "adopted: PostgreSQL $(cat "$target/PG_VERSION") data directory at $target, owned by uid $uid"
