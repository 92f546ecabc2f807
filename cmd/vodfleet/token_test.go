package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/vodfleet/vodfleet/internal/security"
)

func TestTokenNew(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"token", "new", "--role", "submitter", "--name", "ci"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	tok, ok := strings.CutPrefix(lines[0], "token: ")
	if !ok || len(lines) != 3 {
		t.Fatalf("output:\n%s", out.String())
	}
	ts, err := security.ParseTokens(strings.NewReader(lines[2]))
	if err != nil {
		t.Fatalf("printed line does not parse: %v", err)
	}
	if id, ok := ts.Lookup(tok); !ok || id.Role != security.RoleSubmitter || id.Name != "ci" {
		t.Fatalf("printed token not admitted by the printed line: %+v %v", id, ok)
	}
	if strings.Contains(lines[2], tok) {
		t.Fatal("the token file line holds the token")
	}
	for _, bad := range [][]string{
		{"token", "new", "--role", "root", "--name", "ci"},
		{"token", "new", "--role", "admin", "--name", "has space"},
		{"token", "old"},
	} {
		out.Reset()
		errb.Reset()
		if code := run(bad, &out, &errb); code != 1 || out.Len() != 0 {
			t.Errorf("%v: exit %d, stdout %q", bad, code, out.String())
		}
	}
}
