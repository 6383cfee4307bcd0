// Package config holds gatewatch's configuration: the Config struct, the
// embedded default, loading from TOML, GATEWATCH_* environment overrides and
// validation whose errors name the file and line an operator has to fix.
//
// It knows nothing of HTTP or pages; cmd/gatewatch loads a Config and passes
// it down.
package config
