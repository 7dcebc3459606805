# pkg: build, test, benchmark and lint. Everything a target needs is
# installed or built by the target itself, so a fresh machine with Go works.

GO      ?= go
BIN     := bin/pkg
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo v0.1.0-dev)
COMMIT  ?= $(shell git rev-parse HEAD 2>/dev/null)
TREE    ?= $(shell test -z "$$(git status --porcelain 2>/dev/null)" && echo clean || echo dirty)
LDFLAGS := -s -w -X pkg.dev/pkg/cmd/pkg/internal/cli.version=$(VERSION) -X pkg.dev/pkg/cmd/pkg/internal/cli.gitCommit=$(COMMIT) -X pkg.dev/pkg/cmd/pkg/internal/cli.gitTreeState=$(TREE)
# The upstream reference, built exactly as released (see bench/helm-ref.sh).
HELM_REF := $(CURDIR)/.cache/helm-ref/helm
# Helm v4, for the tests that prove it works against the bundled orchestrator.
HELM_V4  := $(CURDIR)/.cache/helm-v4/helm

.PHONY: all build run test test-short bench lint fmt vet helm-ref helm-v4 docs clean

all: build

build:
	$(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/pkg

# The main job: start the bundled orchestrator (unless it runs) and
# install the example chart on it, as a release helm can read too. Run it
# again to upgrade the release in place; `bin/pkg cluster down` stops it.
KUBECONFIG_PKG = $$(./$(BIN) cluster kubeconfig --path)
run: build
	@./$(BIN) cluster status | grep -q running || ./$(BIN) cluster up
	./$(BIN) upgrade --install hello testdata/charts/hello --kubeconfig "$(KUBECONFIG_PKG)"
	./$(BIN) list --kubeconfig "$(KUBECONFIG_PKG)"

helm-ref:
	bash bench/helm-ref.sh "$(dir $(HELM_REF))"

helm-v4:
	bash bench/helm-v4.sh "$(dir $(HELM_V4))"

# Every test, slow integration and differential ones included.
# The packages where goroutines share state (the release layer, the API
# server, its store, the controllers, the scheduler, the Service proxy)
# run a second time under the race detector.
RACE_PKGS = ./release/... ./orchestrator/store/... ./orchestrator/apiserver/... \
	./orchestrator/controllers/... ./orchestrator/scheduler/... ./orchestrator/proxy/...

test: helm-ref helm-v4
	PKG_HELM_REF=$(HELM_REF) PKG_HELM_V4=$(HELM_V4) $(GO) test -count=1 ./...
	@if [ "$$($(GO) env CGO_ENABLED)" = 1 ] && command -v "$$($(GO) env CC)" >/dev/null 2>&1; then \
		echo "$(GO) test -race -count=1 $(RACE_PKGS)"; \
		PKG_HELM_REF=$(HELM_REF) PKG_HELM_V4=$(HELM_V4) $(GO) test -race -count=1 $(RACE_PKGS); \
	elif [ -n "$$PKG_REQUIRE_RACE" ]; then \
		echo "the race detector needs cgo and a C compiler ($$($(GO) env CC)): install gcc" >&2; exit 1; \
	else \
		echo "skipping the race detector's pass: it needs cgo and a C compiler ($$($(GO) env CC))"; \
	fi

test-short:
	$(GO) test -short ./...

bench: build helm-ref
	$(GO) test -run '^$$' -bench . -benchmem ./render/ ./chart/
	HELM=$(HELM_REF) PKG=$(CURDIR)/$(BIN) bash bench/template.sh

fmt:
	gofmt -w $$(git ls-files '*.go')

vet:
	$(GO) vet ./...

lint: vet
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) run ./internal/importcheck

docs:
	HELM_NO_PLUGINS=1 $(GO) run ./cmd/pkg docs --dir docs/cli

clean:
	rm -rf bin .cache
