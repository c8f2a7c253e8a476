#!/usr/bin/env bash
# Everything the local stack and the tests need on a fresh Debian machine of our kind, so that
# README's commands (`npm ci`, `npm run local`, `npm test`) and .ci/run need no step by hand:
#   - Node 24 (scripts/ensure-node.sh: no root needed, cached outside the checkout);
#   - Debian packages: Redis, openssl (stack PKI), unzip + Maven + a JDK (Keycloak), and with
#     --with-browser chromium (the Bull Board UI test). Installed with apt-get when we are root
#     or have passwordless sudo; otherwise we stop and print the one command to run;
#   - Go (to build the control plane; not from Debian, whose Go is too old for Kubernetes);
#   - kubectl, built from the Go module proxy when the machine lacks it.
#
#   source scripts/setup.sh [--with-browser]          # this shell (used by .ci/run)
#   bash scripts/setup.sh [--with-browser] CMD ARGS   # runs CMD afterwards (used by npm scripts)
#
# KUP_SKIP_SYSTEM_SETUP=1 skips the Debian packages check (e.g. a machine set up another way).

_kup_setup_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=ensure-node.sh
source "$_kup_setup_dir/ensure-node.sh" || { return 1 2>/dev/null || exit 1; }

kup_setup_log() { printf '[setup %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

kup_ensure_debian_packages() {
  [[ "${KUP_SKIP_SYSTEM_SETUP:-}" == 1 ]] && return 0
  local required=(redis-server openssl unzip maven) missing=() pkg
  [[ "${1:-}" == --with-browser ]] && required+=(chromium)
  command -v java >/dev/null 2>&1 || required+=(default-jdk-headless)
  if ! command -v dpkg-query >/dev/null 2>&1; then
    kup_setup_log "not a Debian machine: install ${required[*]} yourself, then set KUP_SKIP_SYSTEM_SETUP=1"
    return 1
  fi
  for pkg in "${required[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  ((${#missing[@]})) || return 0
  local sudo=()
  if [[ $(id -u) != 0 ]]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
      sudo=(sudo -n)
    else
      kup_setup_log "missing Debian packages: ${missing[*]}. Run this once, then the same npm command again:"
      printf '\n    sudo apt-get update && sudo apt-get install -y %s\n\n' "${missing[*]}" >&2
      return 1
    fi
  fi
  kup_setup_log "installing Debian packages ${missing[*]} (apt-get; a minute or two)"
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null || {
    kup_setup_log "apt-get install ${missing[*]} failed"
    return 1
  }
  kup_setup_log "installed ${missing[*]}"
}

kup_ensure_go_and_kubectl() {
  if ! command -v go >/dev/null 2>&1; then
    kup_setup_log "Go 1.25+ is needed to build the control plane: see https://go.dev/doc/install (docs/local-stack.md)"
    return 1
  fi
  # kubectl: `npm run local` applies the trainee ClusterRole with it and the deploy tests render
  # k8s/ with it. Built from the Go module proxy at the stack's Kubernetes version if absent.
  if ! command -v kubectl >/dev/null 2>&1; then
    local dir
    dir=$(bash "$_kup_setup_dir/../tools/stack/scripts/build-control-plane.sh" kubectl-dir)
    if [[ ! -x "$dir/kubectl" ]]; then
      kup_setup_log "kubectl not found: building it from the Go module proxy (first time: several minutes)"
      bash "$_kup_setup_dir/../tools/stack/scripts/build-control-plane.sh" kubectl >&2 || return 1
    fi
    PATH="$dir:$PATH"
    export PATH
  fi
}

kup_setup() {
  kup_ensure_debian_packages "$@" && kup_ensure_go_and_kubectl
}

if [[ "${BASH_SOURCE[0]}" != "$0" ]]; then
  kup_setup "$@"
else
  set -euo pipefail
  with_browser=()
  if [[ "${1:-}" == --with-browser ]]; then with_browser=(--with-browser); shift; fi
  kup_setup "${with_browser[@]}"
  (($# == 0)) && exit 0
  exec "$@"
fi
