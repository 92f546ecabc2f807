// Package transfer moves files between an agent's disk and remote
// storage: Destination pushes a finished package (HLS/DASH playlists,
// segments, MP4 downloads, thumbnails) to a customer's server, and Source
// fetches an input file from one. One interface per direction, one file
// per protocol: file, http (WebDAV-style PUT), sftp, ftp and s3.
//
// Push uploads media first and manifests last, so a consumer polling the
// destination never sees a playlist naming a segment that is not there
// yet; it skips files the destination already holds with the same size
// (and checksum when the destination offers one), and retries with
// backoff. Fetch resumes a partial download (HTTP Range with If-Range, S3
// ranged GET, SFTP offset, FTP REST) and verifies size and checksum.
//
// Secrets never appear in URLs, errors or logs: they come from the
// agent's environment (the AWS chain for S3), a key file and a REQUIRED
// known_hosts file for SFTP, and a netrc-style credentials file for FTP
// and HTTP. Every connection goes through an urlpolicy.Policy dialer, so
// the operator's address policy (no private or loopback addresses unless
// allowed) applies to destinations and sources alike.
package transfer
