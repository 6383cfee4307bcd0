# gatewatch — `make run` serves the embedded default; `make test` runs everything.
SHELL := /bin/bash
# The approved toolchain: the go command fetches it when the local one is older.
export GOTOOLCHAIN := go1.27.3
GO ?= go
TEMPL_VERSION := $(shell awk '$$1=="github.com/a-h/templ"{print $$2}' go.mod)
GOBIN := $(shell $(GO) env GOPATH)/bin
TEMPL := $(GOBIN)/templ
STATICCHECK_VERSION := v0.8.2
STATICCHECK := $(GOBIN)/staticcheck
BIN := bin/gatewatch
GO_TEST_FLAGS ?= -count=1 -timeout 15m

VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)
IMAGE ?= localhost/gatewatch:$(VERSION)

.PHONY: run build install image test generate lint deps tools check-generated bench soak fuzz screenshots clean browser-names

run: generate
	@echo "compiling gatewatch (the first build takes a minute or two)…"
	$(GO) build -o $(BIN) ./cmd/gatewatch
	$(BIN) serve

build: generate
	$(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/gatewatch

# install puts gatewatch in $(GOBIN), which must be on your PATH.
install: generate
	@echo "compiling and installing gatewatch into $(GOBIN)…"
	$(GO) install -trimpath -ldflags "$(LDFLAGS)" ./cmd/gatewatch
	@case ":$$PATH:" in *":$(GOBIN):"*) echo "installed: $(GOBIN)/gatewatch";; \
	  *) echo "installed $(GOBIN)/gatewatch; add it to your PATH: export PATH=\"\$$PATH:$(GOBIN)\"";; esac

# image builds the container image (Containerfile, FROM scratch) with
# podman from the static binary built here: no base image to pull.
image: generate
	rm -rf bin/image && mkdir -p bin/image/etc/ssl/certs bin/image/data
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o bin/image/gatewatch ./cmd/gatewatch
	echo 'gatewatch:x:65532:65532:gatewatch:/data:/sbin/nologin' > bin/image/etc/passwd
	echo 'gatewatch:x:65532:' > bin/image/etc/group
	cp /etc/ssl/certs/ca-certificates.crt bin/image/etc/ssl/certs/
	podman build --format docker -t $(IMAGE) -f Containerfile bin/image
	@echo "built $(IMAGE)"

# test is what CI runs: it installs what the tests need first, so that it
# passes on a fresh machine. The e2e tests (real nginx, proxies, Chromium)
# are behind the e2e build tag, so that a plain `go test ./...` stays fast.
test: deps tools check-generated lint
	$(GO) test $(GO_TEST_FLAGS) ./...
	$(GO) test $(GO_TEST_FLAGS) -tags e2e ./e2e
	$(GO) test -count=1 -race -timeout 10m ./handlers/... ./internal/monitor/... ./internal/incident/... ./internal/nginxlog/...
	$(MAKE) --no-print-directory fuzz FUZZTIME=3s

generate: tools
	$(TEMPL) generate

# check-generated fails when templ's output is not what is committed.
check-generated: tools
	$(TEMPL) generate
	@if git rev-parse --git-dir >/dev/null 2>&1; then \
	  git diff --exit-code -- '*_templ.go' || { echo "templ generate changed files: run 'make generate' and commit them"; exit 1; }; \
	fi

# lint: gofmt, vet and staticcheck (both with the e2e tag, so that they see
# every file: the tag only adds e2e/), and go.mod/go.sum as go mod tidy
# would write them.
lint: tools
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt needed: $$out"; exit 1; fi
	$(GO) vet -tags e2e ./...
	$(STATICCHECK) -tags e2e ./...
	$(GO) mod tidy -diff

# tools installs templ (the version go.mod names) and staticcheck, each only
# when missing or of another version.
tools: $(TEMPL)
	@$(STATICCHECK) -version 2>/dev/null | grep -qF "($(STATICCHECK_VERSION:v%=%))" || \
	  { echo "installing staticcheck $(STATICCHECK_VERSION)"; $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION); }
$(TEMPL):
	$(GO) install github.com/a-h/templ/cmd/templ@$(TEMPL_VERSION)

# deps installs Debian's nginx, chromium and PostgreSQL when missing
# (idempotent; needs root or sudo), downloads the Go modules, and axe-core
# (npm) for the accessibility audit.
deps:
	@bash .ci/deps.sh
	$(GO) mod download
	@test -f e2e/node_modules/axe-core/axe.min.js || npm ci --prefix e2e --no-audit --no-fund

# bench: Go benchmarks, then the loopback load harness (gatewatch vs nginx
# with wrk) and the herd measurement; BENCHMARKS.md explains the output.
bench: build
	@command -v wrk >/dev/null && command -v strace >/dev/null || bash -c 'sudo=; [ "$$(id -u)" -eq 0 ] || sudo=sudo; $$sudo apt-get install -y -qq wrk strace'
	$(GO) test -run '^$$' -bench . -benchmem ./...
	$(GO) run ./cmd/loadbench -gatewatch $(BIN)
	$(GO) run ./cmd/loadbench -gatewatch $(BIN) -herd
	$(GO) run ./cmd/loadbench -gatewatch $(BIN) -aged 1300000 -rounds 3

# soak runs the reliability tests in their long forms (about 5 minutes).
soak: deps
	GATEWATCH_SOAK=1 $(GO) test -count=1 -timeout 30m -tags e2e -run '^TestReliability' -v ./e2e

# fuzz runs every fuzz target for FUZZTIME from its committed corpus
# (testdata/fuzz); make test runs them briefly.
FUZZTIME ?= 60s
FUZZ_TARGETS := FuzzNegotiate:./locales FuzzParse:./internal/config FuzzPublicHeaders:./handlers/public FuzzPreparedEqualsDirect:./handlers/public FuzzMailEscapeIsQueryEscape:./handlers/public FuzzCRC32Combine:./handlers/public FuzzParseLine:./internal/nginxlog
fuzz:
	@for t in $(FUZZ_TARGETS); do \
	  name=$${t%%:*}; pkg=$${t#*:}; \
	  echo "fuzz $$name ($$pkg, $(FUZZTIME))"; \
	  $(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	done

# screenshots writes PNGs of the pages into docs/ (real nginx and Chromium).
screenshots: deps tools
	$(GO) test -count=1 -tags e2e -run '^Test(Admin)?Screenshots$$' ./e2e -args -screenshots=../docs

clean:
	rm -rf bin

# browser-names re-extracts the menu names Chromium and Firefox ship in
# each language (Debian's chromium-l10n, firefox-esr-l10n-all), which the
# locales' TestMenuNamesAreTheBrowsers checks the steps against.
browser-names: deps
	$(GO) run ./cmd/browsernames -out locales/testdata/browser-names.json
