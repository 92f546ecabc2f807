package node

import (
	"github.com/hashicorp/go-hclog"

	"github.com/vodfleet/vodfleet/coordinator/dashboard"
	"github.com/vodfleet/vodfleet/internal/security"
)

// DashboardAuth is how a coordinator's web dashboard authenticates: with
// the API tokens of the coordinator's own token file (sec), so one token
// serves the CLI and the browser. Like gRPC, it is open (nil) only when
// sec is insecure without a token file, and says so at start. Tokens are
// never logged.
func DashboardAuth(sec *security.Security, log hclog.Logger) dashboard.Authenticator {
	log = log.Named("dashboard")
	if sec.Open() {
		log.Warn("web dashboard without authentication (--insecure and no --token-file): anyone who can reach it reads every job, agent and asset")
		return nil
	}
	if sec.Tokens().Len() == 0 {
		log.Warn("web dashboard has no API tokens to accept (no --token-file, or an empty one): every /api/ request is refused with 401")
	}
	return dashboard.TokenAuth(sec.Tokens())
}
