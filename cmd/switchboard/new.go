package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/switchboard-go/switchboard/internal/scaffold"
)

// standalone are the commands that ask no running node: they parse their
// own flags.
var standalone = map[string]func(args []string, stdout, stderr io.Writer, env func(string) (string, bool)) int{
	"dashboard": dashboardMain,
	"new":       cmdNew,
	"node":      cmdNode,
}

// cmdNew is "new -module M DIR": the umbrella scaffold of
// internal/scaffold (the same as "umbrella new").
func cmdNew(args []string, stdout, stderr io.Writer, _ func(string) (string, bool)) int {
	fs := flag.NewFlagSet("switchboard new", flag.ContinueOnError)
	fs.SetOutput(stderr)
	module := fs.String("module", "", "the new module's path, as example.com/shop (required)")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if *module == "" || fs.NArg() != 1 {
		fmt.Fprintln(stderr, "usage: switchboard new -module example.com/shop DIR")
		return exitUsage
	}
	written, err := scaffold.Write(fs.Arg(0), *module)
	for _, f := range written {
		fmt.Fprintln(stdout, "wrote", f)
	}
	if err != nil {
		fmt.Fprintln(stderr, "switchboard new:", err)
		return exitError
	}
	fmt.Fprintf(stdout, "next: cd %s && go mod init %s && go get github.com/switchboard-go/switchboard@latest && go mod tidy && go run . releases/node.toml\n", fs.Arg(0), *module)
	return exitOK
}
