#!/usr/bin/env bash
# Update the bot's message catalogues: extract the marked texts of watcher/bot, /status's failure labels, /watch's
# syntax and refusals, the alerts and the catch-ups into watcher/locale/watcher.pot, merge them into the French and
# German catalogues, and compile those to the .mo files the bot reads.
#   scripts/catalogues.sh [--help]
# New or changed texts come out untranslated (or marked fuzzy): translate them in the .po files, run it again, and
# commit the .pot, .po and .mo files. tests/test_language.py fails while a text has no translation.
set -euo pipefail
if [[ "${1:-}" == "-h" || "${1:-}" == "--help" ]]; then sed -n '2,7p' "$0" | cut -c3-; exit 0; fi
cd "$(dirname "$0")/.."
pybabel=${PYBABEL:-.venv/bin/pybabel}
locale=watcher/locale
"$pybabel" -q extract --no-location --sort-output --project=watcher --copyright-holder="watcher contributors" \
  -k N_ -o "$locale/watcher.pot" watcher/bot watcher/i18n.py watcher/health.py watcher/matcher/personal.py \
  watcher/notifiers/format.py watcher/notifiers/telegram.py watcher/delivery/backpressure.py
"$pybabel" -q update --width=120 --ignore-obsolete --ignore-pot-creation-date -D watcher -i "$locale/watcher.pot" -d "$locale"
"$pybabel" -q compile --statistics -D watcher -d "$locale"
