// Package urlpolicy is the source URL policy: which user-supplied source
// URLs agents may fetch, and which network addresses those fetches may
// reach. Sources are user input, so without it a job could make an agent
// read cloud metadata (169.254.169.254), the coordinator's or etcd's
// ports, or anything else on the fleet's private network (SSRF).
//
// The policy is enforced in two layers:
//
//   - CheckURL runs when a job is submitted and again before a fetch. It is
//     purely syntactic: scheme, credentials, fragments, and the host's form.
//     Literal IP hosts are judged by CheckIP right away; numeric hosts that
//     resolvers read as IPv4 in odd forms ("2130706433", "0x7f.1", "127.1")
//     are refused outright because tools disagree on what they mean.
//   - Control (used by Dialer, Transport and HTTPClient) runs for every
//     address a connection is actually made to, after name resolution. A
//     name that resolves, or re-resolves (DNS rebinding), to a forbidden
//     address is refused there. Every fetch of a source must dial through
//     it; handing the URL to a tool that resolves names itself (ffmpeg)
//     bypasses this layer.
//
// Error messages never include the URL's user information, so they can be
// stored in job records.
package urlpolicy
