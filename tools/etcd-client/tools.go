//go:build tools

// Package tools pins etcdctl and etcdutl at the etcd server's version, so database pods that play an `etcd*`
// image have the clients that image ships (snapshot save with etcdctl, snapshot restore with etcdutl).
// scripts/stack/components/kube.ts builds them with `go build` inside this module.
package tools

import (
	_ "go.etcd.io/etcd/etcdctl/v3"
	_ "go.etcd.io/etcd/etcdutl/v3"
)
