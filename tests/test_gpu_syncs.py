"""IL403 (opt-in) beyond the harness examples: keys count every call, stale allowlist
entries, one call level with its related location and precision, and the shapes that
are not per-iteration syncs."""

from __future__ import annotations

import textwrap
from pathlib import Path

from integ_lint import api
from integ_lint.findings import Finding


def _project(root: Path, files: dict[str, str], config: str = "") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text(
        '[project]\nname = "demo"\nversion = "0"\n\n[tool.integ-lint]\n'
        'select = ["IL403"]\n\n' + textwrap.dedent(config)
    )
    for name, source in {"pkg/__init__.py": "", **files}.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source))
    return root


def _findings(root: Path) -> list[Finding]:
    report = api.check([root], select=["IL403"], jobs=1)
    assert not report.incomplete, [n.message for n in report.notifications]
    return report.findings


def _keys(findings: list[Finding]) -> list[str]:
    return [f.property_dict().get("allowlist_key", "") for f in findings]


LOOP = """\
import torch


def fit(model, batches, opt):
    first = model(batches[0]).item()
    for batch in batches:
        loss = model(batch)
        loss.backward()
        opt.step()
        print(loss.item())
    return first
"""


def test_il403_is_opt_in() -> None:
    root_selected = api.check([Path("fixtures/gpu_trainer")], select=["IL4"], jobs=1)
    assert not any(f.code == "IL403" for f in root_selected.findings)


def test_keys_count_every_call_of_the_pattern_not_only_reported_ones(tmp_path: Path) -> None:
    found = _findings(_project(tmp_path, {"pkg/train.py": LOOP}))
    # The straight-line `.item()` before the loop is call 1, unreported.
    assert [(f.line, k) for f, k in zip(found, _keys(found))] == [(10, "pkg/train.py:fit:item:2")]


def test_an_entry_matching_an_unreported_call_is_not_stale(tmp_path: Path) -> None:
    config = """
    [[tool.integ-lint.gpu.allowlist]]
    key = "pkg/train.py:fit:item:1"
    owner = "alice"
    reason = "the first loss, once"
    """
    assert len(_findings(_project(tmp_path, {"pkg/train.py": LOOP}, config))) == 1


def test_an_entry_matching_no_call_is_reported_at_the_entry(tmp_path: Path) -> None:
    config = """
    [[tool.integ-lint.gpu.allowlist]]
    key = "pkg/train.py:fit:item:3"
    owner = "alice"
    reason = "gone"
    """
    found = _findings(_project(tmp_path, {"pkg/train.py": LOOP}, config))
    stale = [f for f in found if f.path == "pyproject.toml"]
    assert len(stale) == 1
    assert "matches no host synchronisation" in stale[0].message
    assert stale[0].line == 10  # the `key = ...` line of the entry


def test_one_call_level_names_the_loop_and_is_medium_precision(tmp_path: Path) -> None:
    files = {
        "pkg/metrics.py": """\
            import torch

            def accuracy(logits, labels):
                return (logits.argmax(-1) == labels).float().mean().item()
            """,
        "pkg/trainer.py": """\
            from pkg.metrics import accuracy

            class Trainer:
                def fit(self, batches):
                    for batch in batches:
                        logits = self.model(batch)
                        print(self.score(logits, batch))

                def score(self, logits, batch):
                    return accuracy(logits, batch.labels)
            """,
        "tests/test_metrics.py": """\
            from pkg.metrics import accuracy

            def test_accuracy(cases):
                for logits, labels in cases:
                    assert accuracy(logits(), labels) == 1.0
            """,
    }
    found = _findings(_project(tmp_path, files))
    # score() has no sync of its own; accuracy() is two calls below the loop and
    # the test's loop is not a caller that counts.
    assert found == []
    files["pkg/trainer.py"] = files["pkg/trainer.py"].replace(
        "print(self.score(logits, batch))", "print(accuracy(logits, batch.labels))"
    )
    (found,) = _findings(_project(tmp_path / "direct", files))
    assert found.path == "pkg/metrics.py" and found.line == 4
    assert found.property_dict()["precision"] == "medium"
    assert [(r.path, r.span.start_line) for r in found.related] == [("pkg/trainer.py", 7)]


def test_shapes_that_are_not_per_iteration_syncs(tmp_path: Path) -> None:
    source = """\
    import numpy as np
    import torch


    def fit(model, batches, opt, log_every):
        for step, batch in enumerate(batches):
            loss = model(batch)
            loss.backward()
            opt.step()
            if not torch.isfinite(loss):
                raise FloatingPointError(loss.item())
            if step % log_every == 0:
                print(loss.item())
            host = loss.detach().cpu().numpy()
            print(host.tolist(), np.asarray(host).tolist())


    def convert(metrics):
        for key, value in metrics.items():
            metrics[key] = value.item()  # no device work in this loop


    def offload_weights(params, folder):
        for name, param in params.items():
            model_state = param.to("cpu")
            np.save(folder / name, model_state.numpy())
    """
    found = _findings(_project(tmp_path, {"pkg/train.py": source}))
    # Only the `.cpu().numpy()` chain of the step loop: one sync.
    assert [(f.line, _keys([f])[0]) for f in found] == [(14, "pkg/train.py:fit:numpy:1")]
