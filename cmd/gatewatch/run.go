package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"runtime/debug"

	"github.com/gatewatch/gatewatch/internal/config"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

// exitError carries an exit status other than 1, such as check-config's 2.
type exitError struct {
	code int
	err  error
}

func (e exitError) Error() string { return e.err.Error() }
func (e exitError) Unwrap() error { return e.err }

// run is the whole program: main only adds the process around it, so that
// tests can call run with their own arguments, environment and streams.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	cmd, rest := "serve", args[1:]
	if len(rest) > 0 && len(rest[0]) > 0 && rest[0][0] != '-' {
		cmd, rest = rest[0], rest[1:]
	}
	switch cmd {
	case "serve":
		return serve(ctx, rest, getenv, stdout, stderr)
	case "nginx":
		return nginxCmd(rest, getenv, stdout, stderr)
	case "render":
		return renderCmd(ctx, rest, getenv, stdout, stderr)
	case "check-config":
		return checkConfig(rest, getenv, stdout, stderr)
	case "hash-password":
		return hashPassword(stdin, stdout)
	case "version":
		fmt.Fprintln(stdout, "gatewatch", buildVersion())
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return exitError{2, fmt.Errorf("unknown command %q", cmd)}
}

const usage = `usage:
  gatewatch [serve] [--config FILE] [--listen ADDR] [--admin-listen ADDR] [--data DIR]
  gatewatch nginx --config FILE          print the include for an nginx server {} block
  gatewatch render --config FILE --out DIR   pre-render every page for nginx's fallback
  gatewatch check-config --config FILE   exit 0, or 2 with FILE:LINE: problem
  gatewatch hash-password                read a password on stdin, print a bcrypt hash
  gatewatch version
`

func buildVersion() string {
	if version != "dev" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return version
}

// loadConfig reads FILE (or the embedded default when path is empty) and
// applies the environment on top.
func loadConfig(path string, getenv func(string) string) (*config.Config, error) {
	var (
		cfg *config.Config
		err error
	)
	if path == "" {
		path = getenv("GATEWATCH_CONFIG")
	}
	if path == "" {
		cfg, err = config.Default()
	} else {
		cfg, err = config.Load(path)
	}
	if err != nil {
		return nil, err
	}
	if err := cfg.ApplyEnv(getenv); err != nil {
		return nil, err
	}
	return cfg, nil
}

// configError exits 2, as check-config promises, for a config problem.
func configError(err error) error {
	var ce *config.Error
	if errors.As(err, &ce) {
		return exitError{2, err}
	}
	return err
}

func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

func checkConfig(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet("check-config", stderr)
	path := fs.String("config", "", "config file (default: the embedded default)")
	if err := fs.Parse(args); err != nil {
		return exitError{2, err}
	}
	cfg, err := loadConfig(*path, getenv)
	if err != nil {
		return configError(err)
	}
	fmt.Fprintf(stdout, "%s: ok (%d sites)\n", cfg.Source, len(cfg.Sites))
	return nil
}
