package main

import (
	"flag"
	"testing"

	v1 "github.com/vodfleet/vodfleet/proto/vodfleet/v1"
)

// TestHDSFlag: --hds turns the HDS output on over a job file that has it
// off; without the flag the file's value stands.
func TestHDSFlag(t *testing.T) {
	for _, tc := range []struct {
		args []string
		file bool
		want bool
	}{
		{[]string{"--hds"}, false, true},
		{[]string{"--hds=false"}, true, false},
		{nil, true, true},
		{nil, false, false},
	} {
		fs := flag.NewFlagSet("submit", flag.ContinueOnError)
		var ef encodeFlags
		ef.register(fs)
		if err := fs.Parse(tc.args); err != nil {
			t.Fatal(err)
		}
		req := &v1.SubmitJobRequest{Encode: &v1.EncodeOptions{Outputs: &v1.Outputs{Hds: tc.file}}}
		if err := ef.apply(fs, req); err != nil {
			t.Fatal(err)
		}
		if got := req.GetEncode().GetOutputs().GetHds(); got != tc.want {
			t.Errorf("args %v over file hds=%v: hds=%v, want %v", tc.args, tc.file, got, tc.want)
		}
	}
}
