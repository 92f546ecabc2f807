package dashboard

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/vodfleet/vodfleet/internal/security"
)

// Sentinel errors of TokenAuth; the handler answers both with 401 and a
// Basic challenge, so a browser asks for the token.
var (
	// ErrNoToken: the request carries no API token.
	ErrNoToken = errors.New("no API token")
	// ErrUnknownToken: the token is not in the token file.
	ErrUnknownToken = errors.New("unknown API token")
)

// Realm is the HTTP authentication realm of the dashboard's Basic
// challenge (the browser shows it in its sign-in prompt).
const Realm = "vodfleet"

// TokenLookup finds the identity of an API token. *security.TokenStore
// implements it; a nil store knows no token.
type TokenLookup interface {
	Lookup(token string) (security.Identity, bool)
}

// ReaderRoles are the API client roles that may read the dashboard: the
// people's roles. Cluster members (agent, coordinator, storage, edge) have
// no business there and get 403.
var ReaderRoles = []security.Role{security.RoleAdmin, security.RoleSubmitter, security.RoleReadOnly}

// TokenAuth authenticates with the coordinator's API tokens, the same ones
// its gRPC accepts. The token comes as "Authorization: Bearer TOKEN"
// (scripts) or as the password of HTTP Basic auth with any user name (the
// browser's own sign-in prompt). Errors never carry the token.
func TokenAuth(tokens TokenLookup) Authenticator {
	return func(r *http.Request) error {
		tok := requestToken(r)
		if tok == "" {
			return ErrNoToken
		}
		id, ok := tokens.Lookup(tok)
		if !ok {
			return ErrUnknownToken
		}
		for _, role := range ReaderRoles {
			if id.Role == role {
				return nil
			}
		}
		return fmt.Errorf("token %q has role %s: %w", id.Name, id.Role, ErrForbidden)
	}
}

// requestToken is the bearer token, else the Basic auth password, else "".
func requestToken(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if scheme, rest, ok := strings.Cut(h, " "); ok && strings.EqualFold(scheme, "Bearer") {
		return strings.TrimSpace(rest)
	}
	if _, pw, ok := r.BasicAuth(); ok {
		return pw
	}
	return ""
}
