#!/bin/sh
# The nightly backup (run by cron): the whole tree, logs included, as a dated tarball.
set -e
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p /var/backups/sample-app
tar -czf "/var/backups/sample-app/nightly-$(date +%Y-%m-%d).tar.gz" -C "$(dirname "$here")" "$(basename "$here")"
