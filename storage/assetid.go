package storage

import (
	"fmt"
	"strings"

	"github.com/vodfleet/vodfleet/internal/ids"
)

// assetsDir is the path prefix of published assets: the objects of asset
// <id> live under "assets/<id>/".
const assetsDir = "assets/"

// validateAssetID checks that id is an asset id: 1 to 64 characters of
// [A-Za-z0-9_-] (ids.Valid), so it is a single path segment, a safe URL
// fragment and a key suffix that cannot collide with another asset's.
func validateAssetID(id string) error {
	if !ids.Valid(id) {
		return fmt.Errorf("asset id %q is not 1 to 64 characters of [A-Za-z0-9_-]: %w", id, ErrInvalidPath)
	}
	return nil
}

// assetObjects returns the path prefix of the objects of asset id.
func assetObjects(id string) string {
	return assetsDir + id + "/"
}

// assetOf returns the asset an object path belongs to: the segment after
// "assets/" when the path continues below it. Paths elsewhere belong to no
// asset.
func assetOf(path string) (string, bool) {
	rest, ok := strings.CutPrefix(path, assetsDir)
	if !ok {
		return "", false
	}
	id, _, ok := strings.Cut(rest, "/")
	return id, ok
}

// checkAssetPath rejects object paths under assets/ that do not belong to a
// valid asset ("assets/x", "assets/a.b/x"): such objects would be invisible
// to ListAssets and could not be deleted with DeleteAsset.
func checkAssetPath(path string) error {
	if !strings.HasPrefix(path, assetsDir) {
		return nil
	}
	id, ok := assetOf(path)
	if !ok {
		return fmt.Errorf("path %q: objects under %s must be %s<asset>/<name>: %w", path, assetsDir, assetsDir, ErrInvalidPath)
	}
	return validateAssetID(id)
}

// checkAssetPrefix rejects a Publish destination naming an invalid asset
// ("assets/a.b/"), even when nothing would move. dir ends with a slash.
func checkAssetPrefix(dir string) error {
	rest, ok := strings.CutPrefix(dir, assetsDir)
	if !ok {
		return nil
	}
	if id, _, ok := strings.Cut(rest, "/"); ok {
		return validateAssetID(id)
	}
	return nil
}
