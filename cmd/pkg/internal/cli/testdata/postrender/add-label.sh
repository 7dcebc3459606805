#!/bin/sh
# A post-renderer for the tests: adds a label to every object that has
# labels, as a kustomize-style post-renderer would.
exec sed 's/^  labels:$/  labels:\n    post-rendered: "true"/'
