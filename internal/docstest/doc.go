// Package docstest checks that the Go code in README.md and docs/*.md
// compiles against the packages of this module as they are, and that what
// the documentation says of a few behaviours holds. It holds no code of its
// own; its tests do the work (go test ./internal/docstest/):
//
//   - TestDocBlocks type-checks every Go block (docs_test.go).
//   - TestUserModule does what README.md and docs/messages.md tell a user
//     to do, in a module of its own that requires this one: it generates
//     the guide's .proto with the pinned protoc-gen-go (when protoc is
//     installed), and builds and runs every whole-file main package of the
//     documentation (skipped with -short).
//   - The tests of claims_test.go check what the guides say of errors
//     across nodes and of controllers that die mid-request.
//
// How a code block in the documentation is read:
//
//   - A block fenced with ```go is Go and must compile. Blocks fenced
//     otherwise (```sh, ```proto, ```text, or no language) are not checked;
//     ```go-not-compiled marks Go that is deliberately incomplete (use it
//     sparingly: prefer a block that compiles).
//   - A block with a package clause is a whole file: it must compile as it
//     stands, unused imports and variables included.
//   - A block without one is a fragment: either top-level declarations
//     (funcs, types, vars, consts), or, if it does not parse as those,
//     statements, checked as the body of a func. A fragment writes no
//     imports: it may use any package of the fixed prelude below by its
//     name, and two ambient variables, ctx (a context.Context) and node
//     (an *actor.Node), that it need not declare. Anything else it uses it
//     declares itself. In a fragment, variables and imports left unused are
//     not errors (a fragment shows a step, not a program).
//   - Every Go block is formatted as gofmt formats it.
//
// The prelude: bytes, context, errors, fmt, io, log, slog, os, strings,
// sync, time; actor, supervisor, exchange, pubsub (exchange/pubsub), tasks
// (exchange/tasks), topic (exchange/topic), patterns, cluster, distapp, release,
// inspect, ops, tracing, http (net/http); and
// protobuf's proto, anypb, durationpb, emptypb, structpb, timestamppb and
// wrapperspb. A fragment's own variable may shadow a package name (then it
// cannot use that package too: name the variable otherwise). Besides, the package example.com/shop/shoppb is the Go code
// that protoc-gen-go makes of the .proto file in docs/messages.md
// (testdata/shoppb, checked against the guide when protoc is installed).
//
// Blocks are type-checked with go/types from the export data of the
// packages they use (go list -export), offline; an error names the Markdown
// file and line.
package docstest
