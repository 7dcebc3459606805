#!/bin/sh
# A post-renderer that fails, with a message on standard error.
cat >/dev/null
echo "post-renderer refused the manifests" >&2
exit 3
