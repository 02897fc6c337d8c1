#!/bin/sh
# Hourly: keep the last 1000 lines of the server log.
here=$(cd "$(dirname "$0")" && pwd)
log=$here/logs/server.log
[ -f "$log" ] || exit 0
tail -n 1000 "$log" >"$log.new" && mv "$log.new" "$log"
