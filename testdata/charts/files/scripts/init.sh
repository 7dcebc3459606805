#!/bin/sh
set -eu
echo "initialising"
