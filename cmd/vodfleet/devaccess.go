package main

import (
	"fmt"
	"io"

	"github.com/vodfleet/vodfleet/internal/devcluster"
	"github.com/vodfleet/vodfleet/internal/security"
)

// printDevAccess tells the operator how a client reaches the dev cluster:
// the environment the CLI reads. The admin token is printed on purpose (a
// throwaway sandbox credential, also in DATA/pki/admin.token); it is
// written to the terminal, never to the log.
func printDevAccess(w io.Writer, c *devcluster.Cluster) {
	if c.PKI == nil {
		fmt.Fprintf(w, "\nvodfleet dev is INSECURE (plaintext, no authentication). Clients connect with:\n"+
			"  export VODFLEET_INSECURE=1 VODFLEET_COORDINATOR=%s VODFLEET_STORAGE=%s\n\n",
			c.Coordinator.Addr, c.Storage.GRPCAddr)
		return
	}
	fmt.Fprintf(w, "\nvodfleet dev runs on mTLS with a throwaway CA in %s. Clients connect with:\n"+
		"  export VODFLEET_COORDINATOR=%s VODFLEET_STORAGE=%s\n"+
		"  export VODFLEET_TLS_CA=%s\n"+
		"  export VODFLEET_TOKEN=$(cat %s)   # admin token\n"+
		"or present the admin certificate instead of the token:\n"+
		"  export VODFLEET_TLS_CERT=%s VODFLEET_TLS_KEY=%s\n\n",
		c.PKI.Dir, c.Coordinator.Addr, c.Storage.GRPCAddr, c.PKI.CAFile, c.PKI.AdminTokenFile,
		c.PKI.CertFile(security.RoleAdmin), c.PKI.KeyFile(security.RoleAdmin))
	if c.Dashboard != nil {
		fmt.Fprintf(w, "Web dashboard: %s — sign in with any user name and the admin token (%s) as the password.\n\n",
			c.Dashboard.URL(), c.PKI.AdminTokenFile)
	}
}
