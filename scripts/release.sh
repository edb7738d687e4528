#!/usr/bin/env bash
# Tags a release and moves the major tag users pin (`uses: nokube/ray-deploy@v1`).
#
#   scripts/release.sh vX.Y.Z           check, test, tag; print the push commands
#   scripts/release.sh vX.Y.Z --push    ... and push the tags
#
# Refuses a dirty tree, an existing tag, or a committed dist/ that differs from a fresh build.
set -euo pipefail

die() {
  echo "release: $*" >&2
  exit 1
}

version="${1:-}"
push=false
case "${2:-}" in
  '') ;;
  --push) push=true ;;
  *) die "unknown option ${2} (usage: scripts/release.sh vX.Y.Z [--push])" ;;
esac
[[ "$version" =~ ^v[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "usage: scripts/release.sh vX.Y.Z [--push] (got '${version}')"
major="${version%%.*}"

cd "$(dirname "$0")/.."

[[ -z "$(git status --porcelain)" ]] || die "the working tree is not clean: commit or stash first"$'\n'"$(git status --short)"
if git rev-parse -q --verify "refs/tags/${version}" >/dev/null; then
  die "tag ${version} already exists"
fi

echo "release: rebuilding dist/ to compare with the committed one"
npm run --silent bundle
if ! git diff --quiet -- dist/ || [[ -n "$(git status --porcelain -- dist/)" ]]; then
  git status --short -- dist/ >&2
  git checkout -- dist/ 2>/dev/null || true
  git clean -fdq -- dist/ 2>/dev/null || true
  die "dist/ differs from a fresh build of src/: run 'npm run bundle', commit dist/, then release"
fi

echo "release: type check and tests"
npx tsc --noEmit
npx vitest run --project unit
node scripts/gen-readme-io.mjs --check

git tag -a "${version}" -m "${version}"
# The major tag moves with every release of that major version.
git tag -fa "${major}" -m "${major}: ${version}"
echo "release: tagged ${version} and moved ${major} to $(git rev-parse --short HEAD)"

push_commands=("git push origin refs/tags/${version}" "git push --force origin refs/tags/${major}")
if $push; then
  for cmd in "${push_commands[@]}"; do
    echo "+ ${cmd}"
    ${cmd}
  done
else
  echo "release: not pushed. To publish:"
  printf '  %s\n' "${push_commands[@]}"
fi
