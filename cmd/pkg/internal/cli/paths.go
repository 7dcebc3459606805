package cli

import "path/filepath"

// helmPaths locates Helm's configuration, cache and data directories the
// way Helm does on Linux, so that pkg reads and writes the same files:
// $HELM_CONFIG_HOME, else $XDG_CONFIG_HOME/helm, else ~/.config/helm (and
// likewise for the cache and data homes).
type helmPaths struct{ env Env }

func (p helmPaths) home(helmVar, xdgVar, fallback string, elem []string) string {
	if base := p.env.getenv(helmVar); base != "" {
		return filepath.Join(append([]string{base}, elem...)...)
	}
	base := p.env.getenv(xdgVar)
	if base == "" {
		base = filepath.Join(p.env.getenv("HOME"), fallback)
	}
	return filepath.Join(append([]string{base, "helm"}, elem...)...)
}

func (p helmPaths) config(elem ...string) string {
	return p.home("HELM_CONFIG_HOME", "XDG_CONFIG_HOME", ".config", elem)
}

func (p helmPaths) cache(elem ...string) string {
	return p.home("HELM_CACHE_HOME", "XDG_CACHE_HOME", ".cache", elem)
}

func (p helmPaths) data(elem ...string) string {
	return p.home("HELM_DATA_HOME", "XDG_DATA_HOME", filepath.Join(".local", "share"), elem)
}

// defaultKeyring is Helm's default public keyring: $GNUPGHOME/pubring.gpg,
// else ~/.gnupg/pubring.gpg.
func (p helmPaths) defaultKeyring() string {
	if v := p.env.getenv("GNUPGHOME"); v != "" {
		return filepath.Join(v, "pubring.gpg")
	}
	return filepath.Join(p.env.getenv("HOME"), ".gnupg", "pubring.gpg")
}
