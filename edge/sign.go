package edge

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"hash"
	"sync"
	"time"
)

// Signed URLs carry their token as a path segment,
//
//	/t/{token}/v/{asset}/{path...}
//
// rather than in the query string, so the relative URLs inside a playlist
// (variant playlists, segments) resolve under the same /t/{token}/ prefix
// and inherit the token without the playlist being rewritten.
//
// The token is the unpadded base64url encoding of
//
//	expiry (8 bytes, big-endian unix seconds) ‖ prefix ‖ HMAC-SHA256(key, expiry ‖ prefix)
//
// where prefix is the URL path the token grants, without the /t/{token}
// part: "/v/{asset}/" grants every object of the asset, and a prefix not
// ending in "/" grants exactly that one path. The cache key does not
// include the token, so all viewers share one cached copy.

// tokenOverhead is the bytes a token adds to its prefix: expiry and MAC.
const tokenOverhead = 8 + sha256.Size

// vPrefix starts every prefix a token may grant.
var vPrefix = []byte("/v/")

// maxTokenLen bounds the encoded token length accepted, well above what an
// asset id and a maximal object path need, so verification never decodes
// attacker-sized input.
const maxTokenLen = 2048

// Sign returns the token granting access to URL paths under prefix (for
// example "/v/{asset}/") until expires, to be placed in the path as
// /t/{token}/v/{asset}/{path}. prefix must start with "/v/"; it should end
// with "/" unless it names a single object.
func Sign(key []byte, prefix string, expires time.Time) string {
	msg := make([]byte, 8, tokenOverhead+len(prefix))
	binary.BigEndian.PutUint64(msg, uint64(expires.Unix()))
	msg = append(msg, prefix...)
	m := hmac.New(sha256.New, key)
	m.Write(msg)
	return base64.RawURLEncoding.EncodeToString(m.Sum(msg))
}

// SignedPath returns "/t/{token}/v/{asset}/", the signed URL path prefix of
// every object of asset until expires; append an object path such as
// "master.m3u8" (and prepend the edge's base URL) to get a playable URL.
// The token is Sign(key, "/v/{asset}/", expires).
func SignedPath(key []byte, asset string, expires time.Time) string {
	prefix := "/v/" + asset + "/"
	return "/t/" + Sign(key, prefix, expires) + prefix
}

// VerifyToken checks that token was signed with key, has not expired at
// now, and grants path (the "/v/{asset}/{path}" part of the request). It
// returns ErrTokenInvalid, ErrTokenExpired or ErrTokenScope. The HMAC is
// compared in constant time. path should already be canonical (no "."
// or ".." segments), as the Server ensures before calling it.
func VerifyToken(key []byte, token, path string, now time.Time) error {
	return newVerifier(key).verify(token, path, now)
}

// verifier checks tokens against one key. It pools the HMAC state and
// buffers so that verifying a token on every segment request allocates
// nothing.
type verifier struct {
	key  []byte
	pool sync.Pool // of *verifyState
}

// verifyState is the per-call scratch space of a verifier.
type verifyState struct {
	mac hash.Hash
	src []byte // the token's characters
	raw []byte // the decoded token
	sum []byte // the computed MAC
}

// newVerifier returns a verifier for key.
func newVerifier(key []byte) *verifier {
	v := &verifier{key: key}
	v.pool.New = func() any {
		return &verifyState{
			mac: hmac.New(sha256.New, key),
			src: make([]byte, 0, maxTokenLen),
			raw: make([]byte, base64.RawURLEncoding.DecodedLen(maxTokenLen)),
			sum: make([]byte, 0, sha256.Size),
		}
	}
	return v
}

// verify implements VerifyToken.
func (v *verifier) verify(token, path string, now time.Time) error {
	if token == "" || len(token) > maxTokenLen {
		return ErrTokenInvalid
	}
	st := v.pool.Get().(*verifyState)
	defer v.pool.Put(st)
	st.src = append(st.src[:0], token...)
	n, err := base64.RawURLEncoding.Decode(st.raw, st.src)
	if err != nil || n <= tokenOverhead {
		return ErrTokenInvalid
	}
	signed, mac := st.raw[:n-sha256.Size], st.raw[n-sha256.Size:n]
	st.mac.Reset()
	st.mac.Write(signed)
	st.sum = st.mac.Sum(st.sum[:0])
	if !hmac.Equal(st.sum, mac) {
		return ErrTokenInvalid
	}
	if expiry := int64(binary.BigEndian.Uint64(signed)); now.Unix() >= expiry {
		return ErrTokenExpired
	}
	prefix := signed[8:]
	if !bytes.HasPrefix(prefix, vPrefix) || len(path) < len(prefix) || path[:len(prefix)] != string(prefix) {
		return ErrTokenScope
	}
	if len(path) > len(prefix) && prefix[len(prefix)-1] != '/' {
		// A prefix not ending in "/" grants one exact path, so "/v/a"
		// cannot reach "/v/ab/...".
		return ErrTokenScope
	}
	return nil
}
