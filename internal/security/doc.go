// Package security is the one place every vodfleet role and the client CLI
// get their transport security and authentication from: TLS and mTLS
// configs loaded from files, the role a certificate carries, API tokens
// (a file of SHA-256 hashes with role and name), the per-method policy
// table, the gRPC server options (credentials, auth and rate-limit
// interceptors, message size and keepalive limits) and dial options
// (credentials, bearer token, a deadline on unary calls), and the
// throwaway development CA `vodfleet dev` uses.
//
// Identity comes from two places: a client certificate verified against
// the cluster CA (its Subject OU is the role, its CN the name), or an
// `authorization: Bearer TOKEN` header whose hash is in the token file.
// Servers check the identity's role against Policy for every method; a
// call without either gets Unauthenticated, a role the method does not
// admit gets PermissionDenied. Tokens are never logged.
package security
