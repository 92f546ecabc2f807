package edge

import (
	"testing"
	"time"
)

func TestConfigValidate(t *testing.T) {
	good := DefaultConfig()
	good.Origin = "http://127.0.0.1:7003"
	if err := good.Validate(); err != nil {
		t.Fatalf("default config: %v", err)
	}
	if good.MemoryBytes != 256<<20 || good.MaxObjectBytes != 64<<20 || good.OriginTimeout != 10*time.Second ||
		good.PlaylistMaxAge != 2*time.Second || good.SegmentMaxAge != 365*24*time.Hour {
		t.Fatalf("defaults %+v", good)
	}
	bad := map[string]func(*Config){
		"no origin":       func(c *Config) { c.Origin = "" },
		"relative origin": func(c *Config) { c.Origin = "127.0.0.1:7003" },
		"ftp origin":      func(c *Config) { c.Origin = "ftp://host" },
		"no host":         func(c *Config) { c.Origin = "http://" },
		"query":           func(c *Config) { c.Origin = "http://host/?a=b" },
		"unparsable":      func(c *Config) { c.Origin = "http://host:port:x/%zz" },
		"negative memory": func(c *Config) { c.MemoryBytes = -1 },
		"zero max object": func(c *Config) { c.MaxObjectBytes = 0 },
		"zero timeout":    func(c *Config) { c.OriginTimeout = 0 },
		"negative ages":   func(c *Config) { c.PlaylistMaxAge = -time.Second },
		"negative seg":    func(c *Config) { c.SegmentMaxAge = -time.Second },
	}
	for name, mutate := range bad {
		c := good
		mutate(&c)
		if err := c.Validate(); err == nil {
			t.Errorf("%s: Validate accepted %+v", name, c)
		}
		if _, err := New(c, nil); err == nil {
			t.Errorf("%s: New accepted it", name)
		}
	}
}
