package storage

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// value returns the value of the series name whose labels include every
// name=value pair in labels.
func value(t *testing.T, reg *prometheus.Registry, name string, labels ...string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metric:
		for _, m := range mf.GetMetric() {
			for i := 0; i+1 < len(labels); i += 2 {
				found := false
				for _, lp := range m.GetLabel() {
					found = found || (lp.GetName() == labels[i] && lp.GetValue() == labels[i+1])
				}
				if !found {
					continue metric
				}
			}
			if m.GetGauge() != nil {
				return m.GetGauge().GetValue()
			}
			return m.GetCounter().GetValue()
		}
	}
	t.Fatalf("no series %s%v", name, labels)
	return 0
}

func TestMetricsFollowPutsPublishesReadsAndCorruption(t *testing.T) {
	s := openStore(t, testConfig(t))
	reg := prometheus.NewRegistry()
	if err := s.RegisterMetrics(reg); err != nil {
		t.Fatal(err)
	}
	mustPut(t, s, "sources/x/in.mp4", randomBytes(1000))
	mustPut(t, s, "staging/j.v/1/seg1.m4s", randomBytes(300))
	mustPut(t, s, "staging/j.v/1/seg2.m4s", randomBytes(200))
	mustPut(t, s, "staging/j.a/1/a.m4s", randomBytes(50))
	mustPut(t, s, "assets/a1/old.m4s", randomBytes(7))
	if v := value(t, reg, "vodfleet_storage_bytes", "area", "staging"); v != 550 {
		t.Errorf("staging bytes %v, want 550", v)
	}
	if n, err := s.Publish("staging/j.v/1/", "assets/a1/v/"); err != nil || n != 2 {
		t.Fatalf("publish: %d %v", n, err)
	}
	for _, c := range []struct {
		name  string
		want  float64
		label []string
	}{
		{"vodfleet_storage_bytes", 507, []string{"area", "assets"}},
		{"vodfleet_storage_objects", 3, []string{"area", "assets"}},
		{"vodfleet_storage_bytes", 50, []string{"area", "staging"}},
		{"vodfleet_storage_objects", 1, []string{"area", "staging"}},
		{"vodfleet_storage_bytes", 1000, []string{"area", "sources"}},
		{"vodfleet_storage_put_bytes_total", 1557, nil},
		{"vodfleet_storage_put_objects_total", 5, nil},
		{"vodfleet_storage_publishes_total", 1, nil},
		{"vodfleet_storage_published_objects_total", 2, nil},
		{"vodfleet_storage_integrity_failures_total", 0, nil},
	} {
		if v := value(t, reg, c.name, c.label...); v != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.label, v, c.want)
		}
	}

	// A read through the HTTP origin counts the bytes it sent.
	srv := httptest.NewServer(NewHTTPHandler(s, testLogger()))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/o/assets/a1/v/seg1.m4s")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if v := value(t, reg, "vodfleet_storage_get_bytes_total", "protocol", "http"); v != 300 {
		t.Errorf("http get bytes %v, want 300", v)
	}

	// A corrupt object is counted each time a read finds it.
	obj, err := s.Stat("assets/a1/v/seg2.m4s")
	if err != nil {
		t.Fatal(err)
	}
	flipByte(t, s, obj, 10)
	if _, _, err := s.OpenVerified(obj.Path); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("open verified: %v", err)
	}
	if v := value(t, reg, "vodfleet_storage_integrity_failures_total"); v != 1 {
		t.Errorf("integrity failures %v, want 1", v)
	}
}
