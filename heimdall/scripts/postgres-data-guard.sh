# Decide, before PostgreSQL starts, whether the embedded database's server may start on its
# data volume. Runs in an init container of the database pod: the same postgres image
# (PG_MAJOR is its major version), the same uid, the volume mounted where the server sees
# it (DATA_VOLUME), PGDATA the server's data directory (DATA_VOLUME/<dataDirectory>).
#
# The image's entrypoint runs initdb whenever PGDATA holds no PG_VERSION, even when a
# cluster sits elsewhere on the volume, and then Heimdall reconnects to an empty database.
# So this refuses, with one line and the runbook, to let the server start when:
# - PGDATA holds a cluster of another major version (the server would fail with "database
#   files are incompatible with server" anyway; this says what to do);
# - PGDATA holds no cluster but the volume does: initdb would start an empty database
#   beside it. Except:
#   - the cluster is where heimdall-pulumi kept PostgreSQL 18+ data before
#     (<volume>/<major>/docker, the image's own layout) and has the image's major: PGDATA
#     becomes a link to it, the data stays where it is;
#   - dataDirectory was changed to start a new cluster beside older ones (a major upgrade
#     by dump and restore): the older clusters are left alone and named.
# Exit 0: the server may start (on its cluster, or initdb on a fresh volume).
set -eu
volume="${DATA_VOLUME:?DATA_VOLUME is not set}"
data="${PGDATA:?PGDATA is not set}"
default_dir="${DEFAULT_DATA_DIRECTORY:-pgdata}"
image="${POSTGRES_IMAGE:-this image}"
runbook="${RUNBOOK:-docs/operations.md}"
major="${PG_MAJOR:-}"
if [ -z "$major" ]; then
  major="$(postgres -V 2>/dev/null | sed -n 's/^[^0-9]*\([0-9][0-9]*\).*/\1/p')"
fi
refuse() {
  echo "ERROR: $*; nothing was changed and the database stays down (see $runbook)" >&2
  exit 1
}
[ -n "$major" ] || refuse "cannot tell which PostgreSQL major version $image runs (no PG_MAJOR, no postgres -V)"
version_of() { tr -d ' \r\n' < "$1/PG_VERSION"; }
where() {  # a cluster's directory, relative to the volume
  if [ "$1" = "$volume" ]; then echo "the volume's root"; else echo "${1#"$volume"/}/"; fi
}
older() {  # is version $1 older than the image's major?
  case "$1" in
    ''|*[!0-9]*) return 0 ;;  # 9.6 and before
  esac
  [ "$1" -lt "$major" ]
}

# 1. The server's data directory holds a cluster: it must be of the image's major version.
if [ -s "$data/PG_VERSION" ]; then
  found="$(version_of "$data")"
  if [ "$found" = "$major" ]; then
    echo "PostgreSQL $found cluster in $data: $image starts it"
    exit 0
  fi
  refuse "the data volume holds a PostgreSQL $found cluster in $data and $image runs PostgreSQL $major, which cannot open it: set database.embedded.image.tag back to $found, or upgrade the data first (dump and restore, or pg_upgrade)"
fi
if [ -L "$data" ] && [ ! -e "$data" ]; then
  refuse "$data is a link to $(readlink "$data"), which does not exist"
fi

# 2. No cluster there: which clusters does the volume hold elsewhere? (one per directory)
clusters=""  # lines: directory version
seen=" "
for file in "$volume"/PG_VERSION "$volume"/*/PG_VERSION "$volume"/*/*/PG_VERSION; do
  [ -s "$file" ] || continue
  dir="${file%/PG_VERSION}"
  real="$(cd -P "$dir" 2>/dev/null && pwd || echo "$dir")"
  case "$seen" in *" $real "*) continue ;; esac
  seen="$seen$real "
  clusters="$clusters$dir $(version_of "$dir")
"
done
if [ -z "$clusters" ]; then
  echo "no cluster on the data volume yet: $image creates a PostgreSQL $major cluster in $data"
  exit 0
fi

if [ "${data##*/}" = "$default_dir" ]; then
  # The stack did not ask for a new cluster. Data of the earlier 18+ layout, of this major:
  # link to it, move nothing.
  legacy="$volume/$major/docker"
  if [ -s "$legacy/PG_VERSION" ] && [ "$(version_of "$legacy")" = "$major" ]; then
    if [ -d "$data" ] && [ ! -L "$data" ]; then
      rmdir "$data" 2>/dev/null \
        || refuse "$data holds files but no cluster, and the PostgreSQL $major cluster is in $(where "$legacy"): move $data aside"
    fi
    ln -s "$major/docker" "$data"
    echo "PostgreSQL $major cluster in $(where "$legacy") (the layout for PostgreSQL 18+ before):" \
      "$data now links to it; the data stays where it is, and $image starts it"
    exit 0
  fi
  while read -r dir version; do
    [ -n "$dir" ] || continue
    if [ "$version" != "$major" ]; then
      refuse "the data volume holds a PostgreSQL $version cluster in $(where "$dir") and $image runs PostgreSQL $major, which cannot open it (and would create an empty database in $data instead): set database.embedded.image.tag back to $version, or upgrade the data first (dump and restore, or pg_upgrade)"
    fi
    refuse "the data volume holds a PostgreSQL $version cluster in $(where "$dir"), not in $data where the server looks: starting would create an empty database beside it"
  done <<EOF
$clusters
EOF
fi

# dataDirectory names a new cluster: allowed beside older clusters only.
while read -r dir version; do
  [ -n "$dir" ] || continue
  if ! older "$version"; then
    refuse "the data volume holds a PostgreSQL $version cluster in $(where "$dir"), and database.embedded.dataDirectory names a new, empty PostgreSQL $major cluster in $data beside it: set dataDirectory back to run that cluster"
  fi
done <<EOF
$clusters
EOF
while read -r dir version; do
  [ -n "$dir" ] || continue
  echo "leaving the PostgreSQL $version cluster in $(where "$dir") as it is"
done <<EOF
$clusters
EOF
echo "$image creates a new PostgreSQL $major cluster in $data (database.embedded.dataDirectory)"
