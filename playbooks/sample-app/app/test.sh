#!/bin/sh
# The release's tests, run against an instance on port $1: it answers, its health page says
# "ok", and it serves the version this tree holds.
port=${1:?usage: test.sh PORT}
here=$(cd "$(dirname "$0")" && pwd)
i=0
while ! body=$(busybox wget -q -O - "http://127.0.0.1:$port/health" 2>/dev/null); do
    i=$((i + 1))
    if [ "$i" -ge 25 ]; then echo "no answer on port $port"; exit 1; fi
    sleep 0.2
done
if [ "$body" != ok ]; then echo "health check on port $port said: $body"; exit 1; fi
version=$(busybox wget -q -O - "http://127.0.0.1:$port/version.txt")
if [ "$version" != "$(cat "$here/www/version.txt")" ]; then
    echo "port $port serves version $version, the tree holds $(cat "$here/www/version.txt")"
    exit 1
fi
echo "release $version passed its tests on port $port"
