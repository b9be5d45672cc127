//go:build tools

// Package tools pins the Kubernetes control plane and etcd that the local stack's kwok cluster runs.
// scripts/stack/components/kube.ts builds them with `go build` in this module.
package tools

import (
	_ "go.etcd.io/etcd/server/v3"
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
