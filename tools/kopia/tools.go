//go:build tools

// Package tools pins kopia. `go install github.com/kopia/kopia@v…` fails on this proxy (it reads kopia's
// refused version list), so scripts/stack/components/kopia.ts runs `go build` inside this module instead.
package tools

import _ "github.com/kopia/kopia"
