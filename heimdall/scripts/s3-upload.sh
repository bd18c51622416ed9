# Upload the verified dump the dump container left in BACKUP_DIR to s3://S3_BUCKET/S3_PREFIX,
# check the stored size, and only then prune the dumps under the prefix beyond
# BACKUP_RETENTION. s3-env.sh runs first (credentials, addressing, the endpoint as "$@").
set -eu
dir="${BACKUP_DIR:?BACKUP_DIR is not set}"
bucket="${S3_BUCKET:?S3_BUCKET is not set}"
prefix="${S3_PREFIX:-}"
retention="${BACKUP_RETENTION:?BACKUP_RETENTION is not set}"
fail() { echo "ERROR: $*" >&2; exit 1; }
pattern='^heimdall-[0-9]{8}T[0-9]{6}Z\.dump$'

name="$(ls -1 "$dir" | grep -E "$pattern" | tail -n 1 || true)"
[ -n "$name" ] || fail "no verified dump in $dir to upload"
key="$prefix$name"
size="$(wc -c < "$dir/$name" | tr -d ' ')"
echo "uploading $name ($size bytes) to s3://$bucket/$key"
aws "$@" s3 cp --only-show-errors "$dir/$name" "s3://$bucket/$key" \
  || fail "upload to s3://$bucket/$key failed (see the error above); no dump was pruned"
stored="$(aws "$@" s3api head-object --bucket "$bucket" --key "$key" --query ContentLength --output text)" \
  || fail "cannot read back s3://$bucket/$key after the upload; no dump was pruned"
[ "$stored" = "$size" ] \
  || fail "s3://$bucket/$key holds $stored bytes, the dump has $size; no dump was pruned"
echo "uploaded and checked s3://$bucket/$key"

keys="$(aws "$@" s3api list-objects-v2 --bucket "$bucket" --prefix "$prefix" \
  --query 'Contents[].Key' --output text)" || fail "cannot list s3://$bucket/$prefix to prune old dumps"
printf '%s\n' "$keys" | tr '\t' '\n' | while read -r listed; do
  printf '%s\n' "${listed#"$prefix"}"
done | grep -E "$pattern" | sort -r | tail -n +"$((retention + 1))" | while read -r old; do
  aws "$@" s3api delete-object --bucket "$bucket" --key "$prefix$old" > /dev/null < /dev/null \
    || fail "cannot delete s3://$bucket/$prefix$old"
  echo "pruned s3://$bucket/$prefix$old (keeping the newest $retention)"
done
