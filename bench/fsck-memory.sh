#!/bin/bash
# Peak RSS of `wharf fsck` (with and without --no-content) on a SQLite registry holding one
# 1 GiB blob pushed in one PUT: the blob is hashed as a stream, so memory stays flat.
# Run from the repository root after `npm run build`: bash bench/fsck-memory.sh
set -u
D=$(mktemp -d /tmp/wharf-fsckmem-XXXX)
PORT=$(( 20000 + RANDOM % 20000 ))
cleanup() { [ -n "${PID:-}" ] && kill "$PID" 2>/dev/null; wait "$PID" 2>/dev/null; rm -rf "$D"; }
trap cleanup EXIT
export WHARF_STORAGE_DATA_DIR=$D/data WHARF_DATABASE_ENGINE=sqlite WHARF_LOG_LEVEL=warn WHARF_AUTH_ENABLED=false WHARF_HTTP_HOST=127.0.0.1 WHARF_HTTP_PORT=$PORT WHARF_SCANNER_ENABLED=false WHARF_ADMIN_PASSWORD=test-admin-password-0123
node bin/wharf.js serve > $D/serve.log 2>&1 & PID=$!
for i in $(seq 1 200); do curl -s -o /dev/null "http://127.0.0.1:$PORT/v2/" && break; sleep 0.2; done
head -c $((1024*1024*1024)) /dev/urandom > $D/blob
DIG=sha256:$(sha256sum $D/blob | cut -d' ' -f1)
LOC=$(curl -s -D - -o /dev/null -X POST "http://127.0.0.1:$PORT/v2/mem/big/blobs/uploads/" | tr -d '\r' | awk -F': ' 'tolower($1)=="location"{print $2}')
case "$LOC" in *\?*) SEP='&';; *) SEP='?';; esac
curl -s -o /dev/null -w "PUT %{http_code}\n" -X PUT -H 'Content-Type: application/octet-stream' -T $D/blob "http://127.0.0.1:$PORT$LOC${SEP}digest=$DIG"
rm $D/blob
kill $PID; wait $PID; PID=
for args in "" "--no-content"; do
  /usr/bin/time -f "wharf fsck $args: %e s, max RSS %M KiB" node bin/wharf.js fsck $args > $D/out 2>&1; echo "exit $?"; grep -E "^Checked|^[0-9]+ error|max RSS" $D/out
done
