#!/usr/bin/env bash
# Starts `vodfleet dev` in the background (unless already running), encodes
# a generated demo clip through it and prints the playback URLs.
#   scripts/run-demo.sh BIN DATA     start + demo
#   scripts/run-demo.sh --stop DATA  stop the background cluster
# DEV_ARGS adds flags to `vodfleet dev` (e.g. other ports, with
# VODFLEET_COORDINATOR and VODFLEET_STORAGE pointing the client at them).
set -euo pipefail
if [ "${1:-}" = "--stop" ]; then
	data=${2:-.vodfleet}
	if [ -f "$data/dev.pid" ] && kill "$(cat "$data/dev.pid")" 2>/dev/null; then
		echo "stopping vodfleet dev (pid $(cat "$data/dev.pid"))"
		rm -f "$data/dev.pid"
	else
		echo "vodfleet dev is not running"
	fi
	exit 0
fi
bin=$1
data=$2
mkdir -p "$data"
if [ -f "$data/dev.pid" ] && kill -0 "$(cat "$data/dev.pid")" 2>/dev/null; then
	echo "vodfleet dev already running (pid $(cat "$data/dev.pid")), logs in $data/dev.log"
else
	nohup "$bin" dev --data "$data" ${DEV_ARGS:-} >"$data/dev.log" 2>&1 &
	echo $! >"$data/dev.pid"
	echo "started vodfleet dev (pid $!), logs in $data/dev.log"
fi
# `vodfleet dev` runs on mTLS with a throwaway CA in $data/pki (made at its
# first start): the client commands present its admin certificate.
export VODFLEET_TLS_CA=$data/pki/ca.pem VODFLEET_TLS_CERT=$data/pki/admin.pem VODFLEET_TLS_KEY=$data/pki/admin-key.pem
unset VODFLEET_INSECURE
for i in $(seq 1 60); do
	"$bin" jobs --limit 1 >/dev/null 2>&1 && break
	if ! kill -0 "$(cat "$data/dev.pid")" 2>/dev/null; then
		echo "vodfleet dev exited; last log lines:" >&2
		tail -20 "$data/dev.log" >&2
		exit 1
	fi
	sleep 0.5
done
clip="$data/demo.mp4"
if [ ! -s "$clip" ]; then
	echo "generating a 10 s 1280x720 demo clip"
	ffmpeg -v error -y -f lavfi -i "testsrc2=size=1280x720:rate=30" -f lavfi -i "sine=frequency=440:sample_rate=48000" \
		-t 10 -c:v libx264 -preset veryfast -pix_fmt yuv420p -c:a aac "$clip"
fi
"$bin" submit --wait "$clip"
dash=$(grep -o 'web dashboard: url=[^ ]*' "$data/dev.log" | tail -1 | sed 's/.*url=//')
job=$("$bin" jobs --json --limit 1 | sed -n 's/.*"job_id": "\([^"]*\)".*/\1/p' | head -1)
if [ -n "$dash" ]; then
	echo
	echo "Web dashboard: $dash"
	echo "  sign in with any user name and the admin token as the password: cat $data/pki/admin.token"
	[ -n "$job" ] && echo "This asset in the browser player: $dash#/assets/$job"
fi
cat <<MSG

Play it with any HLS or DASH player, or with ffplay (the client commands
need the dev CA and a credential; the dev log prints them too):
  export VODFLEET_TLS_CA=$data/pki/ca.pem VODFLEET_TLS_CERT=$data/pki/admin.pem VODFLEET_TLS_KEY=$data/pki/admin-key.pem
  ffplay \$(bin/vodfleet jobs --json --limit 1 | sed -n 's/.*"hls_url": "\(.*\)".*/\1/p')
The cluster keeps running: 'bin/vodfleet jobs', 'bin/vodfleet submit FILE', 'make stop'.
MSG
