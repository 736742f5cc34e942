"""Tables from records, and the figures.

Everything here reads records (the lines of results.jsonl), never the
benchmark's arguments, so that ``python -m skanomaly.benchmark.report
results.jsonl`` prints the very table the run printed.

The tables use the runs whose last record is completed or stopped early;
the others (interrupted, diverged, failed) are counted and named below the
table. Each table cell is the mean AUROC over seeds ± the sample standard
deviation (n - 1) over seeds. The **mean** column is the mean over the normal
classes of those per-class means, ± the standard deviation over seeds of the
per-seed class means (the mean over classes of one seed's runs), which is
the spread of the figure a single seed would have given.

When the pixel kNN (``knn``, the baseline) is in the table, a column **vs
knn** gives for every other detector the mean over seeds of the per-seed
difference of its class mean from the kNN's, ± the standard deviation of
those differences, marked ``*`` where the difference exceeds the spread (the
rule below): what a detector adds over the pixel kNN.

The headline line of a table compares the best skanomaly detector with the
best peer (each the highest mean over classes among the detectors that
finished every class), and with the pixel kNN: the per-seed differences of
their class means, and whether the difference **exceeds the spread**: there are at least two seeds,
the per-seed differences all have the same sign, and the absolute mean
difference is larger than the sample standard deviation of the per-seed
differences. With one seed it says "one seed: no spread".
"""

import json

import numpy as np

from ._runner import DONE, scores_path

__all__ = ["FORMATS", "compare", "format_report", "plot_reconstructions", "plot_roc",
           "write_figures"]

FORMATS = ("md", "rst")
_SET = "set"


# --------------------------------------------------------------------------
# markup
# --------------------------------------------------------------------------
class _Markup:
    """Headings, inline code and tables in markdown ('md') or reStructuredText."""

    def __init__(self, fmt):
        if fmt not in FORMATS:
            raise ValueError(f"Unknown format {fmt!r}; known: {', '.join(FORMATS)}.")
        self.fmt = fmt

    def heading(self, text):
        return f"## {text}" if self.fmt == "md" else f"{text}\n{'-' * len(text)}"

    def code(self, text):
        return f"`{text}`" if self.fmt == "md" else f"``{text}``"

    def table(self, header, rows):
        if self.fmt == "md":
            lines = ["| " + " | ".join(header) + " |",
                     "|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|"]
            return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows])
        widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
        rule = "  ".join("=" * w for w in widths)

        def line(row):
            return "  ".join(str(cell).ljust(w) for cell, w in zip(row, widths)).rstrip()

        return "\n".join([rule, line(header), rule, *map(line, rows), rule])


# --------------------------------------------------------------------------
# statistics
# --------------------------------------------------------------------------
def _fmt(values, digits=3):
    """``mean ± sample std`` (just the mean for one value; '–' for none)."""
    values = [v for v in values if v is not None]
    if not values:
        return "–"
    if len(values) == 1:
        return f"{values[0]:.{digits}f}"
    return f"{np.mean(values):.{digits}f} ± {np.std(values, ddof=1):.{digits}f}"


def _fmt_rate(values):
    values = [v for v in values if v is not None]
    if not values:
        return "–"
    mean = float(np.mean(values))
    return f"{mean:,.0f}" if mean >= 100 else f"{mean:.2f}" if mean < 10 else f"{mean:.1f}"


def _class_means(runs, classes, metric):
    """``(mean over classes of the per-class means, {seed: class mean}, n classes)``.

    The per-seed class means only for the seeds that have every class.
    """
    by_class = {c: [r.get(metric) for r in runs if r["normal_class"] == c] for c in classes}
    means = [float(np.mean(v)) for v in ([x for x in vs if x is not None]
                                         for vs in by_class.values()) if v]
    per_seed = {}
    for seed in sorted({r["seed"] for r in runs}):
        values = {r["normal_class"]: r.get(metric) for r in runs if r["seed"] == seed}
        if all(values.get(c) is not None for c in classes):
            per_seed[seed] = float(np.mean([values[c] for c in classes]))
    return (float(np.mean(means)) if means else None), per_seed, len(means)


def _fmt_class_mean(runs, classes, metric, bold=False):
    mean, per_seed, n = _class_means(runs, classes, metric)
    if mean is None:
        return "–"
    text = f"{mean:.3f}"
    if len(per_seed) > 1:
        text += f" ± {np.std(list(per_seed.values()), ddof=1):.3f}"
    if bold:
        text = f"**{text}**"
    if n < len(classes):
        text += f" ({n} of {len(classes)} classes)"
    return text


def compare(a, b):
    """The per-seed differences of two ``{seed: class mean}`` and the spread rule.

    Parameters
    ----------
    a, b : dict
        Per-seed class means of two detectors.

    Returns
    -------
    differences : dict
        ``{seed: a - b}`` over the seeds both have.
    verdict : str
        'yes', 'no' or 'one seed: no spread' (see the module docstring for
        the rule), followed by the reason.
    """
    diffs = {s: a[s] - b[s] for s in sorted(set(a) & set(b))}
    values = np.array(list(diffs.values()))
    if len(values) == 0:
        return diffs, "no seed with every class for both"
    if len(values) == 1:
        return diffs, "one seed: no spread"
    mean, std = abs(values.mean()), values.std(ddof=1)
    same_sign = bool((values > 0).all() or (values < 0).all())
    if same_sign and mean > std:
        return diffs, (f"yes (every seed the same sign, and the mean's size {mean:.3f} > "
                       f"the std {std:.3f} of the per-seed differences)")
    reason = "the seeds disagree in sign" if not same_sign else (
        f"the mean's size {mean:.3f} <= the std {std:.3f} of the per-seed differences")
    return diffs, f"no ({reason})"


# --------------------------------------------------------------------------
# tables
# --------------------------------------------------------------------------
def _row_key(record):
    return record["detector"], json.dumps(record["config"].get(_SET) or {}, sort_keys=True)


def _row_label(record):
    overrides = record["config"].get(_SET) or {}
    if not overrides:
        return record["detector"]
    return record["detector"] + " (" + ", ".join(f"{k}={v!r}" for k, v in
                                                  overrides.items()) + ")"


def _section_key(record):
    config = {k: v for k, v in record["config"].items() if k != _SET}
    return json.dumps([record["dataset"], record["protocol"], config], sort_keys=True)


def _class_label(names, c):
    if names and 0 <= int(c) < len(names) and names[int(c)] != str(c):
        return f"{c} ({names[int(c)]})"
    return str(c)


def _unique(values):
    return list(dict.fromkeys(values))


#: the row every other is compared with: the pixel kNN at its defaults
BASELINE = "knn"


def _vs_baseline(runs, baseline, classes):
    """``+d ± s`` (``*`` where it exceeds the spread): per-seed class means minus the kNN's."""
    if baseline is None or runs is baseline:
        return "–"
    diffs, verdict = compare(_class_means(runs, classes, "auroc")[1],
                             _class_means(baseline, classes, "auroc")[1])
    if not diffs:
        return "–"
    values = list(diffs.values())
    text = f"{np.mean(values):+.3f}"
    if len(values) > 1:
        text += f" ± {np.std(values, ddof=1):.3f}"
    return text + ("*" if verdict.startswith("yes") else "")


def _headline(mk, rows, classes, protocol):
    best = {}
    for kind in ("skanomaly", "peer"):
        candidates = []
        for label, runs in rows.items():
            if runs and runs[0]["kind"] == kind:
                mean, per_seed, n = _class_means(runs, classes, "auroc")
                if mean is not None and n == len(classes) and per_seed:
                    candidates.append((mean, label, per_seed))
        if candidates:
            best[kind] = max(candidates, key=lambda item: item[0])
    if len(best) < 2:
        missing = " and ".join(k if k == "peer" else "skanomaly detector"
                               for k in ("skanomaly", "peer") if k not in best)
        return f"Headline ({protocol}): no {missing} finished every class: no comparison."
    (m_a, a, seeds_a), (m_b, b, seeds_b) = best["skanomaly"], best["peer"]
    text = (f"Headline ({protocol}, AUROC mean over {len(classes)} class(es)): best "
            f"skanomaly detector {mk.code(a)} {m_a:.3f} vs best peer {mk.code(b)} "
            f"{m_b:.3f}: " + _difference(seeds_a, seeds_b))
    baseline = rows.get(BASELINE)
    if baseline:
        m_k, seeds_k, n = _class_means(baseline, classes, "auroc")
        if m_k is not None and n == len(classes):
            text += (f" Against the pixel kNN {mk.code(BASELINE)} {m_k:.3f}: "
                     + _difference(seeds_a, seeds_k))
    return text


def _difference(seeds_a, seeds_b):
    diffs, verdict = compare(seeds_a, seeds_b)
    per_seed = ", ".join(f"seed {s}: {d:+.3f}" for s, d in diffs.items())
    mean = f"{np.mean(list(diffs.values())):+.3f}" if diffs else "–"
    return f"difference {mean} ({per_seed}); exceeds the spread: {verdict}."


def _breakdown(mk, rows, classes, names):
    parts = []
    for c in classes:
        anomaly_classes = sorted(
            {int(a) for runs in rows.values() for r in runs if r["normal_class"] == c
             for a in (r.get("auroc_per_class") or {})})
        if not anomaly_classes:
            continue
        split_seen = any(r["normal_class"] == c and r.get("unseen_classes")
                         for runs in rows.values() for r in runs)
        table = []
        for label, runs in rows.items():
            mine = [r for r in runs if r["normal_class"] == c]
            if not mine:
                continue
            groups = [(label, lambda r, a: True)]
            if split_seen:
                groups = [(f"{label}, seen", lambda r, a: a in (r.get("known_classes") or [])),
                          (f"{label}, unseen", lambda r, a: a in (r.get("unseen_classes") or []))]
            for row_label, chosen in groups:
                table.append([row_label] + [
                    _fmt([r["auroc_per_class"].get(str(a)) for r in mine if chosen(r, a)])
                    for a in anomaly_classes])
        text = (f"Per anomaly class, normal class {_class_label(names, c)}: AUROC of the "
                "normal images against the images of each anomaly class (mean ± std over "
                "seeds)")
        if split_seen:
            text += ("; the 'seen' rows average the seeds in which that class gave the "
                     "labelled anomalies, the 'unseen' rows the others")
        parts += [text + ".", mk.table(["detector"] + [str(a) for a in anomaly_classes],
                                       table)]
    legend = ", ".join(f"{i}: {n}" for i, n in enumerate(names or []) if n != str(i))
    if parts and legend:
        parts.append(f"Classes: {legend}.")
    return parts


def _kind_breakdown(mk, rows, classes, names):
    """Per normal class, a table of the image and pixel AUROC per defect kind."""
    parts = []
    for c in classes:
        kinds = sorted({k for runs in rows.values() for r in runs if r["normal_class"] == c
                        for k in (r.get("auroc_per_kind") or {})})
        if not kinds:
            continue
        seen_split = any(r["normal_class"] == c and r.get("unseen_kinds")
                         for runs in rows.values() for r in runs)
        table = []
        for label, runs in rows.items():
            mine = [r for r in runs if r["normal_class"] == c]
            if not mine:
                continue
            groups = [(label, lambda r, k: True)]
            if seen_split:
                groups = [(f"{label}, seen", lambda r, k: k in (r.get("known_kinds") or [])),
                          (f"{label}, unseen",
                           lambda r, k: k in (r.get("unseen_kinds") or []))]
            for row_label, chosen in groups:
                for metric, name in (("auroc_per_kind", "image"),
                                     ("pixel_auroc_per_kind", "pixel")):
                    cells = [_fmt([(r.get(metric) or {}).get(k) for r in mine if chosen(r, k)])
                             for k in kinds]
                    if any(cell != "–" for cell in cells):
                        table.append([f"{row_label} ({name})"] + cells)
        text = (f"Per defect kind, normal class {_class_label(names, c)}: image AUROC of the "
                "normal images against the images with a defect of that kind, and pixel "
                "AUROC over those images (mean ± std over seeds)")
        if seen_split:
            text += ("; the 'seen' rows average the seeds in which that kind was among the "
                     "labelled defects, the 'unseen' rows the others")
        parts += [text + ".", mk.table(["detector"] + kinds, table)]
    return parts


def _format_section(mk, records, breakdown):
    first = records[0]
    config = {k: v for k, v in first["config"].items() if k != _SET}
    classes = sorted({r["normal_class"] for r in records})
    seeds = sorted({r["seed"] for r in records})
    names = next((r.get("class_names") for r in records if r.get("class_names")), None)
    done = [r for r in records if r["status"] in DONE]
    left_out = [r for r in records if r["status"] not in DONE]
    rows = {}
    for r in records:
        rows.setdefault(_row_key(r), (_row_label(r), []))[1].append(r)
    rows = {label: [r for r in runs if r["status"] in DONE] for label, runs in rows.values()}

    evaluated = ("the official test set" if config.get("evaluate", "test") == "test"
                 else "a validation set carved from the official training split")
    if "crop_size" in config:  # textures
        evaluated = (f"the {config.get('evaluate', 'test')} crops (a region of each "
                     "photograph of their own, half of them with a defect)")
    devices = ", ".join(str(d) for d in _unique(r.get("device") for r in records))
    threads = ", ".join(str(n) for n in _unique(r.get("n_threads") for r in records))
    settings = ", ".join(f"{k}={v}" for k, v in config.items()
                         if k != "evaluate" and v not in (None, False))
    commands = _unique(r.get("command") for r in records if r.get("command"))
    text = [
        mk.heading(f"{first['dataset']}, {first['protocol']} protocol, "
                   f"{config.get('evaluate', 'test')} set"),
        f"AUROC on {evaluated}, per normal class: mean ± sample std over seeds "
        f"{', '.join(map(str, seeds))}; mean: over classes, ± the std over seeds of "
        f"the per-seed class means. Fit seconds and scoring images/s: means over the "
        f"runs, on device {devices} with n_threads {threads}."
        + (f" Settings: {settings}." if settings else ""),
    ]
    text += [mk.code(c) for c in commands]

    unseen = any(r.get("auroc_unseen") is not None for r in done)
    pixel = any(r.get("pixel_auroc") is not None for r in done)
    by_kind = any(r.get("unseen_kinds") for r in done)
    header = ["detector"] + [str(c) for c in classes] + ["mean"]
    header += ["seen", "unseen"] if unseen else []
    header += ["pixel AUROC", "AUPRO"] if pixel else []
    baseline = rows.get(BASELINE) or None
    header += ["vs knn"] if baseline else []
    header += ["fit s", "score img/s"]
    table = []
    for label, runs in rows.items():
        if not runs:
            continue
        row = [label]
        for c in classes:
            row.append(_fmt([r["auroc"] for r in runs if r["normal_class"] == c]))
        row.append(_fmt_class_mean(runs, classes, "auroc", bold=True))
        if unseen:
            row += [_fmt_class_mean(runs, classes, "auroc_seen"),
                    _fmt_class_mean(runs, classes, "auroc_unseen")]
        if pixel:
            row += [_fmt_class_mean(runs, classes, "pixel_auroc"),
                    _fmt_class_mean(runs, classes, "aupro")]
        if baseline:
            row.append(_vs_baseline(runs, baseline, classes))
        row += [_fmt_rate([r["fit_seconds"] for r in runs]),
                _fmt_rate([r["score_images_per_s"] for r in runs])]
        table.append(row)
    text.append(mk.table(header, table) if table else "No run finished.")
    legend = ", ".join(_class_label(names, c) for c in classes if _class_label(names, c) != str(c))
    if legend:
        text.append(f"Normal classes: {legend}.")
    if unseen:
        text.append("seen / unseen: AUROC of the normal images against the anomalies of "
                    + ("the defect kinds the labelled defects had, and of the others."
                       if by_kind else
                       "the classes the labelled anomalies were drawn from, and of the "
                       "others."))
    if pixel:
        text.append("The class columns and mean are the image AUROC (normal images "
                    "against images with a defect); pixel AUROC: of the anomaly maps "
                    "against the defect masks, over every pixel of the evaluation images; "
                    "AUPRO: MVTec AD's per-region overlap up to a false-positive rate of "
                    "0.3, normalised (mean over classes; '–' for detectors without "
                    "anomaly_map).")
    text.append(_headline(mk, rows, classes, first["protocol"]))
    if left_out:
        counts = ", ".join(f"{n} {s}" for s, n in
                           ((s, sum(r["status"] == s for r in left_out))
                            for s in _unique(r["status"] for r in left_out)))
        runs = "; ".join(f"{r['detector']} (class {r['normal_class']}, seed {r['seed']}, "
                         f"{r['status']}" + (f": {r['error']}" if r.get("error") else "") + ")"
                         for r in left_out)
        text.append(f"Left out of the table: {len(left_out)} run(s) not completed "
                    f"({counts}): {runs}.")
    if breakdown:
        kinds = any(r.get("auroc_per_kind") for r in done)
        text += (_kind_breakdown(mk, rows, classes, names) if kinds
                 else _breakdown(mk, rows, classes, names))
    return "\n\n".join(text)


def format_report(records, *, fmt="md", breakdown=False):
    """The tables of a benchmark's records, one section per protocol and settings.

    Parameters
    ----------
    records : iterable of dict
        The last record of each run (see ``_runner.latest``), in file order.
    fmt : {'md', 'rst'}, default='md'
        Markdown or reStructuredText.
    breakdown : bool, default=False
        Add the per-anomaly-class tables.

    Returns
    -------
    text : str
    """
    mk = _Markup(fmt)
    sections = {}
    for record in records:
        if "status" not in record or "kind" not in record:
            raise ValueError(
                "A record without a status: it was written by an older benchmark, "
                "which recorded interrupted fits as finished; run the benchmark again.")
        sections.setdefault(_section_key(record), []).append(record)
    if not sections:
        return "No records.\n"
    return "\n\n".join(_format_section(mk, rs, breakdown) for rs in sections.values()) + "\n"


# --------------------------------------------------------------------------
# figures
# --------------------------------------------------------------------------
def _matplotlib_figure(**kwargs):
    """A matplotlib Figure drawn by the Agg canvas (no pyplot, no global backend)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(**kwargs)
    FigureCanvasAgg(fig)
    return fig


def plot_roc(curves, title, path):
    """ROC curves, one per detector: ``curves`` maps name -> (y_eval, scores)."""
    from sklearn.metrics import roc_auc_score, roc_curve

    fig = _matplotlib_figure(figsize=(5.5, 5), layout="constrained")
    ax = fig.add_subplot()
    for name, (y, scores) in curves.items():
        # anomalies are the positive class; lower score_samples is more abnormal
        fpr, tpr, _ = roc_curve(y == -1, -scores)
        ax.plot(fpr, tpr, label=f"{name} ({roc_auc_score(y, scores):.3f})")
    ax.plot([0, 1], [0, 1], color="0.7", linestyle=":", linewidth=1)
    ax.set(xlabel="false positive rate", ylabel="true positive rate (anomalies)",
           title=title, xlim=(0, 1), ylim=(0, 1.01))
    ax.legend(loc="lower right", fontsize="small", title="AUROC")
    fig.savefig(path, dpi=120)


def _as_2d(image):
    """One image as a 2-D (grey) or (H, W, 3) array in [0, 1] for imshow."""
    image = np.asarray(image)
    image = image.astype(np.float32) / (255.0 if image.dtype == np.uint8 else 1.0)
    if image.ndim == 3:
        image = image[0] if image.shape[0] == 1 else np.moveaxis(image[:3], 0, -1)
    return np.clip(image, 0, 1) if image.ndim == 3 else image


def plot_reconstructions(originals, reconstructions, title, path):
    """A grid: the evaluation images on top, then one row per detector's reconstructions."""
    rows = [("input", originals)] + list(reconstructions.items())
    n = len(originals)
    fig = _matplotlib_figure(figsize=(1.1 * n + 1.2, 1.2 * len(rows) + 0.4),
                             layout="constrained")
    axes = fig.subplots(len(rows), n, squeeze=False)
    for i, (name, images) in enumerate(rows):
        for j in range(n):
            ax = axes[i, j]
            ax.imshow(_as_2d(images[j]), cmap="gray", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
            if j == 0:
                ax.set_ylabel(name, fontsize="small")
            if i == 0:
                ax.set_title("normal" if j < n // 2 else "anomaly", fontsize="small")
    fig.suptitle(title)
    fig.savefig(path, dpi=100)


def write_figures(out, records, log=print):
    """roc.png and reconstructions.png for the first class and seed of ``records``.

    Parameters
    ----------
    out : path-like
        The benchmark's output folder (its ``scores/`` are read).
    records : list of dict
        The records of the benchmark.
    log : callable, default=print

    Returns
    -------
    written : list of Path
    """
    from pathlib import Path

    from ._runner import run_key

    try:
        import matplotlib  # noqa: F401
    except ImportError:
        log("matplotlib is not installed: no figures.")
        return []
    out = Path(out)
    done = [r for r in records if r["status"] in DONE]
    if not done:
        return []
    c, seed = done[0]["normal_class"], done[0]["seed"]
    curves, recon, originals = {}, {}, None
    for r in done:
        path = scores_path(out, run_key(r))
        if (r["normal_class"], r["seed"]) != (c, seed) or not path.exists():
            continue
        label = _row_label(r)
        with np.load(path) as saved:
            curves[label] = (saved["y_eval"], saved["scores"])
            if "reconstructions" in saved:
                recon[label] = saved["reconstructions"]
                originals = saved["originals"]
    title = (f"{done[0]['dataset']}, normal class {_class_label(done[0].get('class_names'), c)}"
             f", seed {seed}")
    written = []
    if curves:
        plot_roc(curves, title, out / "roc.png")
        written.append(out / "roc.png")
    if recon:
        plot_reconstructions(originals, recon, title, out / "reconstructions.png")
        written.append(out / "reconstructions.png")
    return written
