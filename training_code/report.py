"""The human side of evaluate.py: one HTML page with the figures of the problem type.

binary      ROC curve, precision-recall curve, confusion matrix (0/1)
multiclass  confusion matrix by class name
regression  residuals against the prediction, residual histogram
"""

from __future__ import annotations

import base64
import html
from pathlib import Path
from typing import Any, NamedTuple

import matplotlib
import numpy as np

matplotlib.use("Agg")  # no display in the container
import matplotlib.pyplot as plt
from problems import BINARY, LAYOUTS, MULTICLASS

SCALARS = {
    BINARY: ("auc", "pr_auc", "accuracy", "precision", "recall", "f1", "log_loss"),
    MULTICLASS: (
        *("accuracy", "weighted_f1", "weighted_precision", "weighted_recall"),
        *("macro_f1", "macro_precision", "macro_recall", "log_loss"),
    ),
    "regression": ("rmse", "mae", "mse", "r2"),
}


class ReportData(NamedTuple):
    """What the figures need beyond evaluation.json: the test rows' targets and scores."""

    problem_type: str
    targets: np.ndarray
    scores: np.ndarray  # P(1), class probabilities or predicted values
    classes: list[str]


def write_report(result: dict[str, Any], output_dir: Path, data: ReportData) -> Path:
    """Write the problem type's PNGs and report.html (images embedded) into output_dir."""
    metrics = result[LAYOUTS[data.problem_type]]
    if data.problem_type == BINARY:
        figures = _binary_figures(metrics)
    elif data.problem_type == MULTICLASS:
        figures = {"confusion_matrix.png": _confusion(metrics["confusion_matrix"])}
    else:
        figures = _regression_figures(data.targets, data.scores)
    for name, figure in figures.items():
        figure.savefig(output_dir / name, dpi=100, bbox_inches="tight")
        plt.close(figure)
    page = output_dir / "report.html"
    page.write_text(_html(result, data.problem_type, [output_dir / name for name in figures]))
    return page


def _binary_figures(metrics: dict[str, Any]) -> dict[str, Any]:
    roc = metrics["receiver_operating_characteristic_curve"]
    pr = metrics["precision_recall_curve"]
    return {
        "roc_curve.png": _curve(
            roc["false_positive_rates"],
            roc["true_positive_rates"],
            "False positive rate",
            "True positive rate",
            f"ROC curve (AUC {metrics['auc']['value']:.3f})",
            diagonal=True,
        ),
        "pr_curve.png": _curve(
            pr["recalls"],
            pr["precisions"],
            "Recall",
            "Precision",
            f"Precision-recall curve (average precision {metrics['pr_auc']['value']:.3f})",
        ),
        "confusion_matrix.png": _confusion(metrics["confusion_matrix"]),
    }


def _regression_figures(targets: np.ndarray, predicted: np.ndarray) -> dict[str, Any]:
    residuals = np.asarray(targets, np.float64) - np.asarray(predicted, np.float64)
    scatter, axes = plt.subplots(figsize=(5.5, 4.5))
    axes.scatter(predicted, residuals, s=12, alpha=0.6)
    axes.axhline(0.0, color="grey", linestyle="--", linewidth=1)
    axes.set(xlabel="Predicted value", ylabel="Residual (actual - predicted)", title="Residuals")
    axes.grid(alpha=0.3)
    histogram, axes = plt.subplots(figsize=(5.5, 4.5))
    axes.hist(residuals, bins=min(30, max(5, len(residuals) // 5)))
    axes.axvline(0.0, color="grey", linestyle="--", linewidth=1)
    axes.set(xlabel="Residual (actual - predicted)", ylabel="Rows", title="Residual histogram")
    return {"residuals.png": scatter, "residual_histogram.png": histogram}


def _curve(x: list, y: list, xlabel: str, ylabel: str, title: str, diagonal: bool = False):
    figure, axes = plt.subplots(figsize=(5, 4.5))
    axes.plot(x, y, linewidth=2)
    if diagonal:
        axes.plot([0, 1], [0, 1], linestyle="--", color="grey", linewidth=1)
    axes.set(xlabel=xlabel, ylabel=ylabel, title=title, xlim=(0, 1), ylim=(0, 1.02))
    axes.grid(alpha=0.3)
    return figure


def _confusion(matrix: dict[str, dict[str, int]]):
    names = list(matrix)
    counts = [[matrix[actual][predicted] for predicted in names] for actual in names]
    size = max(4.5, 0.6 * len(names) + 2.5)
    figure, axes = plt.subplots(figsize=(size, size * 0.9))
    axes.imshow(counts, cmap="Blues")
    top = max(map(max, counts)) or 1
    for row in range(len(names)):
        for column in range(len(names)):
            value = counts[row][column]
            color = "white" if value > top / 2 else "black"
            axes.text(column, row, str(value), ha="center", va="center", color=color)
    ticks = list(range(len(names)))
    axes.set_xticks(ticks, names, rotation=45 if len(names) > 2 else 0, ha="right")
    axes.set_yticks(ticks, names)
    axes.set(xlabel="Predicted label", ylabel="Actual label", title="Confusion matrix")
    return figure


def _html(result: dict[str, Any], problem_type: str, images: list[Path]) -> str:
    metrics = result[LAYOUTS[problem_type]]
    rows = "".join(
        f"<tr><th>{name}</th><td>{metrics[name]['value']:.4f}</td>"
        f"<td>± {metrics[name]['standard_deviation']:.4f}</td></tr>"
        for name in SCALARS[problem_type]
        if name in metrics
    )
    cv = result.get("cross_validation")
    if cv:
        metric = cv["metric"]
        rows += (
            f"<tr><th>{cv['folds']}-fold CV {metric}</th><td>{cv[metric]['value']:.4f}</td>"
            f"<td>± {cv[metric]['standard_deviation']:.4f}</td></tr>"
        )
    figures = "".join(
        f'<figure><img alt="{html.escape(path.stem)}" src="data:image/png;base64,'
        f'{base64.b64encode(path.read_bytes()).decode()}"><figcaption>{path.name}</figcaption>'
        "</figure>"
        for path in images
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Model evaluation</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}
th,td{{padding:4px 12px;text-align:left;border-bottom:1px solid #ddd}}
figure{{display:inline-block;margin:1em}}</style></head><body>
<h1>Model evaluation ({html.escape(problem_type)})</h1>
<p>{_describe(result["dataset"], problem_type)}
Spreads are bootstrap standard deviations.</p>
<table>{rows}</table>
{figures}
</body></html>
"""


def _describe(data: dict[str, Any], problem_type: str) -> str:
    if problem_type == BINARY:
        return (
            f"Test split: {data['rows']} rows, {data['positives']} positive; "
            f"threshold {data['threshold']}."
        )
    if problem_type == MULTICLASS:
        per_class = ", ".join(
            f"{html.escape(name)} {count}" for name, count in data["rows_per_class"].items()
        )
        return f"Test split: {data['rows']} rows ({per_class})."
    return (
        f"Test split: {data['rows']} rows; target mean {data['target_mean']:.4g}, "
        f"standard deviation {data['target_std']:.4g}."
    )
