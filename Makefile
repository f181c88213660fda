# Thin aliases for the original project's make targets; pnpm does the work.
.PHONY: all build test dev-cluster stop-cluster clean

all: build

build:
	pnpm install --frozen-lockfile
	pnpm build

test:
	pnpm test

dev-cluster: build
	pnpm dev-cluster

stop-cluster:
	pnpm stop-cluster

clean:
	rm -rf build packages/*/dist apps/*/dist .turbo
