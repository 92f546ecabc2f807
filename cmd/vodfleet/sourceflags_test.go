package main

import (
	"strings"
	"testing"
)

func TestURLSourceOf(t *testing.T) {
	for _, arg := range []string{"https://cdn.example.com/a.mp4?sig=x", "s3://bucket/in/a.mp4",
		"sftp://ingest@media.example.com:2222/in/a.mp4", "ftp://ingest@media.example.com/a.mp4"} {
		src, isURL, err := urlSourceOf(arg)
		if err != nil || !isURL || src.GetUrl() != arg {
			t.Errorf("%s: source %v, url %v, err %v", arg, src, isURL, err)
		}
	}
	for arg, want := range map[string]string{
		"gopher://example.com/a.mp4":      "not supported",
		"sftp://me:hunter2@example.com/a": "passwords are not allowed",
		"ftp://me:hunter2@example.com/a":  "passwords are not allowed",
		"file:///etc/passwd":              "not supported",
	} {
		_, isURL, err := urlSourceOf(arg)
		if !isURL || err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: url %v, err %v, want %q", arg, isURL, err, want)
		}
		if err != nil && strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%s: error leaks the password: %v", arg, err)
		}
	}
	if _, isURL, _ := urlSourceOf("clip.mp4"); isURL {
		t.Error("a local path was taken for a URL")
	}
}
