package urlpolicy

import (
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

func TestCheckSize(t *testing.T) {
	p := Policy{MaxBytes: 10}
	for n, want := range map[int64]error{-1: nil, 0: nil, 10: nil, 11: ErrTooLarge} {
		if err := p.CheckSize(n); !errors.Is(err, want) && !(want == nil && err == nil) {
			t.Errorf("CheckSize(%d) = %v; want %v", n, err, want)
		}
	}
	if err := (Policy{}).CheckSize(1 << 62); err != nil {
		t.Errorf("unlimited CheckSize = %v", err)
	}
}

func TestLimitReader(t *testing.T) {
	tests := []struct {
		max, size int
		want      error
	}{
		{0, 1000, nil}, // unlimited
		{10, 0, nil},
		{10, 9, nil},
		{10, 10, nil},
		{10, 11, ErrTooLarge},
		{1, 2, ErrTooLarge},
		{10, 1000, ErrTooLarge},
	}
	for _, tt := range tests {
		for name, wrap := range map[string]func(io.Reader) io.Reader{
			"plain": func(r io.Reader) io.Reader { return r },
			"1byte": iotest.OneByteReader,
			"half":  iotest.HalfReader,
		} {
			src := strings.Repeat("x", tt.size)
			r := Policy{MaxBytes: int64(tt.max)}.LimitReader(wrap(strings.NewReader(src)))
			b, err := io.ReadAll(r)
			if tt.want == nil {
				if err != nil || string(b) != src {
					t.Errorf("%s max %d size %d: %d bytes, %v", name, tt.max, tt.size, len(b), err)
				}
				continue
			}
			if !errors.Is(err, tt.want) || len(b) != tt.max {
				t.Errorf("%s max %d size %d: %d bytes, %v; want %d bytes, %v", name, tt.max, tt.size, len(b), err, tt.max, tt.want)
			}
			if _, err := r.Read(make([]byte, 1)); !errors.Is(err, ErrTooLarge) {
				t.Errorf("%s: read after limit = %v; want sticky ErrTooLarge", name, err)
			}
		}
	}
}
