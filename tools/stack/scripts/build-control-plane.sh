#!/usr/bin/env bash
# Builds kube-apiserver, kube-controller-manager and etcd from the Go module proxy.
# Binaries are cached outside the checkout, keyed by version, and rebuilt only when
# the version changes. The first build takes several minutes on 2 cores.
set -euo pipefail

K8S_VERSION="${K8S_VERSION:-v1.35.4}"
ETCD_VERSION="${ETCD_VERSION:-v3.6.16}"
CACHE_DIR="${KUP_CACHE_DIR:-$HOME/.cache/k8s-user-provisioner}"

log() { printf '[build %s] %s\n' "$(date +%H:%M:%S)" "$*"; }

# A scratch module that requires k8s.io/kubernetes and replaces each staging module it
# requires at v0.0.0 by the published v0.<minor>.<patch>; then `go get` of the commands.
kubernetes_module() {
  local work=$1; shift
  local minor patch staging gomod
  IFS=. read -r _ minor patch <<<"${K8S_VERSION#v}"
  staging="v0.$minor.$patch"
  rm -rf "$work" && mkdir -p "$work" && cd "$work"
  log "kubernetes $K8S_VERSION: resolving modules (staging modules at $staging)"
  go mod init kup.local/kubernetes-build >/dev/null 2>&1
  gomod=$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
  awk '$1 ~ /^k8s\.io\// && $2 == "v0.0.0" { print $1 }' "$gomod" | sort -u | while read -r mod; do
    go mod edit -replace "$mod=$mod@$staging"
  done
  local cmd
  for cmd in "$@"; do go get "k8s.io/kubernetes/cmd/$cmd@$K8S_VERSION"; done
}

# `go build -v` with a progress line every 30 s: `go build -v` names each package it compiles,
# `go list -deps` says how many there are, so the line shows what remains and a time estimate
# from the rate so far (a warm build cache compiles fewer, and simply finishes early).
go_build_progress() {
  local label=$1; shift
  local total
  total=$(go list -deps "${@: -1}" | wc -l)
  # pipefail (set above) makes a failed `go build` fail this pipeline.
  go build -v "$@" 2>&1 | progress_lines "$label" "$total"
}

progress_lines() {
  local label=$1 total=$2 n=0 start=$SECONDS last=$SECONDS line left
  while IFS= read -r line; do
    if [[ ! "$line" =~ ^[A-Za-z0-9._/~+-]+$ ]]; then
      printf '%s\n' "$line" >&2 # not a package path: a compiler message, show it
      continue
    fi
    n=$((n + 1))
    if ((SECONDS - last >= ${PROGRESS_EVERY:-30})); then
      last=$SECONDS
      left=$(( (SECONDS - start) * (total - n) / n ))
      ((left < 0)) && left=0
      log "$label: compiled $n of $total packages, about $(( (left + 59) / 60 )) min left"
    fi
  done
}

# Builds k8s.io/kubernetes/cmd/<name> into $out with version ldflags.
kubernetes_build() {
  local out=$1 cmd=$2 minor pkg=k8s.io/component-base/version
  IFS=. read -r _ minor _ <<<"${K8S_VERSION#v}"
  local ldflags="-s -w -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
  ldflags="$ldflags -X k8s.io/client-go/pkg/version.gitVersion=$K8S_VERSION"
  log "kubernetes $K8S_VERSION: building $cmd (cold cache: several minutes)"
  CGO_ENABLED=0 go_build_progress "kubernetes $K8S_VERSION: $cmd" -trimpath -ldflags "$ldflags" -o "$out/$cmd" "k8s.io/kubernetes/cmd/$cmd"
}

build_kubernetes() {
  local out="$CACHE_DIR/bin/kubernetes-$K8S_VERSION"
  if [[ -x "$out/kube-apiserver" && -x "$out/kube-controller-manager" ]]; then
    log "kubernetes $K8S_VERSION already built in $out"
    return
  fi
  log "kubernetes $K8S_VERSION: 3 steps on a cold cache (about 12 minutes in all on 2 cores): resolve modules, build kube-apiserver, build kube-controller-manager"
  kubernetes_module "$CACHE_DIR/build/kubernetes-$K8S_VERSION" kube-apiserver kube-controller-manager
  mkdir -p "$out.tmp"
  log "kubernetes $K8S_VERSION: step 2 of 3"
  kubernetes_build "$out.tmp" kube-apiserver
  log "kubernetes $K8S_VERSION: step 3 of 3"
  kubernetes_build "$out.tmp" kube-controller-manager
  rm -rf "$out" && mv "$out.tmp" "$out"
  log "kubernetes $K8S_VERSION built in $out"
}

# kubectl, for machines whose image lacks it (the deploy tests use it); same version.
build_kubectl() {
  local out="$CACHE_DIR/bin/kubectl-$K8S_VERSION"
  if [[ -x "$out/kubectl" ]]; then
    log "kubectl $K8S_VERSION already built in $out"
    return
  fi
  kubernetes_module "$CACHE_DIR/build/kubectl-$K8S_VERSION" kubectl
  mkdir -p "$out.tmp"
  kubernetes_build "$out.tmp" kubectl
  rm -rf "$out" && mv "$out.tmp" "$out"
  log "kubectl $K8S_VERSION built in $out"
}

build_etcd() {
  local out="$CACHE_DIR/bin/etcd-$ETCD_VERSION"
  if [[ -x "$out/etcd" ]]; then
    log "etcd $ETCD_VERSION already built in $out"
    return
  fi
  local work="$CACHE_DIR/build/etcd-$ETCD_VERSION"
  rm -rf "$work" && mkdir -p "$work" && cd "$work"
  log "etcd $ETCD_VERSION: resolving modules"
  go mod init kup.local/etcd-build >/dev/null 2>&1
  go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION"
  mkdir -p "$out.tmp"
  log "etcd $ETCD_VERSION: building (cold cache: about 1 minute)"
  CGO_ENABLED=0 go_build_progress "etcd $ETCD_VERSION" -trimpath -ldflags "-s -w" -o "$out.tmp/etcd" go.etcd.io/etcd/server/v3
  rm -rf "$out" && mv "$out.tmp" "$out"
  log "etcd $ETCD_VERSION built in $out"
}

case "${1:-all}" in
  kubernetes) build_kubernetes ;;
  kubectl) build_kubectl ;;
  kubectl-dir) echo "$CACHE_DIR/bin/kubectl-$K8S_VERSION" ;;
  etcd) build_etcd ;;
  all) build_etcd; build_kubernetes ;;
  *) echo "usage: $0 [all|kubernetes|etcd|kubectl|kubectl-dir]" >&2; exit 2 ;;
esac
