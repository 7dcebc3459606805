// Package plugin finds, runs and installs Helm plugins: directories
// holding a plugin.yaml, under $HELM_PLUGINS, that add a command to the
// CLI (helm-diff, helm-secrets, helm-unittest, ...). pkg reads the same
// directories and the same plugin.yaml as Helm 3, so a plugin installed by
// either is seen by both.
package plugin

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"

	"sigs.k8s.io/yaml"
)

// MetadataFile is the file that makes a directory a plugin.
const MetadataFile = "plugin.yaml"

// Hook events.
const (
	HookInstall = "install"
	HookUpdate  = "update"
	HookDelete  = "delete"
)

// Command is a command for one platform: OS and Arch empty match any.
type Command struct {
	OS      string   `json:"os"`
	Arch    string   `json:"arch"`
	Command string   `json:"command"`
	Args    []string `json:"args"`
}

// Metadata is a plugin.yaml.
type Metadata struct {
	Name        string `json:"name"`
	Version     string `json:"version"`
	Usage       string `json:"usage"`
	Description string `json:"description"`
	// IgnoreFlags drops the user's arguments instead of passing them on.
	IgnoreFlags bool `json:"ignoreFlags"`
	// Command is the command line, split on spaces; PlatformCommand,
	// when set, replaces it with one per platform.
	Command         string               `json:"command"`
	PlatformCommand []Command            `json:"platformCommand"`
	Hooks           map[string]string    `json:"hooks"`
	PlatformHooks   map[string][]Command `json:"platformHooks"`
	// Downloaders fetch chart repositories' URLs of other schemes
	// (s3://, gs://, git+https://, ...).
	Downloaders []Downloader `json:"downloaders"`
}

// Downloader is a program that prints the content of a URL of one of its
// protocols; it is called with the repository's certificate, key and CA
// files and the URL after its own arguments.
type Downloader struct {
	Command   string   `json:"command"`
	Protocols []string `json:"protocols"`
}

// DownloadCommand returns the program and arguments that fetch rawURL
// with d, a downloader of p: the command, relative to the plugin's
// directory unless absolute, with its variables expanded.
func (p *Plugin) DownloadCommand(d Downloader, certFile, keyFile, caFile, rawURL string, expand func(string) string) (string, []string) {
	parts := strings.Split(d.Command, " ")
	main := os.Expand(parts[0], expand)
	if !filepath.IsAbs(main) {
		main = filepath.Join(p.Dir, main)
	}
	var argv []string
	for _, a := range parts[1:] {
		argv = append(argv, os.Expand(a, expand))
	}
	return main, append(argv, certFile, keyFile, caFile, rawURL)
}

// Plugin is an installed plugin.
type Plugin struct {
	// Dir is the plugin's directory under the plugins directory (a
	// symbolic link for plugins installed from a path or a repository).
	Dir      string
	Metadata Metadata
}

var validName = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// Load reads the plugin in dir.
func Load(dir string) (*Plugin, error) {
	path := filepath.Join(dir, MetadataFile)
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	p := &Plugin{Dir: dir}
	if err := yaml.Unmarshal(data, &p.Metadata); err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	if !validName.MatchString(p.Metadata.Name) {
		return nil, fmt.Errorf("invalid plugin name %q in %s: use only letters, digits, '_' and '-'", p.Metadata.Name, path)
	}
	return p, nil
}

// Find returns the plugins under each directory of dirs (a path list, as
// $HELM_PLUGINS may be), sorted by name within a directory, and an error
// for each directory entry that is not a valid plugin; a missing
// directory has none.
func Find(dirs string) ([]*Plugin, []error) {
	var found []*Plugin
	var errs []error
	for _, d := range filepath.SplitList(dirs) {
		entries, err := os.ReadDir(d)
		if err != nil {
			if !errors.Is(err, os.ErrNotExist) {
				errs = append(errs, err)
			}
			continue
		}
		for _, e := range entries {
			dir := filepath.Join(d, e.Name())
			if _, err := os.Stat(filepath.Join(dir, MetadataFile)); err != nil {
				continue
			}
			p, err := Load(dir)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			found = append(found, p)
		}
	}
	return found, errs
}

// pick chooses the command for this platform: an exact OS and
// architecture match first, then the first entry for this OS without an
// architecture, then the first entry for any platform.
func pick(cmds []Command) (Command, bool) {
	var osOnly, any *Command
	for i, c := range cmds {
		osMatch := strings.EqualFold(c.OS, runtime.GOOS)
		switch {
		case osMatch && strings.EqualFold(c.Arch, runtime.GOARCH):
			return c, true
		case c.Arch != "":
		case osMatch && osOnly == nil:
			osOnly = &cmds[i]
		case c.OS == "" && any == nil:
			any = &cmds[i]
		}
	}
	if osOnly != nil {
		return *osOnly, true
	}
	if any != nil {
		return *any, true
	}
	return Command{}, false
}

// Exec returns the program and arguments that run the plugin with the
// user's args (dropped with ignoreFlags). expand resolves $VARIABLES in
// the command and its arguments, against the plugin's environment.
func (p *Plugin) Exec(args []string, expand func(string) string) (string, []string, error) {
	cmds := p.Metadata.PlatformCommand
	if len(cmds) == 0 && p.Metadata.Command != "" {
		cmds = []Command{{Command: p.Metadata.Command}}
	}
	c, ok := pick(cmds)
	if !ok || c.Command == "" {
		return "", nil, fmt.Errorf("plugin %q has no command for %s/%s", p.Metadata.Name, runtime.GOOS, runtime.GOARCH)
	}
	parts := strings.Split(c.Command, " ")
	argv := make([]string, 0, len(parts)+len(c.Args)+len(args))
	for _, a := range append(parts[1:], c.Args...) {
		argv = append(argv, os.Expand(a, expand))
	}
	if !p.Metadata.IgnoreFlags {
		argv = append(argv, args...)
	}
	return os.Expand(parts[0], expand), argv, nil
}

// Hook returns the program and arguments of the plugin's hook for event;
// ok is false when it has none. A hook in hooks runs through sh -c, as
// written; one in platformHooks has its variables expanded.
func (p *Plugin) Hook(event string, expand func(string) string) (string, []string, bool) {
	if cmds := p.Metadata.PlatformHooks[event]; len(cmds) > 0 {
		c, ok := pick(cmds)
		if !ok || c.Command == "" {
			return "", nil, false
		}
		parts := strings.Split(c.Command, " ")
		var argv []string
		for _, a := range append(parts[1:], c.Args...) {
			argv = append(argv, os.Expand(a, expand))
		}
		return os.Expand(parts[0], expand), argv, true
	}
	if h := p.Metadata.Hooks[event]; h != "" {
		return "sh", []string{"-c", h}, true
	}
	return "", nil, false
}

// Named returns the plugin called name among ps, nil if none.
func Named(ps []*Plugin, name string) *Plugin {
	i := slices.IndexFunc(ps, func(p *Plugin) bool { return p.Metadata.Name == name })
	if i < 0 {
		return nil
	}
	return ps[i]
}
