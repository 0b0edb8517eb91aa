#!/usr/bin/env bash
# Regenerates the pictures in docs/ from what goldroot prints today:
# docs/ro-profile.dot (`goldroot plan --dot` of the built-in ro profile) and
# docs/ro-profile.png (that graph rendered by Graphviz). The .dot is
# committed next to the PNG so that tests/cli/docs.bats can tell when the
# picture no longer shows what `plan --dot` prints.
# Usage: tools/render-docs.sh GOLDROOT_BINARY
set -euo pipefail
cd "$(dirname "$0")/.."
goldroot=${1:?usage: tools/render-docs.sh GOLDROOT_BINARY}
"$goldroot" plan --profile profiles/ro.profile --dot >docs/ro-profile.dot.tmp
mv docs/ro-profile.dot.tmp docs/ro-profile.dot
dot -Tpng -Gdpi=96 docs/ro-profile.dot -o docs/ro-profile.png.tmp
mv docs/ro-profile.png.tmp docs/ro-profile.png
echo "docs/ro-profile.dot, docs/ro-profile.png"
