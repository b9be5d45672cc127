//go:build tools

// Package tools pins FerretDB, which the pod runtime runs for `mongo:*` images (MongoDB wire protocol on
// SQLite). Its module ships without the generated build/version/version.txt the binary embeds, so
// scripts/stack/ferretdb.ts vendors this module into a scratch copy, writes that file, and builds with
// -mod=vendor there; nothing of FerretDB's is kept in this repository.
package tools

import _ "github.com/FerretDB/FerretDB/cmd/ferretdb"
