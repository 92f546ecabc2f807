// Package web holds the browser side of the dashboard: sources in src/,
// the esbuild bundle in dist/ (built by `make web`, not committed) and the
// Playwright script of the browser test in test/.
package web

import (
	"embed"
	"io/fs"
)

// dist is the built bundle. The all: prefix also embeds dist/.placeholder,
// which is committed so the package compiles on a clean clone before
// `make web` has produced the bundle.
//
//go:embed all:dist
var dist embed.FS

// Dist returns the built dashboard files (index.html, app.js, app.css).
// Without a bundle it holds only the placeholder; the dashboard then says
// to run `make web`.
func Dist() fs.FS {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		panic(err) // "dist" is a valid path; fs.Sub cannot fail here
	}
	return sub
}
