package security

import (
	"strings"
	"testing"
)

func TestEveryGeneratedMethodHasAPolicy(t *testing.T) {
	seen := map[string]bool{}
	for _, m := range generatedMethods(t) {
		seen[m.name] = true
		r, ok := Policy[m.name]
		if !ok {
			t.Errorf("%s has no entry in Policy", m.name)
			continue
		}
		if r.Public {
			t.Errorf("%s is public; only health checks may be", m.name)
		}
		if len(r.Roles) == 0 {
			t.Errorf("%s admits no role", m.name)
		}
	}
	for name := range Policy {
		if strings.HasPrefix(name, "/vodfleet.") && !seen[name] {
			t.Errorf("Policy names %s, which is not a generated method", name)
		}
	}
}

func TestAllowed(t *testing.T) {
	cases := []struct {
		method string
		role   Role
		want   bool
	}{
		{"/vodfleet.v1.JobService/SubmitJob", RoleSubmitter, true},
		{"/vodfleet.v1.JobService/SubmitJob", RoleReadOnly, false},
		{"/vodfleet.v1.JobService/ListJobs", RoleReadOnly, true},
		{"/vodfleet.v1.AgentService/Connect", RoleAgent, true},
		{"/vodfleet.v1.AgentService/Connect", RoleAdmin, false},
		{"/vodfleet.v1.StorageService/Publish", RoleCoordinator, true},
		{"/vodfleet.v1.StorageService/Publish", RoleAgent, false},
		{"/vodfleet.v1.StorageService/DeleteAsset", RoleSubmitter, false},
		{"/vodfleet.v1.Unknown/Method", RoleAdmin, false},
		{"/grpc.health.v1.Health/Check", "", true},
	}
	for _, c := range cases {
		if got := Allowed(c.method, c.role); got != c.want {
			t.Errorf("Allowed(%s, %q) = %v, want %v", c.method, c.role, got, c.want)
		}
	}
}
