package config

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/pelletier/go-toml/v2"
)

// Problem is one thing wrong with a configuration, located in its file.
type Problem struct {
	File string
	Line int // 0 when the problem belongs to no line (a flag, the environment)
	Msg  string
}

func (p Problem) String() string {
	if p.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", p.File, p.Line, p.Msg)
	}
	return fmt.Sprintf("%s: %s", p.File, p.Msg)
}

// Error lists every problem found in a configuration, one per line, each
// shaped FILE:LINE: what is wrong.
type Error struct {
	Problems []Problem
}

func (e *Error) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// Default returns the embedded default configuration, validated.
func Default() (*Config, error) {
	wd, err := os.Getwd()
	if err != nil {
		wd = "."
	}
	return Parse(DefaultSource, wd, defaultTOML)
}

// Load reads, parses and validates the TOML file at path.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &Error{Problems: []Problem{{File: path, Msg: err.Error()}}}
	}
	dir, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		dir = filepath.Dir(path)
	}
	return Parse(path, dir, data)
}

// Parse decodes data, named name in messages, over the embedded default
// and validates it. Keys the file does not set keep their default values;
// unknown keys are errors, since a misspelt key silently ignored is an
// outage page nobody sees.
//
// The default's sites and admin users are the demo's, not defaults: a
// file starts without them, so that an empty or cut-short file is refused
// (it has no [[site]]) instead of becoming the demo shop whose
// admin/gatewatch login anyone knows.
func Parse(name, dir string, data []byte) (*Config, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, &Error{Problems: []Problem{{File: name, Msg: "the file is empty; a config needs at least one [[site]]"}}}
	}
	cfg := &Config{}
	if err := decode(defaultTOML, cfg); err != nil {
		return nil, fmt.Errorf("embedded default: %w", err)
	}
	if name != DefaultSource {
		cfg.Sites, cfg.Admin.Users = nil, nil
	}
	if err := decode(data, cfg); err != nil {
		return nil, &Error{Problems: decodeProblems(name, data, err)}
	}
	cfg.Source, cfg.Dir = name, dir
	if probs := cfg.validate(); len(probs) > 0 {
		lines := indexLines(data)
		out := make([]Problem, len(probs))
		for i, p := range probs {
			out[i] = Problem{File: name, Line: lines.lookup(p.key), Msg: p.key + ": " + p.msg}
		}
		return nil, &Error{Problems: out}
	}
	return cfg, nil
}

func decode(data []byte, cfg *Config) error {
	dec := toml.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	return dec.Decode(cfg)
}

func decodeProblems(name string, data []byte, err error) []Problem {
	var strict *toml.StrictMissingError
	if errors.As(err, &strict) {
		probs := make([]Problem, 0, len(strict.Errors))
		for _, e := range strict.Errors {
			row, _ := e.Position()
			probs = append(probs, Problem{File: name, Line: row,
				Msg: fmt.Sprintf("unknown key %q", strings.Join(e.Key(), "."))})
		}
		return probs
	}
	var de *toml.DecodeError
	if errors.As(err, &de) {
		row, _ := de.Position()
		return []Problem{{File: name, Line: row, Msg: strings.TrimPrefix(de.Error(), "toml: ")}}
	}
	return []Problem{{File: name, Msg: strings.TrimPrefix(err.Error(), "toml: ")}}
}

// ApplyEnv overrides settings from GATEWATCH_* variables read through
// getenv; it reports a variable whose value is not valid.
func (c *Config) ApplyEnv(getenv func(string) string) error {
	set := func(name string, dst *string) {
		if v := getenv(name); v != "" {
			*dst = v
		}
	}
	set("GATEWATCH_LISTEN", &c.Server.Listen)
	set("GATEWATCH_ADMIN_LISTEN", &c.Server.AdminListen)
	set("GATEWATCH_ADMIN_URL", &c.Server.AdminURL)
	set("GATEWATCH_DATA_DIR", &c.Server.DataDir)
	set("GATEWATCH_DEFAULT_LOCALE", &c.Server.DefaultLocale)
	set("GATEWATCH_STORE_DSN", &c.Store.DSN)
	set("GATEWATCH_NGINX_ERROR_LOG", &c.Nginx.ErrorLog)
	set("GATEWATCH_METRICS_TOKEN", &c.Admin.MetricsToken)
	if v := getenv("GATEWATCH_TRUSTED_PROXIES"); v != "" {
		c.Server.TrustedProxies = splitList(v)
	}
	return c.Recheck("environment")
}

// Recheck validates c after a change from outside the file (environment,
// flags), naming source in the problems.
func (c *Config) Recheck(source string) error {
	probs := c.validate()
	if len(probs) == 0 {
		return nil
	}
	out := make([]Problem, len(probs))
	for i, p := range probs {
		out[i] = Problem{File: source, Msg: p.key + ": " + p.msg}
	}
	return &Error{Problems: out}
}

func splitList(v string) []string {
	return strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' })
}
