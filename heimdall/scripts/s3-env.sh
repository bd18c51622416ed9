# The AWS CLI's environment for s3-upload.sh and s3-download.sh, run before them in the same
# shell. The access key pair comes from the Secret backup.s3.existingSecret by reference, as
# an optional reference: when the Secret or a key is missing the container still starts, and
# this fails at once, naming them, instead of the pod waiting (CreateContainerConfigError)
# until the Job's deadline. Then path-style addressing, and the endpoint as "$@" for `aws`.
set -eu
if [ -z "${AWS_ACCESS_KEY_ID:-}" ] || [ -z "${AWS_SECRET_ACCESS_KEY:-}" ]; then
  echo "ERROR: no S3 credentials: Secret '${S3_SECRET_NAME:-?}' (backup.s3.existingSecret) with" \
    "keys '${S3_ACCESS_KEY_ID_KEY:-?}' and '${S3_SECRET_ACCESS_KEY_KEY:-?}' is missing or" \
    "incomplete in namespace '${POD_NAMESPACE:-?}'; create it (docs/operations.md, target s3)" \
    "and run again. Nothing was uploaded, downloaded or restored." >&2
  exit 1
fi
if [ "${S3_FORCE_PATH_STYLE:-false}" = "true" ]; then
  mkdir -p "$HOME/.aws"
  printf '[default]\ns3 =\n  addressing_style = path\n' > "$HOME/.aws/config"
fi
set --
if [ -n "${S3_ENDPOINT:-}" ]; then set -- --endpoint-url "$S3_ENDPOINT"; fi
