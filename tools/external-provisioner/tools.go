//go:build tools

// Package tools pins the command this wrapper module builds; `go build` never compiles this file.
package tools

import (
	_ "github.com/kubernetes-csi/external-provisioner/v5/cmd/csi-provisioner"
)
