# The two commands: `make run` and `make test`. Both create .venv and install on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	mkdir -p data drops/inbox
	$(BIN)/newswatch --settings settings.toml run

lint: $(STAMP)
	$(BIN)/ruff check daemon alerts storage tests bench
	$(BIN)/mypy daemon alerts storage

test: lint
	$(BIN)/pytest

bench: $(STAMP)
	for script in bench/*.py; do \
		case $$script in bench/corpus.py|bench/corpora.py|bench/stories_corpus.py) continue;; esac; \
		$(BIN)/python $$script || exit 1; \
	done

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
