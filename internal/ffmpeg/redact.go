package ffmpeg

import (
	"net/url"
	"strings"
)

// redactInput returns in with any URL query string and user info removed.
// Sources may be pre-signed URLs whose query carries credentials; they must
// not end up in logs, task errors or etcd.
func redactInput(in string) string {
	u, err := url.Parse(in)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return in
	}
	if u.RawQuery == "" && u.User == nil && u.Fragment == "" {
		return in
	}
	u.User = nil
	u.RawQuery = ""
	u.Fragment = ""
	return u.String() + "?REDACTED"
}

// cleanLine makes one ffmpeg stderr line readable for an error message: it
// drops the "[component @ 0xADDR] " prefix of library messages and the
// "input: " prefix ffmpeg puts before errors about a file (the
// path means nothing to a client and may hold a signed URL) and any other
// occurrence of the input, and lowercases a capitalised first word (not an
// acronym) so it reads well after "ffprobe: ".
func cleanLine(line, input string) string {
	// "[http @ 0x55d0c0a1b2c0] HTTP error 503" → "HTTP error 503".
	if strings.HasPrefix(line, "[") {
		if i := strings.Index(line, "] "); i > 0 && strings.Contains(line[:i], " @ 0x") {
			line = line[i+2:]
		}
	}
	if input != "" {
		line = strings.TrimPrefix(line, input+": ")
		line = strings.ReplaceAll(line, input, redactInput(input))
	}
	line = strings.TrimSpace(line)
	if len(line) > 1 && line[0] >= 'A' && line[0] <= 'Z' && line[1] >= 'a' && line[1] <= 'z' {
		line = strings.ToLower(line[:1]) + line[1:]
	}
	return line
}

// inputOf returns the argument following the first "-i" in args, or "".
func inputOf(args []string) string {
	for i := 0; i+1 < len(args); i++ {
		if args[i] == "-i" {
			return args[i+1]
		}
	}
	return ""
}

// redactArgs returns a copy of args fit for logging.
func redactArgs(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = redactInput(a)
	}
	return out
}
