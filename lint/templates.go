package lint

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"

	"sigs.k8s.io/yaml"

	"pkg.dev/pkg/chart"
	"pkg.dev/pkg/render"
)

// templatesPath is what findings about the chart as a whole are about.
const templatesPath = "templates/"

// templateChecks are the per-run helpers of the template rules.
type templateChecks struct {
	crdHook     *regexp.Regexp
	releaseTime *regexp.Regexp
	names       *nameRules
	deprecation *deprecationChecker
}

func newTemplateChecks(kv *render.KubeVersion) *templateChecks {
	return &templateChecks{
		crdHook:     regexp.MustCompile(`"?helm\.sh/hook"?:\s+crd-install`),
		releaseTime: regexp.MustCompile(`\.Release\.Time`),
		names:       newNameRules(),
		deprecation: newDeprecationChecker(kv),
	}
}

// templateRules loads and renders the chart in lint mode, then checks
// each template of the top-level chart and the objects it rendered. A
// missing templates/ folder is fine; a file named templates is not.
func (l *linter) templateRules() {
	if fi, err := os.Stat(filepath.Join(l.dir, chart.TemplatesDir)); err == nil && !fi.IsDir() {
		l.res.check(Warning, templatesPath, errors.New("not a directory"))
		return
	}
	c, err := chart.Load(l.dir)
	if !l.res.check(Error, templatesPath, helmLoadError(err, l.dir)) {
		return
	}
	rendered, ok := l.render(c)
	if !ok {
		return
	}
	checks := newTemplateChecks(l.opts.KubeVersion)
	for _, t := range c.Templates {
		if !l.checkTemplate(checks, t, rendered[path.Join(c.Name(), t.Name)]) {
			return
		}
	}
}

// render renders c as `helm lint` does; ok is false when linting should
// stop, with or without a finding.
func (l *linter) render(c *chart.Chart) (map[string]string, bool) {
	caps := render.DefaultCapabilities()
	if l.opts.KubeVersion != nil {
		caps.KubeVersion = *l.opts.KubeVersion
	}
	vals := l.opts.Values
	if vals == nil {
		vals = map[string]any{}
	}
	// Like Helm, say nothing when dependencies or values cannot be
	// processed: the other rules report those problems.
	if err := render.ProcessDependencies(c, vals); err != nil {
		return nil, false
	}
	cvals, err := render.CoalesceValues(c, vals)
	if err != nil {
		return nil, false
	}
	top, err := l.renderValues(c, cvals, caps)
	if !l.res.check(Error, templatesPath, err) {
		return nil, false
	}
	out, err := render.Engine{LintMode: true}.Render(c, top)
	if !l.res.check(Error, templatesPath, err) {
		return nil, false
	}
	return out, true
}

// renderValues builds what templates see, as Helm's lint does: the
// values are coalesced once more and checked against the schemas, and a
// kubeVersion constraint in Chart.yaml is not enforced.
func (l *linter) renderValues(c *chart.Chart, cvals map[string]any, caps *render.Capabilities) (map[string]any, error) {
	vals, err := render.CoalesceValues(c, cvals)
	if err != nil {
		return nil, err
	}
	if !l.opts.SkipSchemaValidation {
		if err := render.ValidateAgainstSchema(c, vals); err != nil {
			return nil, fmt.Errorf("values don't meet the specifications of the schema(s) in the following chart(s):\n%s", err.Error())
		}
	}
	// Unlike install and template, lint does not hold the chart to its
	// kubeVersion constraint, so RenderValues (which does not check it) is
	// all it needs.
	top, err := render.RenderValues(c, vals, render.ReleaseOptions{
		Name:      releaseName,
		Namespace: l.opts.Namespace,
	}, caps)
	if err != nil {
		return nil, err
	}
	return top, nil
}

// checkTemplate checks one template file and what it rendered to. It
// returns false when a rendered document does not parse: Helm stops
// linting templates there.
func (l *linter) checkTemplate(checks *templateChecks, t *chart.File, rendered string) bool {
	name := t.Name
	l.res.check(Error, name, allowedExtension(name))
	if checks.crdHook.Match(t.Data) {
		l.res.check(Warning, name, errors.New("manifest is a crd-install hook. This hook is no longer supported in v3 and all CRDs should also exist the crds/ directory at the top level of the chart"))
	}
	if checks.releaseTime.Match(t.Data) {
		l.res.check(Error, name, errors.New(".Release.Time has been removed in v3, please replace with the `now` function in your templates"))
	}
	// Only .yaml files are parsed; .yml files are not (as in Helm).
	if filepath.Ext(name) != ".yaml" || strings.TrimSpace(rendered) == "" {
		return true
	}
	l.res.check(Warning, name, topIndentLevel(rendered))
	dec := newObjectDecoder(rendered)
	for {
		var obj *K8sYamlStruct
		err := dec.next(&obj)
		if err == io.EOF {
			return true
		}
		if err != nil {
			l.res.check(Error, name, fmt.Errorf("unable to parse YAML: %w", err))
			return false
		}
		if obj == nil {
			continue
		}
		// Name and deprecation problems are warnings so that charts can
		// still support older clusters.
		l.res.check(Warning, name, checks.names.check(obj))
		l.res.check(Warning, name, checks.deprecation.check(obj))
		l.res.check(Error, name, matchSelector(obj, rendered))
		l.res.check(Error, name, listAnnotations(obj, rendered))
	}
}

// allowedExtension accepts the template extensions Helm knows.
func allowedExtension(name string) error {
	switch ext := filepath.Ext(name); ext {
	case ".yaml", ".yml", ".tpl", ".txt":
		return nil
	default:
		return fmt.Errorf("file extension '%s' not valid. Valid extensions are .yaml, .yml, .tpl, or .txt", ext)
	}
}

// topIndentLevel flags output whose first non-blank line is indented:
// depending on how the YAML is later read, it may parse differently.
func topIndentLevel(content string) error {
	sc := bufio.NewScanner(strings.NewReader(content))
	for sc.Scan() {
		line := sc.Text()
		if strings.TrimSpace(line) == "" {
			continue
		}
		if strings.HasPrefix(line, " ") || strings.HasPrefix(line, "\t") {
			return fmt.Errorf("document starts with an illegal indent: %q, which may cause parsing problems", line)
		}
		return nil
	}
	return sc.Err()
}

// matchSelector requires workload objects to declare a selector. Like
// Helm, it looks for the words anywhere in the template's output.
func matchSelector(obj *K8sYamlStruct, rendered string) error {
	switch obj.Kind {
	case "Deployment", "ReplicaSet", "DaemonSet", "StatefulSet":
		if !strings.Contains(rendered, "matchLabels") && !strings.Contains(rendered, "matchExpressions") {
			return fmt.Errorf("a %s must contain matchLabels or matchExpressions, and %q does not", obj.Kind, obj.Metadata.Name)
		}
	}
	return nil
}

// listAnnotations refuses helm.sh/resource-policy on the items of a List,
// where Helm would ignore it. Like Helm, it reads the items from the
// first document of the template's output.
func listAnnotations(obj *K8sYamlStruct, rendered string) error {
	if obj.Kind != "List" {
		return nil
	}
	var list struct {
		Items []struct {
			Metadata struct {
				Annotations map[string]string
			}
		}
	}
	if err := yaml.Unmarshal([]byte(rendered), &list); err != nil {
		return fmt.Errorf("unable to parse YAML: %w", err)
	}
	for _, item := range list.Items {
		if _, ok := item.Metadata.Annotations["helm.sh/resource-policy"]; ok {
			return errors.New("Annotation 'helm.sh/resource-policy' within List objects are ignored")
		}
	}
	return nil
}
