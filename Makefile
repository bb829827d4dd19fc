# sitegen: `make run` starts the whole local stack, `make test` runs every test. Both set up first.
# `make run MODEL_SIM=1`: every AI task on the model simulator (a hosted model's speed), see README.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PORT ?= 8000
STATE_DIR ?= .sitegen
PYTEST_ARGS ?=
MODEL_SIM ?=

.PHONY: setup run test test-fast lint migrate clean

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(STAMP)

# Tools for tests/deploy only, each in its own virtualenv .venv-<tool> from requirements-<tool>.txt, as
# their pins clash with ours: AWS's SAM transform (an older pydantic), checkov (an older boto3).
SAM_STAMP := .venv-sam/.installed
CHECKOV_STAMP := .venv-checkov/.installed
.venv-%/.installed: requirements-%.txt
	test -x .venv-$*/bin/python || $(PYTHON) -m venv .venv-$*
	.venv-$*/bin/python -m pip install --quiet --disable-pip-version-check -r $<
	touch $@

# axe-core for the dashboard's accessibility tests (tests/browser), from package-lock.json into node_modules/.
NODE_STAMP := node_modules/.installed
$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

setup: $(STAMP) $(SAM_STAMP) $(CHECKOV_STAMP) $(NODE_STAMP)

run: $(STAMP)
	$(PY) -m infra.local --port $(PORT) --state-dir $(STATE_DIR) $(if $(MODEL_SIM),--model-sim,)

test: $(STAMP) $(SAM_STAMP) $(CHECKOV_STAMP) $(NODE_STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

# The gate CI runs before the tests: lint, format and types with the venv's pinned tools (pyproject.toml).
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

# The fast tier: unit tests and the ports' contracts on fakes and in-process moto; no PostgreSQL, no
# servers (tests marked `postgres` or `slow` are left out, see tests/conftest.py).
test-fast: $(STAMP)
	$(PY) -m pytest tests/unit tests/contract -m "not postgres and not slow" $(PYTEST_ARGS)

# Apply database migrations to DATABASE_URL (a deployed stage's database, for example).
migrate: $(STAMP)
	@test -n "$$DATABASE_URL" || (echo "set DATABASE_URL" >&2; exit 2)
	$(PY) -m chalicelib.db.migrate

# Deployment (docs/deployment.md). `make package STAGE=prod`: dist/<stage>/sam.yaml + deployment.zip.
STAGE ?= dev
DIST := dist/$(STAGE)
.PHONY: package deploy

package: $(STAMP)
	$(PY) -m infra.package --stage $(STAGE) --out $(DIST)

# Needs the aws CLI and credentials (cannot run on the CI machine). ARTIFACT_BUCKET: an existing S3 bucket
# for the code and template; PARAMS: "DatabaseSecretArn=arn:... SubnetIds=subnet-a,subnet-b ..." (optional).
deploy: package
	@test -n "$(ARTIFACT_BUCKET)" || (echo "set ARTIFACT_BUCKET=<S3 bucket for code and template>" >&2; exit 2)
	aws cloudformation package --template-file $(DIST)/sam.yaml --s3-bucket $(ARTIFACT_BUCKET) \
		--s3-prefix sitegen/$(STAGE) --output-template-file $(DIST)/packaged.yaml
	aws cloudformation deploy --template-file $(DIST)/packaged.yaml --stack-name sitegen-$(STAGE) \
		--s3-bucket $(ARTIFACT_BUCKET) --s3-prefix sitegen/$(STAGE) --capabilities CAPABILITY_IAM CAPABILITY_AUTO_EXPAND \
		--no-fail-on-empty-changeset $(if $(PARAMS),--parameter-overrides $(PARAMS))
	aws cloudformation describe-stacks --stack-name sitegen-$(STAGE) --query "Stacks[0].Outputs" --output table

# Benchmarks and the performance budget (docs/benchmarks.md): quick (under 3 minutes), or FULL=1.
.PHONY: bench
bench: $(STAMP)
	$(PY) -m bench $(if $(FULL),--full,)

clean:
	rm -rf $(VENV) .venv-sam .venv-checkov node_modules $(STATE_DIR) .pytest_cache
