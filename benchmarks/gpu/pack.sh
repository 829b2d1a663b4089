#!/usr/bin/env bash
# Build .gpu/ here: what the lent GPU machine needs beside the repository, under its 64 MiB a
# call. Its image has torch, timm, pluggy, rich, typer, pandas, pyarrow, scikit-learn and
# matplotlib, but not Ray (79 MB, over the limit: check.sh packs runs with plain processes),
# imbalanced-learn, wfdb, nor mads-zoo and its plugins, which travel as wheels; the MIT-BIH
# records travel as one xz archive (90 MB -> 47 MB).
#
#   bash benchmarks/gpu/pack.sh            # then: run `bash benchmarks/gpu/check.sh` there,
#                                          # carrying .gpu (see docs/protocol.md, step 14)
set -euo pipefail
cd "$(dirname "$0")/../.."
PYTHON=${PYTHON:-.venv/bin/python}
DATA=${MADS_ZOO_DATA_DIR:-../shared/data/mitdb}
rm -rf .gpu && mkdir -p .gpu
"$PYTHON" -m pip wheel -q --no-deps --no-build-isolation -w .gpu . plugins/*/
"$PYTHON" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
    --implementation cp --platform manylinux2014_x86_64 -d .gpu \
    "imbalanced-learn==$("$PYTHON" -c 'import imblearn; print(imblearn.__version__)')" \
    "wfdb==$("$PYTHON" -c 'import wfdb; print(wfdb.__version__)')"
tar -C "$(dirname "$DATA")" -cf - "$(basename "$DATA")" | xz -T0 -6 > .gpu/mitdb.tar.xz
du -sh .gpu && ls .gpu
