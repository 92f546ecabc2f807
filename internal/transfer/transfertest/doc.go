// Package transfertest starts real transfer servers on loopback for tests:
// versitygw (S3), OpenSSH's sshd (SFTP), pure-ftpd (FTP) and nginx with
// its dav module (HTTP, with PUT counting from its access log), plus a
// TCP proxy that cuts a connection midway. internal/transfer's protocol
// tests, the dev cluster's end-to-end tests and the transfer benchmark
// all use this one set. The Makefile's transfer-deps target installs the
// servers; a missing one fails the test with that hint rather than
// skipping it.
package transfertest
