#!/usr/bin/env bash
# Idempotent: a local package index of Ray wheels for the install e2e tests (the test hosts reach no
# network but the bridge). Downloads ray[default] at two versions (an upgrade between them) and the newest
# Ray without token authentication (2.51.2, before 2.52: the old-ray tests) with their
# dependencies for the test hosts' Python (/usr/bin/python3), and a few small pure-Python packages
# without dependencies for ray_spec.install.requirements (tabulate, toolz at two versions) and uv
# (the fast installer), once, into a cache outside the repo:
#   $NOKUBE_WHEELS (default /var/cache/nokube-wheels)/files/*.whl      (pip download)
#   $NOKUBE_WHEELS/simple/<project>/<file>  symlinks: a PEP 503 index `python3 -m http.server` can serve
# A re-run with the cache complete costs one directory check.
set -euo pipefail
DIR=${NOKUBE_WHEELS:-/var/cache/nokube-wheels}
VERSIONS=${NOKUBE_WHEEL_RAY_VERSIONS:-"2.51.2 2.59.0 2.60.0"}
say() { echo "prepare-wheels: $*" >&2; }
mkdir -p "$DIR/files"
for v in $VERSIONS; do
  [ -f "$DIR/.done-$v" ] && continue
  say "downloading ray[default]==$v and its dependencies into $DIR/files (once)"
  /usr/bin/python3 -m pip download -q --disable-pip-version-check --only-binary=:all: \
    --dest "$DIR/files" "ray[default]==$v" pip setuptools wheel
  touch "$DIR/.done-$v"
done
EXTRAS=${NOKUBE_WHEEL_EXTRAS:-"tabulate==0.9.0 toolz==0.12.1 toolz==1.0.0 uv==0.13.10"}
for r in $EXTRAS; do
  [ -f "$DIR/.done-$r" ] && continue
  say "downloading $r into $DIR/files (once)"
  /usr/bin/python3 -m pip download -q --disable-pip-version-check --only-binary=:all: --no-deps --dest "$DIR/files" "$r"
  touch "$DIR/.done-$r"
done
# the index: one directory per normalized project name (PEP 503), links to the downloaded files
if [ ! -f "$DIR/.index" ] || [ -n "$(find "$DIR/files" -newer "$DIR/.index" -name '*.whl' -print -quit)" ]; then
  rm -rf "$DIR/simple.new" && mkdir -p "$DIR/simple.new"
  for f in "$DIR"/files/*.whl "$DIR"/files/*.tar.gz; do
    [ -e "$f" ] || continue
    base=$(basename "$f")
    project=$(echo "${base%%-[0-9]*}" | tr 'A-Z_.' 'a-z--')
    mkdir -p "$DIR/simple.new/$project"
    ln -sf "$f" "$DIR/simple.new/$project/$base"
  done
  rm -rf "$DIR/simple" && mv "$DIR/simple.new" "$DIR/simple"
  touch "$DIR/.index"
fi
chmod -R a+rX "$DIR"
