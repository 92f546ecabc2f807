package security

import (
	"bufio"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// tokenPrefix marks vodfleet tokens, so a leaked one is recognisable by
// secret scanners.
const tokenPrefix = "vf_"

// Identity is who is calling: a role and a name for logs and rate limits.
type Identity struct {
	Role Role
	Name string
}

// TokenStore maps token hashes to identities. Only hashes are held: a
// stolen token file does not give away working tokens.
type TokenStore struct {
	byHash map[[sha256.Size]byte]Identity
}

// ErrTokenFile marks a malformed token file line.
var ErrTokenFile = errors.New("token file")

// NewToken returns a fresh random token.
func NewToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("token: %w", err)
	}
	return tokenPrefix + base64.RawURLEncoding.EncodeToString(b), nil
}

// TokenLine is the token file line that admits token as role and name.
func TokenLine(token string, role Role, name string) string {
	h := sha256.Sum256([]byte(token))
	return "sha256:" + hex.EncodeToString(h[:]) + " " + string(role) + " " + name
}

// LoadTokenFile reads a token file.
func LoadTokenFile(path string) (*TokenStore, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrTokenFile, err)
	}
	defer f.Close()
	ts, err := ParseTokens(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return ts, nil
}

// ParseTokens reads token file lines: "sha256:HEX ROLE NAME", blank lines
// and "#" comments ignored. Names must be unique (they key rate limits and
// show in logs).
func ParseTokens(r io.Reader) (*TokenStore, error) {
	ts := &TokenStore{byHash: map[[sha256.Size]byte]Identity{}}
	names := map[string]bool{}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 3 {
			return nil, fmt.Errorf("%w: line %d: want \"sha256:HEX ROLE NAME\", got %d fields", ErrTokenFile, n, len(f))
		}
		hexHash, ok := strings.CutPrefix(f[0], "sha256:")
		raw, err := hex.DecodeString(hexHash)
		if !ok || err != nil || len(raw) != sha256.Size {
			return nil, fmt.Errorf("%w: line %d: the first field must be sha256: and 64 hex digits (the file holds hashes, never tokens)", ErrTokenFile, n)
		}
		role, err := ParseRole(f[1])
		if err != nil {
			return nil, fmt.Errorf("%w: line %d: %w", ErrTokenFile, n, err)
		}
		if names[f[2]] {
			return nil, fmt.Errorf("%w: line %d: name %q used twice", ErrTokenFile, n, f[2])
		}
		names[f[2]] = true
		var h [sha256.Size]byte
		copy(h[:], raw)
		if _, dup := ts.byHash[h]; dup {
			return nil, fmt.Errorf("%w: line %d: hash listed twice", ErrTokenFile, n)
		}
		ts.byHash[h] = Identity{Role: role, Name: f[2]}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrTokenFile, err)
	}
	return ts, nil
}

// Lookup returns the identity a token stands for.
func (ts *TokenStore) Lookup(token string) (Identity, bool) {
	if ts == nil {
		return Identity{}, false
	}
	id, ok := ts.byHash[sha256.Sum256([]byte(token))]
	return id, ok
}

// Len is the number of tokens.
func (ts *TokenStore) Len() int {
	if ts == nil {
		return 0
	}
	return len(ts.byHash)
}
