"""The CI workflow (linted by actionlint, shaped as the deploy needs) and the creators' pre-commit hook."""
from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
WORKFLOW = REPO / ".github" / "workflows" / "deploy.yml"
HOOKS = REPO / ".pre-commit-hooks.yaml"
TEMPLATE = REPO / "functions" / "template.yaml"


class _TaggedLoader(yaml.SafeLoader):
    """Reads CloudFormation's short tags (!Ref, !Sub, ...) as plain values."""


_TaggedLoader.add_multi_constructor("!", lambda loader, suffix, node: None)


@pytest.fixture(scope="module")
def workflow() -> dict[str, Any]:
    data = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    data["on"] = data.pop(True)   # YAML 1.1 reads the key `on` as a boolean
    return data


def _steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return job["steps"]


def _index(steps: list[dict[str, Any]], *, uses: str = "", run: str = "") -> int:
    for i, step in enumerate(steps):
        if (uses and step.get("uses", "").startswith(uses + "@")) or (run and re.search(run, step.get("run", ""))):
            return i
    raise AssertionError(f"no step {'uses ' + uses if uses else 'runs ' + run}")


def _actionlint() -> str:
    found = shutil.which("actionlint") or shutil.which("actionlint", path=str(Path(sys.executable).parent))
    if found is None:
        pytest.fail("actionlint is not installed: pip install -e '.[test]'", pytrace=False)
    return found


def test_actionlint_reports_nothing() -> None:
    result = subprocess.run([_actionlint(), "-no-color", "-oneline", str(WORKFLOW.relative_to(REPO))],
                            cwd=REPO, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr


def test_actionlint_catches_what_it_is_here_for(tmp_path: Path) -> None:
    broken = tmp_path / ".github" / "workflows" / "broken.yml"
    broken.parent.mkdir(parents=True)
    broken.write_text("on: pull_request\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
                      "      - run: echo \"${{ github.event.pull_request.title }}\"\n"
                      "      - uses: actions/checkout@v6\n        with:\n          no-such-input: 1\n",
                      encoding="utf-8")
    result = subprocess.run([_actionlint(), "-no-color", "-oneline", str(broken)], cwd=tmp_path,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "potentially untrusted" in result.stdout and "no-such-input" in result.stdout


def test_pull_requests_run_check_tests_and_a_preview_build(workflow: dict[str, Any]) -> None:
    assert "pull_request" in workflow["on"] and workflow["on"]["push"]["branches"] == ["main"]
    assert workflow["permissions"] == {"contents": "read"}
    steps = _steps(workflow["jobs"]["check"])
    python = steps[_index(steps, uses="actions/setup-python")]
    assert python["with"]["python-version"] == "3.12"
    order = [_index(steps, uses="actions/checkout"), _index(steps, run=r"apt-get install .*chromium"),
             _index(steps, run=r"pip install -e '\.\[test\]'"), _index(steps, run=r"^chuchuang check$"),
             _index(steps, run=r"^python -m pytest -n 2$"), _index(steps, run=r"chuchuang build .*--base-url"),
             _index(steps, uses="actions/upload-artifact")]
    assert order == sorted(order)
    upload = steps[order[-1]]
    preview = steps[order[-2]]
    assert upload["if"] == preview["if"] == "github.event_name == 'pull_request'"
    assert upload["with"]["path"] == "preview/" and "--out preview " in preview["run"]
    assert "--catalog preview-catalog.json" in preview["run"]   # rates stay out of the artifact


def test_main_deploys_the_stack_then_the_site_with_an_oidc_role(workflow: dict[str, Any]) -> None:
    job = workflow["jobs"]["deploy"]
    assert job["needs"] == "check"
    assert "github.ref == 'refs/heads/main'" in job["if"] and "pull_request" in job["if"]
    assert job["permissions"]["id-token"] == "write"
    assert job["concurrency"]["cancel-in-progress"] is False and "${{" not in job["concurrency"]["group"]
    steps = _steps(job)
    credentials = steps[_index(steps, uses="aws-actions/configure-aws-credentials")]
    assert credentials["with"]["role-to-assume"] == "${{ vars.AWS_DEPLOY_ROLE_ARN }}"
    order = [_index(steps, uses="aws-actions/configure-aws-credentials"), _index(steps, uses="aws-actions/setup-sam"),
             _index(steps, run=r"^sam build (-t|--template-file) functions/template\.yaml$"),
             _index(steps, run=r"sam deploy"), _index(steps, run=r"aws cloudformation describe-stacks"),
             _index(steps, uses="actions/cache"), _index(steps, run=r"^chuchuang deploy$")]
    assert order == sorted(order), "cache after sam build (it would be packaged), deploy last"
    cache = steps[_index(steps, uses="actions/cache")]
    assert cache["with"]["path"].rstrip("/") == ".chuchuang-cache"
    deploy = steps[_index(steps, run=r"sam deploy")]["run"]
    assert "--no-fail-on-empty-changeset" in deploy and "--stack-name" in deploy
    text = WORKFLOW.read_text(encoding="utf-8")
    assert "aws-access-key-id" not in text and "AWS_SECRET_ACCESS_KEY" not in text


def test_sam_deploy_passes_every_required_parameter_and_secrets_only_from_secrets(workflow: dict[str, Any]) -> None:
    template = yaml.load(TEMPLATE.read_text(encoding="utf-8"), Loader=_TaggedLoader)
    step = next(s for s in _steps(workflow["jobs"]["deploy"]) if "sam deploy" in s.get("run", ""))
    for name, parameter in template["Parameters"].items():
        if "Default" in parameter:
            continue
        match = re.search(rf'"{name}=\$\{{(\w+)\}}"', step["run"])
        assert match, f"sam deploy does not set the required parameter {name}"
        source = step["env"][match.group(1)]
        if parameter.get("NoEcho"):
            assert source == f"${{{{ secrets.{match.group(1)} }}}}", f"{name} must come from a secret"


def test_the_stack_outputs_read_by_the_workflow_exist(workflow: dict[str, Any]) -> None:
    template = yaml.load(TEMPLATE.read_text(encoding="utf-8"), Loader=_TaggedLoader)
    step = next(s for s in _steps(workflow["jobs"]["deploy"]) if "describe-stacks" in s.get("run", ""))
    read = dict(re.findall(r"echo \"(CHUCHUANG_\w+)=\$\(output (\w+)\)\"", step["run"]))
    assert read == {"CHUCHUANG_BUCKET": "SiteBucketName", "CHUCHUANG_DISTRIBUTION_ID": "DistributionId",
                    "CHUCHUANG_TABLE": "TableName"}
    assert set(read.values()) <= set(template["Outputs"])


def _hook() -> dict[str, Any]:
    (hook,) = [h for h in yaml.safe_load(HOOKS.read_text(encoding="utf-8")) if h["id"] == "chuchuang-check"]
    return hook


def test_pre_commit_hook_selects_content_files() -> None:
    hook = _hook()
    assert (hook["language"], hook["entry"], hook["pass_filenames"]) == ("python", "chuchuang check", True)
    files = re.compile(hook["files"])
    for path in ("content/mei/oolong.md", "content/mei/_index.md", "content/mei/extra.yaml", "content/a/b.yml"):
        assert files.search(path), path
    for path in ("README.md", "templates/page.md", "content/mei/images/a.png", "site.yaml"):
        assert not files.search(path), path


def test_pre_commit_hook_entry_passes_good_files_and_fails_a_bad_one(minimal_site: Path) -> None:
    entry = shlex.split(_hook()["entry"])
    program = shutil.which(entry[0])
    command = [program] if program else [sys.executable, "-m", "generator.cli"]
    files = ["content/mei/oolong.md", "content/mei/_index.md"]

    def run() -> subprocess.CompletedProcess[str]:
        return subprocess.run([*command, *entry[1:], *files], cwd=minimal_site, capture_output=True, text=True,
                              timeout=60)

    good = run()
    assert good.returncode == 0, good.stderr
    product = minimal_site / "content/mei/oolong.md"
    product.write_text(product.read_text(encoding="utf-8").replace("https://shop.weimai.com/item/881",
                                                                   "https://weimai.com.evil.cn/item/881"),
                       encoding="utf-8")
    bad = run()
    assert bad.returncode == 1
    assert re.search(r"content/mei/oolong\.md:3:\d+: .*weimai\.com\.evil\.cn", bad.stderr), bad.stderr
