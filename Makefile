# The two commands of the README, and what CI runs. Each target installs what it needs.
SHELL := /bin/bash
HOSTS := $(or $(NOKUBE_TESTHOSTS_BASE),/var/lib)/nokube-testhosts
CLI := node dist/cli/index.js
DEMO_CONFIG := examples/testhosts-ray-config.yaml
DEMO_FLAGS := --config $(DEMO_CONFIG) --user nokube --identity $(HOSTS)/client/id_ed25519 --known-hosts $(HOSTS)/client/known_hosts

.PHONY: demo demo-status demo-stop demo-clean test deps node-deps lint check-dist ci bench

# The test hosts are network namespaces with their own sshd: these goals need root. Run as root (a
# fresh Debian machine, no sudo installed) they run as they are; otherwise make runs itself again
# through sudo (a laptop), keeping PATH so root finds the same node and npm.
NEEDS_ROOT := demo demo-status demo-stop demo-clean test ci bench
GOALS := $(or $(MAKECMDGOALS),demo)
ifneq ($(shell id -u),0)
ifneq ($(filter $(NEEDS_ROOT),$(GOALS)),)
ifneq ($(shell command -v sudo 2>/dev/null),)
AGAIN_WITH_SUDO := 1
endif
endif
endif

ifdef AGAIN_WITH_SUDO
$(firstword $(GOALS)):
	@echo "make $(GOALS): the test hosts need root; running it again with sudo" >&2
	@sudo -E env "PATH=$$PATH" $(MAKE) --no-print-directory $(GOALS)
$(wordlist 2,$(words $(GOALS)),$(GOALS)): $(firstword $(GOALS))
	@:
else

## demo: three local test hosts (root), the example cluster deployed on them with the real CLI, its status.
demo:
	@[ "$$(id -u)" = 0 ] || { echo "make demo needs root (the test hosts are network namespaces): run it as root, or install sudo" >&2; exit 2; }
	@bash scripts/setup-test-env.sh
	@bash scripts/testhosts.sh up 3
	$(CLI) ray start $(DEMO_FLAGS)
	$(CLI) ray status $(DEMO_FLAGS)
	@echo
	@echo "A small Ray job through the head over SSH: one task on every node prints its hostname."
	$(CLI) ray job submit $(DEMO_FLAGS) --working-dir examples/smoke -- python hostnames.py
	@echo
	@echo "The cluster runs on test hosts nkh1..nkh3 (10.88.0.11-13). Dashboard: http://10.88.0.11:8265"
	@echo "  a job:           $(CLI) ray job submit $(DEMO_FLAGS) -- python -c 'import ray; ray.init(); print(ray.cluster_resources())'"
	@echo "  on every node:   $(CLI) ray exec $(DEMO_FLAGS) --all -- ray --version"
	@echo "  Ray's own tools: eval \"\$$($(CLI) ray env $(DEMO_FLAGS))\" && ray job list"
	@echo "  status:          make demo-status"
	@echo "  stop the cluster: make demo-stop"
	@echo "  remove the hosts: make demo-clean   (stops the cluster first)"

demo-status:
	$(CLI) ray status $(DEMO_FLAGS)

demo-stop:
	$(CLI) ray stop $(DEMO_FLAGS)

demo-clean:
	-$(CLI) ray stop $(DEMO_FLAGS)
	bash scripts/testhosts.sh down

node-deps:
	@[ -d node_modules/.bin ] && [ node_modules/.package-lock.json -nt package-lock.json ] || npm ci --no-audit --no-fund

deps: node-deps
	@if [ "$$(id -u)" = 0 ]; then bash scripts/setup-test-env.sh; else echo "not root and no sudo: the end-to-end tests' packages are not installed (those tests skip)" >&2; fi

## test: every test: unit (vitest), remote_lib (pytest), end to end on real sshd + Ray test hosts (root).
test: deps
	@bash scripts/run-tests.sh

lint: node-deps
	npx tsc --noEmit
	npx eslint .
	npx prettier --check .

## check-dist: dist/ must be exactly what src/ builds to, and remote_lib/nokube_remote.py what its modules join to.
check-dist: node-deps
	npm run bundle
	@git diff --exit-code --stat -- remote_lib/nokube_remote.py || { echo "remote_lib/nokube_remote.py differs from its modules (remote_lib/src/nokube_remote/) joined: run 'npm run bundle' and commit it"; exit 1; }
	@git diff --exit-code --stat -- dist/ || { echo "dist/ differs from a fresh build of src/: run 'npm run bundle' and commit dist/"; exit 1; }
	@[ -z "$$(git ls-files --others --exclude-standard -- dist/)" ] || { git ls-files --others --exclude-standard -- dist/; echo "the build wrote files in dist/ that are not committed: commit them"; exit 1; }
	@[ -z "$$(git status --porcelain -- dist/)" ] || { git status --short -- dist/; echo "dist/ has files a fresh build does not: rebuild and commit"; exit 1; }

ci: lint check-dist test

bench: deps
	npm run bench

endif
