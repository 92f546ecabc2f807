#!/usr/bin/env bash
# make bench-edge: cache-hit throughput of the vodfleet edge next to nginx
# (serving the same files from disk with sendfile) and Varnish (memory
# storage, in front of vodfleet storage), measured with wrk in one run, on a
# 1 KB playlist and a 1 MB segment; then a 1000-request cold herd on the
# edge, counting origin fetches. Servers run on CPU 0, wrk on CPU 1.
# Installs nginx, varnish and wrk with apt-get when missing (as root).
# EDGE_ARGS adds flags to the edge (e.g. a disk tier), BENCH_DURATION and
# BENCH_CONNECTIONS tune wrk, BENCH_ROUNDS sets the interleaved rounds
# (default 3; each figure is the median round).
set -euo pipefail
bin=${1:-bin/vodfleet}
dur=${BENCH_DURATION:-5s}
conns=${BENCH_CONNECTIONS:-32}

need=()
command -v nginx >/dev/null || need+=(nginx-light)
command -v varnishd >/dev/null || need+=(varnish)
command -v wrk >/dev/null || need+=(wrk)
if [ ${#need[@]} -gt 0 ]; then
	if [ "$(id -u)" != 0 ]; then echo "bench-edge needs ${need[*]}: install them (apt-get install ${need[*]})" >&2; exit 1; fi
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
ncpu=$(nproc)
srv_cpu=0
cli_cpu=$(( ncpu > 1 ? 1 : 0 ))

tmp=$(mktemp -d /tmp/bench-edge.XXXXXX)
chmod 755 "$tmp" # varnishd drops to its own user, which must read the VCL
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	[ -f "$tmp/nginx.pid" ] && kill "$(cat "$tmp/nginx.pid")" 2>/dev/null || true
	wait 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
st_grpc=$(port); st_http=$(port); edge=$(port); ngx=$(port); var=$(port)

# Objects: a 1 KB playlist and a 1 MB segment (plus one for the herd).
mkdir -p "$tmp/files" "$tmp/www/v/bench"
head -c 1024 /dev/urandom | base64 -w 64 | head -c 1024 >"$tmp/files/playlist.m3u8"
head -c 1048576 /dev/urandom >"$tmp/files/seg.m4s"
head -c 1048576 /dev/urandom >"$tmp/files/herd.m4s"
cp "$tmp/files/playlist.m3u8" "$tmp/files/seg.m4s" "$tmp/www/v/bench/"

taskset -c $srv_cpu "$bin" storage --data "$tmp/storage" --grpc 127.0.0.1:$st_grpc --http 127.0.0.1:$st_http --log-level error --insecure &
pids+=($!)
taskset -c $srv_cpu "$bin" edge --storage http://127.0.0.1:$st_http --listen 127.0.0.1:$edge --log-level error --insecure ${EDGE_ARGS:-} &
pids+=($!)
for i in $(seq 1 100); do curl -sf http://127.0.0.1:$edge/healthz >/dev/null && break; sleep 0.1; done
go run ./internal/bench/edgetool seed -storage 127.0.0.1:$st_grpc -asset bench -dir "$tmp/files"

cat >"$tmp/nginx.conf" <<NGINX
daemon on;
worker_processes 1;
worker_cpu_affinity $(python3 -c "print('0'*($ncpu-1-$srv_cpu)+'1'+'0'*$srv_cpu)");
pid $tmp/nginx.pid;
error_log $tmp/nginx-error.log;
events { worker_connections 1024; }
http {
	access_log off;
	sendfile on;
	tcp_nopush on;
	keepalive_requests 1000000;
	types { application/vnd.apple.mpegurl m3u8; video/iso.segment m4s; }
	server { listen 127.0.0.1:$ngx; root $tmp/www; }
}
NGINX
nginx -c "$tmp/nginx.conf"

cat >"$tmp/default.vcl" <<VCL
vcl 4.1;
backend storage { .host = "127.0.0.1"; .port = "$st_http"; }
sub vcl_recv { set req.url = regsub(req.url, "^/v/", "/o/assets/"); }
sub vcl_backend_response { set beresp.ttl = 1h; }
VCL
taskset -c $srv_cpu varnishd -F -a 127.0.0.1:$var -f "$tmp/default.vcl" -s malloc,256m -n "$tmp/varnish" >/dev/null 2>&1 &
pids+=($!)
for i in $(seq 1 100); do curl -sf http://127.0.0.1:$var/v/bench/playlist.m3u8 >/dev/null && break; sleep 0.1; done

# Process trees whose CPU time is charged to each server (hits never reach
# storage, so only the server itself counts).
edge_pid=${pids[1]}
var_pid=${pids[2]}
tree() { # a pid and all its descendants
	local p=$1
	echo "$p"
	for c in $(pgrep -P "$p" || true); do tree "$c"; done
}
ticks() { # user+system clock ticks of the given pids
	local t=0 p f
	for p in "$@"; do
		f=$(sed 's/^.*) //' "/proc/$p/stat" 2>/dev/null) || continue
		t=$(( t + $(echo "$f" | awk '{print $12 + $13}') ))
	done
	echo $t
}
server_pids() {
	case $1 in
	edge) tree "$edge_pid" ;;
	nginx) tree "$(cat "$tmp/nginx.pid")" ;;
	varnish) tree "$var_pid" ;;
	esac
}
hz=$(getconf CLK_TCK)

# The servers take turns in interleaved rounds, so a slow spell of a shared
# machine hits all of them alike; each figure is the server's median round.
rounds=${BENCH_ROUNDS:-3}
declare -A rps mbs cpu
for srv in edge nginx varnish; do
	case $srv in edge) p=$edge;; nginx) p=$ngx;; varnish) p=$var;; esac
	for obj in playlist.m3u8 seg.m4s; do
		url=http://127.0.0.1:$p/v/bench/$obj
		curl -sf "$url" >/dev/null; curl -sf "$url" >/dev/null # warm the caches
	done
done
for r in $(seq 1 "$rounds"); do
	for obj in playlist.m3u8 seg.m4s; do
		for srv in edge nginx varnish; do
			case $srv in edge) p=$edge;; nginx) p=$ngx;; varnish) p=$var;; esac
			url=http://127.0.0.1:$p/v/bench/$obj
			sp=$(server_pids $srv)
			t0=$(ticks $sp)
			out=$(taskset -c $cli_cpu wrk -t1 -c$conns -d$dur "$url")
			t1=$(ticks $sp)
			n=$(echo "$out" | awk '/requests in/ {print $1}')
			r_rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
			r_mbs=$(echo "$out" | awk '/Transfer\/sec/ {v=$2; if (v ~ /GB/) {sub("GB","",v); v*=1024} else if (v ~ /KB/) {sub("KB","",v); v/=1024} else {sub("MB","",v)}; printf "%.1f", v}')
			r_cpu=$(python3 -c "print(f'{($t1-$t0)/$hz/max($n,1)*1e6:.1f}')")
			rps[$srv,$obj]+="$r_rps "
			mbs[$srv,$obj]+="$r_mbs "
			cpu[$srv,$obj]+="$r_cpu "
			printf "round %d %-14s %-8s %10s req/s %8s us CPU/response\n" "$r" "$obj" "$srv" "$r_rps" "$r_cpu"
		done
	done
done
median() { python3 -c "import statistics,sys; print(f'{statistics.median(float(x) for x in sys.argv[1:]):.1f}')" $1; }
for k in "${!rps[@]}"; do
	rps[$k]=$(median "${rps[$k]}"); mbs[$k]=$(median "${mbs[$k]}"); cpu[$k]=$(median "${cpu[$k]}")
done

echo
echo "bench-edge: cache hits, wrk -t1 -c$conns -d$dur, servers on CPU $srv_cpu, wrk on CPU $cli_cpu, median of $rounds interleaved rounds"
printf "%-16s %14s %14s %14s %12s %12s\n" object "edge req/s" "nginx req/s" "varnish req/s" "edge/nginx" "edge/varnish"
for obj in playlist.m3u8 seg.m4s; do
	printf "%-16s %14s %14s %14s %12s %12s\n" "$obj" "${rps[edge,$obj]}" "${rps[nginx,$obj]}" "${rps[varnish,$obj]}" \
		"$(python3 -c "print(f'{${rps[edge,$obj]}/${rps[nginx,$obj]}:.2f}x')")" \
		"$(python3 -c "print(f'{${rps[edge,$obj]}/${rps[varnish,$obj]}:.2f}x')")"
done
printf "%-16s %14s %14s %14s   (MB/s)\n" "seg.m4s MB/s" "${mbs[edge,seg.m4s]}" "${mbs[nginx,seg.m4s]}" "${mbs[varnish,seg.m4s]}"
echo
echo "server CPU per response (user+system of the server processes / wrk requests), median round"
printf "%-16s %14s %14s %14s\n" object "edge us" "nginx us" "varnish us"
for obj in playlist.m3u8 seg.m4s; do
	printf "%-16s %14s %14s %14s\n" "$obj" "${cpu[edge,$obj]}" "${cpu[nginx,$obj]}" "${cpu[varnish,$obj]}"
done
echo "targets: edge >= 1.0x nginx and >= 1.0x varnish on seg.m4s; >= 0.7x nginx on playlist.m3u8"
go run ./internal/bench/edgetool herd -url http://127.0.0.1:$edge/v/bench/herd.m4s -metrics http://127.0.0.1:$edge/metrics -n 1000
echo "target: origin fetches per unique object under a 1000-request cold herd = 1"
