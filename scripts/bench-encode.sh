#!/usr/bin/env bash
# make bench-encode: one raw ffmpeg ladder encode next to vodfleet on the
# same generated source, measured in one run:
#   - raw: one ffmpeg process (split + scale, the x264/AAC/HLS fMP4 options
#     of internal/ffmpeg VideoArgs/AudioArgs, the default ladder fitted as
#     coordinator/ladder.go does), wall time;
#   - vodfleet: `vodfleet dev` with 2 agents, `submit --wait --json
#     --no-thumbnails --no-dash` (the outputs the raw command makes: HLS
#     only), wall time from submit (upload included) to SUCCEEDED; three
#     jobs: vodfleet's defaults (60 s chunks: a 60 s source is one chunk;
#     the raw/vodfleet ratio is this one's), chunked (--chunk-seconds
#     BENCH_CHUNK_SECONDS) and unchunked (--chunk-seconds -1);
#   - per rendition: bitrate from the segments, PSNR and SSIM against the
#     source scaled to the rendition size (renditions fetched via the edge);
#   - scaling: the chunked job on dev clusters of 1, 2, 4 agents x 1 slot.
#   - PSNR chunked - unchunked per rendition: what chunking costs.
# Usage: scripts/bench-encode.sh [BIN] [--agents 1,2,4]
# Env: BENCH_SECONDS (60), BENCH_SIZE (1920x1080), BENCH_FPS (30, integer),
# BENCH_AGENTS (1,2,4; "" skips scaling), BENCH_CHUNK_SECONDS (12),
# BENCH_SLOTS (4: slots per agent of the 2-agent comparison, one per rendition of the ladder so an agent takes a whole chunk and decodes it once), BENCH_NOISE
# (4: temporal luma noise strength of the source, 0 for plain testsrc2),
# BENCH_KEEP=1 keeps the temp dir. Installs ffmpeg with apt-get when
# missing (as root). Everything listens on loopback only.
set -euo pipefail
bin=bin/vodfleet
agents_list=${BENCH_AGENTS-1,2,4}
while [ $# -gt 0 ]; do
	case $1 in
	--agents) agents_list=$2; shift 2 ;;
	--agents=*) agents_list=${1#--agents=}; shift ;;
	-h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) bin=$1; shift ;;
	esac
done
secs=${BENCH_SECONDS:-60}
size=${BENCH_SIZE:-1920x1080}
fps=${BENCH_FPS:-30}
chunk=${BENCH_CHUNK_SECONDS:-12}
slots=${BENCH_SLOTS:-4}
noise=${BENCH_NOISE:-4}
ladder=default
seg=4 # vodfleet's default segment duration

if ! command -v ffmpeg >/dev/null || ! command -v ffprobe >/dev/null; then
	if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
		echo "bench-encode needs ffmpeg: install it (apt-get install ffmpeg)" >&2; exit 1
	fi
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ffmpeg >/dev/null
fi
[ -x "$bin" ] || { echo "bench-encode: $bin not found (make build)" >&2; exit 1; }
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")

tmp=$(mktemp -d /tmp/bench-encode.XXXXXX)
dev_pid="" # the running vodfleet dev
bg_pid=""  # the running ffmpeg or submit
stop_dev() {
	[ -n "$dev_pid" ] || return 0
	local kids i
	kids=$(pgrep -P "$dev_pid" || true) # ffmpeg processes of its agents
	kill -TERM "$dev_pid" 2>/dev/null || true
	for i in $(seq 1 150); do kill -0 "$dev_pid" 2>/dev/null || break; sleep 0.1; done
	if kill -0 "$dev_pid" 2>/dev/null; then
		echo "vodfleet dev did not stop in 15 s: killing it" >&2
		kill -KILL "$dev_pid" 2>/dev/null || true
		for i in $kids; do kill -KILL -- "-$i" 2>/dev/null || kill -KILL "$i" 2>/dev/null || true; done
	fi
	wait "$dev_pid" 2>/dev/null || true
	dev_pid=""
}
cleanup() {
	if [ -n "$bg_pid" ]; then kill "$bg_pid" 2>/dev/null || true; wait "$bg_pid" 2>/dev/null || true; fi
	stop_dev
	if [ "${BENCH_KEEP:-}" = 1 ]; then echo "kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now() { date +%s.%N; }
sub() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a - b }'; }
# CPU seconds of a process and its reaped children (vodfleet dev reaps the
# ffmpeg processes of its agents).
tck=$(getconf CLK_TCK)
proc_cpu() { sed 's/^.*) //' "/proc/$1/stat" | awk -v t="$tck" '{ printf "%.2f", ($12 + $13 + $14 + $15) / t }'; }
# child_cpu VAR: CPU seconds of this shell's reaped children (ffmpeg,
# submit) into VAR; `times` must run in this shell, not in a $(...).
child_cpu() {
	times >"$tmp/times"
	printf -v "$1" '%s' "$(tail -1 "$tmp/times" | awk '{ u = $1; s = $2; gsub(/s/, "", u); gsub(/s/, "", s); split(u, a, "m"); split(s, b, "m"); printf "%.2f", a[1] * 60 + a[2] + b[1] * 60 + b[2] }')"
}
# run CMD... in the background and wait for it, so the traps stay responsive.
run() {
	"$@" &
	bg_pid=$!
	local rc=0
	wait "$bg_pid" || rc=$?
	bg_pid=""
	return $rc
}

tool=$tmp/encodetool
go build -o "$tool" ./internal/bench/encode
runs=$tmp/runs.tsv
: >"$runs"
rec() { (IFS=$'\t'; echo "$*") >>"$runs"; }

has_chunks=false
help=$("$bin" submit -h 2>&1 || true) # -h exits 2; grep the text, not a pipe under pipefail
if grep -q -- -chunk-seconds <<<"$help"; then has_chunks=true; fi

# The source: testsrc2 (moving pattern and counter) with light temporal
# luma noise, so the encoders have texture to spend bits on, plus a
# beeping sine; H.264 at about 12 bits per pixel per second (25 Mb/s at
# 1080p30), 2 s GOPs, like a mezzanine file.
w=${size%x*}; h=${size#*x}
vbit=$((w * h * 12))
vf="testsrc2=size=$size:rate=$fps"
desc="testsrc2"
if [ "$noise" != 0 ]; then vf+=",noise=c0s=$noise:c0f=t"; desc+=" + temporal noise $noise"; fi
src=$tmp/source.mp4
echo "bench-encode: generating a $secs s ${size} ${fps} fps source ($desc + sine, H.264 $((vbit / 1000000)) Mb/s)"
run ffmpeg -nostdin -hide_banner -v error -y -f lavfi -i "$vf" -f lavfi -i "sine=frequency=440:beep_factor=4:sample_rate=48000" \
	-t "$secs" -map 0:v -map 1:a -c:v libx264 -preset veryfast -b:v $vbit -maxrate $vbit -bufsize $((2 * vbit)) -g $((2 * fps)) \
	-pix_fmt yuv420p -c:a aac -b:a 192k -ac 2 -movflags +faststart "$src"
rec meta source "$secs s ${size} ${fps} fps $desc + sine, H.264 $((vbit / 1000000)) Mb/s source ($(($(stat -c %s "$src") / 1000000)) MB)"
rec meta machine "$(nproc) cores, $(ffmpeg -version | head -1 | awk '{print "ffmpeg " $3}')"
# A 1 s clip each dev cluster encodes first, so agents are connected and
# warm before the timed job.
warm=$tmp/warm.mp4
ffmpeg -nostdin -v error -y -f lavfi -i testsrc2=size=320x180:rate=$fps -f lavfi -i sine=sample_rate=48000 -t 1 \
	-c:v libx264 -preset ultrafast -pix_fmt yuv420p -c:a aac -ac 2 "$warm"

# (a) raw ffmpeg: the same ladder in one process, options as
# internal/ffmpeg VideoArgs/AudioArgs: scale + setsar, yuv420p, CFR at the
# source rate with -g/-keyint_min = rate * segment, x264 veryfast with the
# rung's profile/level, -b:v, -maxrate 1.5x, -bufsize 2x maxrate,
# sc_threshold 0, keyframes forced at every segment boundary, closed GOP;
# AAC 128k stereo 48 kHz; HLS fMP4 segments of $seg s, one playlist per
# track.
mapfile -t rungs < <("$tool" ladder -size "$size" -ladder "$ladder")
gop=$((fps * seg))
hls() {
	mkdir -p "$1"
	printf '%s\n' -map_metadata -1 -map_chapters -1 -avoid_negative_ts disabled -f hls -hls_segment_type fmp4 \
		-hls_segment_options movflags=+negative_cts_offsets -hls_fmp4_init_filename init.mp4 \
		-hls_segment_filename "$1/seg_%05d.m4s" -start_number 1 -hls_time $seg -hls_list_size 0 \
		-hls_playlist_type vod -hls_flags independent_segments "$1/index.m3u8"
}
graph="[0:v:0]split=${#rungs[@]}"
for i in "${!rungs[@]}"; do graph+="[s$i]"; done
outs=()
for i in "${!rungs[@]}"; do
	read -r name rw rh rb rm prof lvl <<<"${rungs[$i]}"
	graph+=";[s$i]scale=$rw:$rh,setsar=1[v$i]"
	outs+=(-map "[v$i]" -an -sn -dn -pix_fmt yuv420p -r "$fps" -fps_mode cfr -g $gop -keyint_min $gop
		-c:v libx264 -preset veryfast -profile:v "$prof" -level:v "$lvl" -b:v "$rb" -maxrate "$rm" -bufsize $((2 * rm))
		-sc_threshold 0 -force_key_frames "expr:gte(t,n_forced*$seg)" -x264-params open-gop=0 -flags +cgop)
	mapfile -t -O ${#outs[@]} outs < <(hls "$tmp/raw/v$name")
done
outs+=(-map 0:a:0 -vn -sn -dn -af aresample=async=1:first_pts=0 -c:a aac -b:a 128000 -ac 2 -ar 48000)
mapfile -t -O ${#outs[@]} outs < <(hls "$tmp/raw/audio")
args=(-nostdin -hide_banner -nostats -v error -y -i "$src" -filter_complex "$graph" "${outs[@]}")
echo "bench-encode: raw ffmpeg, ${#rungs[@]} renditions + audio in one process"
child_cpu c0; t0=$(now)
run ffmpeg "${args[@]}"
t1=$(now); child_cpu c1
rec time raw "$(sub "$t1" "$t0")" "$(sub "$c1" "$c0")" "$tmp/raw" "ffmpeg, 1 process: split=${#rungs[@]} + scale, ${#rungs[@]} x264 + 1 AAC HLS fMP4 outputs"

# (b) vodfleet dev on free loopback ports.
start_dev() { # AGENTS SLOTS
	local dir=$tmp/dev-$1x$2 p i
	mapfile -t p < <("$tool" ports 5)
	coord=127.0.0.1:${p[0]} store=127.0.0.1:${p[1]}
	mkdir -p "$dir"
	"$bin" dev --data "$dir" --agents "$1" --slots "$2" --listen "$coord" --storage-grpc "$store" \
		--storage-http 127.0.0.1:${p[2]} --http 127.0.0.1:${p[3]} --etcd-listen 127.0.0.1:${p[4]} --metrics-listen "" --dashboard "" \
		--log-level warn >"$dir.log" 2>&1 &
	dev_pid=$!
	# The dev cluster runs on mTLS: connect with its CA and admin certificate.
	export VODFLEET_TLS_CA=$dir/pki/ca.pem VODFLEET_TLS_CERT=$dir/pki/admin.pem VODFLEET_TLS_KEY=$dir/pki/admin-key.pem
	for i in $(seq 1 100); do
		"$bin" jobs --coordinator "$coord" --limit 1 >/dev/null 2>&1 && break
		kill -0 "$dev_pid" 2>/dev/null || { echo "vodfleet dev exited:" >&2; tail -20 "$dir.log" >&2; exit 1; }
		sleep 0.2
	done
	"$bin" submit --coordinator "$coord" --storage "$store" --wait --json "$warm" >"$dir.warm.json" 2>&1 ||
		{ echo "warm-up job failed:" >&2; cat "$dir.warm.json" >&2; tail -20 "$dir.log" >&2; exit 1; }
}
# submit_timed ID OUTDIR|- LABEL [SUBMIT FLAGS...]: one timed job on the
# running dev cluster; records a "time" line, or a "scale" line when ID is
# scale-N; fetches the renditions through the edge into OUTDIR.
submit_timed() {
	local id=$1 out=$2 label=$3 json=$tmp/job-$1.json t0 t1 c0 c1 d0 d1 vt
	shift 3
	child_cpu c0; d0=$(proc_cpu "$dev_pid"); t0=$(now)
	run "$bin" submit --coordinator "$coord" --storage "$store" --wait --json --no-thumbnails --no-dash "$@" "$src" >"$json" 2>"$json.err" ||
		{ echo "bench-encode: $id job failed:" >&2; cat "$json" "$json.err" >&2; exit 1; }
	t1=$(now); d1=$(proc_cpu "$dev_pid"); child_cpu c1
	vt=$("$tool" check -job "$json")
	label+=", $vt video tasks"
	local cpu
	cpu=$(awk -v a="$(sub "$c1" "$c0")" -v b="$(sub "$d1" "$d0")" 'BEGIN { printf "%.2f", a + b }')
	echo "bench-encode: $id: $(sub "$t1" "$t0") s ($label)"
	if [[ $id == scale-* ]]; then
		rec scale "${id#scale-}" "$(sub "$t1" "$t0")" "$cpu" "$label"
	else
		rec time "$id" "$(sub "$t1" "$t0")" "$cpu" "$out" "$label"
		"$tool" fetch -job "$json" -out "$out"
	fi
}

chunked=() chunk_desc="default chunking"
if $has_chunks; then
	chunked=(--chunk-seconds "$chunk") chunk_desc="--chunk-seconds $chunk"
	eff=$(awk -v c="$chunk" -v s=$seg 'BEGIN { e = int(c / s) * s; if (e < s) e = s; print e }')
	if [ "$eff" != "$chunk" ]; then
		rec note "vodfleet rounds chunks down to a multiple of the $seg s segment: --chunk-seconds $chunk encodes $eff s chunks"
	fi
else
	rec note "this vodfleet has no 'submit --chunk-seconds': vodfleet ran with its defaults, the chunked and unchunked runs and the chunked-vs-unchunked PSNR are skipped, and scaling runs one task per rendition"
fi
echo "bench-encode: vodfleet dev, 2 agents x $slots slots"
start_dev 2 "$slots"
submit_timed vodfleet "$tmp/vodfleet" "dev, 2 agents x $slots slots, HLS only, default chunking"
if $has_chunks; then
	submit_timed chunked "$tmp/chunked" "dev, 2 agents x $slots slots, HLS only, $chunk_desc" "${chunked[@]}"
	submit_timed unchunked "$tmp/unchunked" "dev, 2 agents x $slots slots, HLS only, --chunk-seconds -1" --chunk-seconds=-1
fi
stop_dev

# Scaling: each agent models one encode server running one task at a time
# (1 slot); x264 threads are automatic, and all agents share this host.
if [ -n "$agents_list" ]; then
	rec meta scale "the chunked job ($chunk_desc, HLS only, upload included) on vodfleet dev with N agents x 1 slot; all agents share this host's $(nproc) cores (x264 threads auto), so the speedup is bounded by the cores, not by the agent count"
	for n in ${agents_list//,/ }; do
		echo "bench-encode: scaling, $n agents x 1 slot"
		start_dev "$n" 1
		submit_timed "scale-$n" - "$n x 1 slot" "${chunked[@]}"
		stop_dev
	done
fi

echo "bench-encode: measuring bitrate, PSNR and SSIM"
"$tool" report -runs "$runs" -src "$src" -fps "$fps" -size "$size" -ladder "$ladder" -segment $seg
