#!/usr/bin/env bash
# What the example's pipeline runs, with lrs-ws installed ('lrs-ws[testing]'): the MIS's tests
# against a sandbox the plugin starts, keeping every envelope the MIS sends and receives; then
# `lrs-ws check` on those and on the messages kept in messages/. Reports in reports/ (JUnit).
set -euo pipefail
cd "$(dirname "$0")"
rm -rf captured reports
mkdir -p reports
MIS_CAPTURE_DIR=captured python -m pytest -q -p no:cacheprovider --junitxml=reports/tests.xml "$@"
lrs-ws check captured messages --junit reports/check.xml
