#!/usr/bin/env bash
# make bench-transfer: push the same generated ~200 MB package (50 x 4 MiB
# random media files, playlists, a thumbnail, an MP4) to S3 (versitygw)
# and SFTP (sshd), both on loopback, with vodfleet's internal/transfer.Push
# and with rclone, in one run; prints both times and the ratio of
# vodfleet's speed to rclone's (internal/bench/transfer).
# Installs rclone (Debian package) when missing, as root; the servers come
# from `make transfer-deps`. Extra arguments go to the Go tool, e.g.
#   scripts/bench-transfer.sh -rounds 3 -concurrency 8 -part-size 33554432
set -euo pipefail
GO=${GO:-go}
if ! command -v rclone >/dev/null; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
		echo "installing rclone with apt-get"
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq rclone >/dev/null
	else
		echo "rclone missing: install it (e.g. sudo apt-get install rclone)" >&2
		exit 1
	fi
fi
rclone version | sed -n 1p
exec "$GO" run ./internal/bench/transfer "$@"
