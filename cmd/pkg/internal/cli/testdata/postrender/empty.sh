#!/bin/sh
# A post-renderer that prints nothing.
cat >/dev/null
