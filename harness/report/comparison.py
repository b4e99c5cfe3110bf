"""The comparison report: comparison.html, .md and -junit.xml from one comparison.json.

`harness compare` runs two versions in alternating repetitions and saves its figures and
verdicts in comparison.json (harness.comparison_record); this reads that file alone, so the
report can be rebuilt offline from a copied folder, and renders what it says without
judging anything again. Every string is redacted once on the way in, as the run report does.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from harness.comparison_record import COMPARISON, ComparisonFile, read_comparison
from harness.errors import ConfigError
from harness.record import RESULTS, field_path
from harness.report.comparison_junit import render_comparison_junit
from harness.report.comparison_page import render_comparison_page
from harness.report.comparison_summary import render_comparison_summary
from harness.report.redact import redact_text

COMPARISON_OUTPUTS = ("comparison.html", "comparison.md", "comparison-junit.xml")
FOLDER_HINT = "give the folder `harness compare` wrote, e.g. `harness report reports/<compare-id>`"


def is_comparison_folder(folder: Path) -> bool:
    """A folder `harness compare` wrote: comparison.json there, and no run's results.json."""
    return (folder / COMPARISON).is_file() and not (folder / RESULTS).exists()


def _scrubbed(value: Any) -> Any:
    """JSON-like data with every string redacted.

    Not report.redact.redact: that masks the value of any key that looks secret, and here
    keys are endpoint names ("POST /auth/token") whose values are figures.
    """
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {redact_text(str(k)): _scrubbed(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrubbed(v) for v in value]
    return value


def load_comparison(folder: Path) -> ComparisonFile:
    """The folder's comparison.json, redacted; ConfigError (message and hint) when unusable."""
    path = folder / COMPARISON
    if not folder.is_dir():
        raise ConfigError(f"there is no comparison folder at {folder}", FOLDER_HINT)
    try:
        comparison = read_comparison(folder)
    except FileNotFoundError:
        raise ConfigError(
            f"{folder} has no {COMPARISON}",
            "the comparison did not finish: run `harness compare` again, or give the folder "
            "of one that did",
        ) from None
    except OSError as exc:
        raise ConfigError(
            f"cannot read {path} ({exc.strerror})", "check the file's permissions"
        ) from None
    except UnicodeDecodeError:
        raise ConfigError(
            f"{path} is not UTF-8 text", f"it should be the {COMPARISON} `harness compare` wrote"
        ) from None
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_input=False)
        first = errors[0]
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise ConfigError(
            f"{path} does not fit the comparison model: "
            f"{field_path(first['loc'])}: {first['msg']}{more}",
            "rebuild the report with the harness version that ran the comparison; "
            "was the file edited by hand?",
        ) from None
    except ValueError as exc:
        raise ConfigError(
            f"{path} is not valid JSON ({exc})",
            f"it should be the {COMPARISON} `harness compare` wrote; was it cut short?",
        ) from None
    return ComparisonFile.model_validate(_scrubbed(comparison.model_dump(mode="json")))


def write_outputs(folder: Path, outputs: Sequence[tuple[str, str]]) -> list[Path]:
    """Write each (name, content) into `folder`: a temporary file, then a rename."""
    written = []
    for name, content in outputs:
        path = folder / name
        # so a viewer or CI step never reads half a file
        tmp = path.with_name(f".{name}.tmp")
        try:
            tmp.write_text(content, encoding="utf-8")
            tmp.replace(path)
        except OSError as exc:
            raise ConfigError(
                f"cannot write {path} ({exc.strerror})",
                "copy the folder somewhere writable and build the report there",
            ) from None
        written.append(path)
    return written


def build_comparison_report(folder: Path) -> list[Path]:
    """Write comparison.html, comparison.md and comparison-junit.xml into `folder`.

    Raises ConfigError when the folder or its comparison.json is missing or unreadable.
    """
    folder = Path(folder)
    comparison = load_comparison(folder)
    rendered = (
        render_comparison_page(comparison),
        render_comparison_summary(comparison),
        render_comparison_junit(comparison),
    )
    return write_outputs(folder, list(zip(COMPARISON_OUTPUTS, rendered, strict=True)))
