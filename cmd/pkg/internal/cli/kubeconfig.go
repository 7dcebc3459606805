package cli

import (
	"os"
	"path/filepath"
	"strings"

	"sigs.k8s.io/yaml"
)

// kubeconfigFile is the part of a kubeconfig file that commands read
// without a cluster: the contexts and which one is current.
type kubeconfigFile struct {
	CurrentContext string `json:"current-context"`
	Contexts       []struct {
		Name    string `json:"name"`
		Context struct {
			Namespace string `json:"namespace"`
		} `json:"context"`
	} `json:"contexts"`
}

// kubeconfigPaths lists the kubeconfig files in kubectl's precedence:
// --kubeconfig, else each file of $KUBECONFIG, else ~/.kube/config.
func kubeconfigPaths(env Env, flag string) []string {
	if flag != "" {
		return []string{flag}
	}
	if v := env.getenv("KUBECONFIG"); v != "" {
		var out []string
		for _, p := range filepath.SplitList(v) {
			if p != "" {
				out = append(out, p)
			}
		}
		return out
	}
	home := env.getenv("HOME")
	if home == "" {
		return nil
	}
	return []string{filepath.Join(home, ".kube", "config")}
}

// contextNamespace returns the namespace of the kubeconfig context in use
// (--kube-context, else $HELM_KUBECONTEXT, else current-context), merging
// files as kubectl does: the first file to set a value wins. It returns ""
// when there is none; unreadable files are skipped as kubectl skips
// missing ones.
func contextNamespace(env Env, kubeconfig, kubeContext string) string {
	current := kubeContext
	if current == "" {
		current = env.getenv("HELM_KUBECONTEXT")
	}
	namespaces := map[string]string{}
	for _, p := range kubeconfigPaths(env, kubeconfig) {
		data, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		var kc kubeconfigFile
		if err := yaml.Unmarshal(data, &kc); err != nil {
			continue
		}
		if current == "" {
			current = kc.CurrentContext
		}
		for _, c := range kc.Contexts {
			if _, seen := namespaces[c.Name]; !seen {
				namespaces[c.Name] = c.Context.Namespace
			}
		}
	}
	return strings.TrimSpace(namespaces[current])
}
