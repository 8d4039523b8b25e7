package main

import (
	"flag"
	"os"
	"strings"

	"github.com/reportline/reportline/relay/config"
)

// configFlags are the flags every command that reads the configuration
// takes: -config, and one flag per overridable [relay] key.
type configFlags struct {
	path   *string
	values map[string]*string // by key
	fs     *flag.FlagSet
}

func addConfigFlags(fs *flag.FlagSet, withPath bool) *configFlags {
	cf := &configFlags{values: map[string]*string{}, fs: fs}
	if withPath {
		cf.path = fs.String("config", envOr("RELAY_CONFIG", "relay.toml"), "configuration file (env RELAY_CONFIG)")
	}
	for _, k := range config.OverrideKeys {
		cf.values[k.Key] = fs.String(k.Flag, "", "override "+k.Key+": "+k.Usage+" (env "+k.Env+")")
	}
	return cf
}

// overrides returns the environment's overrides, then the flags that were
// given, so that a flag wins over its environment variable.
func (cf *configFlags) overrides() []config.Override {
	out := config.EnvOverrides(os.Getenv)
	cf.fs.Visit(func(f *flag.Flag) {
		for _, k := range config.OverrideKeys {
			if k.Flag == f.Name {
				out = append(out, config.Override{Key: k.Key, Value: *cf.values[k.Key], Source: "-" + f.Name})
			}
		}
	})
	return out
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// parseInterspersed parses flags that may come before, between or after
// the positional arguments ("purge ID --yes"), and returns the positional
// ones.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
		if len(args) == 0 || !strings.HasPrefix(args[0], "-") {
			for len(args) > 0 && !strings.HasPrefix(args[0], "-") {
				pos = append(pos, args[0])
				args = args[1:]
			}
			if len(args) == 0 {
				return pos, nil
			}
		}
	}
}
