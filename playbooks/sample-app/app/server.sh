#!/bin/sh
# sample-app: serves www/ over HTTP (busybox httpd) on the port given as $1, else $APP_PORT
# (default 8080), and logs each start in logs/server.log.
here=$(cd "$(dirname "$0")" && pwd)
port=${1:-${APP_PORT:-8080}}
mkdir -p "$here/logs"
echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) start version $(cat "$here/www/version.txt") port $port" >>"$here/logs/server.log"
exec busybox httpd -f -p "$port" -h "$here/www"
