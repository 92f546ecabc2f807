// Package transfertest starts real transfer servers on loopback for tests:
// versitygw (S3), OpenSSH's sshd (SFTP) and nginx with its dav module
// (HTTP), plus a TCP proxy that cuts a connection midway. Both
// internal/transfer's protocol tests and the dev cluster's end-to-end
// tests use them. The Makefile's transfer-deps target installs the
// servers; a missing one fails the test with that hint rather than
// skipping it.
package transfertest
