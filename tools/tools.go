//go:build tools

// Package tools pins the versions of the programs the project's scripts build:
// Consul for the tests that need a real agent, and protoc-gen-go for the wire
// formats. Nothing imports it; scripts/ builds from it with `go build`.
package tools

import (
	_ "github.com/hashicorp/consul"
	_ "google.golang.org/protobuf/cmd/protoc-gen-go"
)
