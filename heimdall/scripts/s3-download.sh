# Download the dump RESTORE_FROM from s3://S3_BUCKET/S3_PREFIX into BACKUP_DIR for the restore
# container. s3-env.sh runs first (credentials, addressing, the endpoint as "$@").
set -eu
dir="${BACKUP_DIR:?BACKUP_DIR is not set}"
bucket="${S3_BUCKET:?S3_BUCKET is not set}"
prefix="${S3_PREFIX:-}"
name="${RESTORE_FROM:?RESTORE_FROM is not set}"

echo "downloading s3://$bucket/$prefix$name"
if ! aws "$@" s3 cp --only-show-errors "s3://$bucket/$prefix$name" "$dir/$name"; then
  echo "ERROR: cannot download s3://$bucket/$prefix$name (see the error above); the database was not changed." >&2
  listed="$(aws "$@" s3api list-objects-v2 --bucket "$bucket" --prefix "$prefix" \
    --query 'Contents[].Key' --output text 2>/dev/null || true)"
  if [ -n "$listed" ] && [ "$listed" != "None" ]; then
    echo "objects under s3://$bucket/$prefix:" >&2
    printf '%s\n' "$listed" | tr '\t' '\n' | sed 's/^/  /' >&2
  fi
  exit 1
fi
echo "downloaded $name ($(wc -c < "$dir/$name" | tr -d ' ') bytes)"
