package security

import (
	"errors"
	"fmt"
)

// Role is what an identity may do. Cluster members carry theirs in their
// certificate's Subject OU; API clients get one with their token.
type Role string

// Roles of cluster members and API clients.
const (
	// RoleCoordinator is a coordinator calling storage (publish, stat).
	RoleCoordinator Role = "coordinator"
	// RoleAgent is an encode agent: the lease stream and uploads.
	RoleAgent Role = "agent"
	// RoleStorage is a storage node; it calls no gRPC method today, but
	// its certificate proves it to the coordinators and agents.
	RoleStorage Role = "storage"
	// RoleEdge is an edge; it reads the storage HTTP origin.
	RoleEdge Role = "edge"
	// RoleAdmin may call everything an operator needs (every client
	// method, asset deletion, publishing by hand).
	RoleAdmin Role = "admin"
	// RoleSubmitter submits, cancels and retries jobs and uploads sources.
	RoleSubmitter Role = "submitter"
	// RoleReadOnly lists and watches jobs and assets.
	RoleReadOnly Role = "readonly"
)

// AllRoles lists every role, in the order the README table uses.
var AllRoles = []Role{RoleAdmin, RoleSubmitter, RoleReadOnly, RoleAgent, RoleCoordinator, RoleStorage, RoleEdge}

// ClusterRoles are the roles `vodfleet dev` issues certificates for.
var ClusterRoles = []Role{RoleCoordinator, RoleAgent, RoleStorage, RoleEdge, RoleAdmin}

// ErrUnknownRole is returned for a role name that is not one of AllRoles.
var ErrUnknownRole = errors.New("unknown role")

// ParseRole checks a role name.
func ParseRole(s string) (Role, error) {
	for _, r := range AllRoles {
		if string(r) == s {
			return r, nil
		}
	}
	return "", fmt.Errorf("%w %q (one of admin, submitter, readonly, agent, coordinator, storage, edge)", ErrUnknownRole, s)
}
